"""Outside agencies: signed webhooks out (JSON or CAP 1.2, through the durable outbox) and in (/api/webhook/{id})."""

from __future__ import annotations

import logging
from typing import Any

from hub.const import EVENT_HUB_STOP
from hub.core import Event, Hub
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .config import CONFIG_SCHEMA, AgenciesConfig
from .const import DOMAIN
from .inbound import InboundHandler, async_register_inbound_view
from .manager import DATA_MANAGER, AgencyManager
from .services import async_register_services
from .views import async_register_views

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload"]

_LOGGER = logging.getLogger(__name__)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Start delivering to the configured agencies and accepting their webhooks (the recorder is required)."""
    manager = AgencyManager(hub, AgenciesConfig.from_config(config))
    hub.data[DATA_MANAGER] = manager
    await manager.async_setup()
    handle = async_get_setup_handle(hub, DOMAIN)
    if manager.webhooks:
        inbound = manager.inbound = InboundHandler(manager)
        handle.async_on_unload(inbound.async_shutdown)
    for remover in async_register_services(hub, manager):
        handle.async_on_unload(remover)
    async_register_inbound_view(hub)
    async_register_views(hub)

    async def _async_stop(_event: Event) -> None:
        await async_drain_setup_handle(hub, DOMAIN)
        await manager.async_unload()

    handle.async_on_unload(hub.bus.async_listen_once(EVENT_HUB_STOP, _async_stop))
    _LOGGER.info("Set up %d agencies (%d accept webhooks)", len(manager.agencies), len(manager.webhooks))
    return True


async def async_unload(hub: Hub) -> bool:
    """Stop delivering (queued messages stay in the outbox), remove the services, close the HTTP session."""
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    manager = hub.data.pop(DATA_MANAGER, None)
    if manager is not None:
        await manager.async_unload()
    return True
