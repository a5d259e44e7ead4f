"""Variable message signs: `panel` entities, panel.display/panel.clear, MQTT and NTCIP drivers, DATEX II.

Queued messages survive a restart (integrations.panels.storage).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hub.core import Hub, HubKey
from hub.helpers.entity_platform import async_add_entities, async_remove_entities
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle
from integrations.mqtt.instance import site_topic_prefix

from .config import CONFIG_SCHEMA, DatexSettings, PanelConfig
from .const import DOMAIN
from .datex2 import DATEX_SETTINGS, async_register_datex2_view, build_vms_publication
from .driver import create_driver
from .entity import PanelEntity
from .services import async_register_services
from .storage import PanelMessageStore

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "async_unload", "build_vms_publication"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class PanelsData:
    """What unload flushes (what setup registered is on its setup handle)."""

    store: PanelMessageStore | None = None


DATA_KEY: HubKey[PanelsData] = HubKey(DOMAIN)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create a panel entity per configured sign, register the services and the DATEX II view."""
    data = PanelsData()
    hub.data[DATA_KEY] = data
    settings = DatexSettings.from_config(config["datex2"])
    hub.data[DATEX_SETTINGS] = settings
    prefix = site_topic_prefix(hub)
    panels = [PanelConfig.from_config(item, prefix) for item in config["panels"]]
    entities = [PanelEntity(panel, create_driver(hub, panel)) for panel in panels]
    store = data.store = PanelMessageStore(hub, lambda: ((e.panel_id, e.stored_queue()) for e in entities))
    stored = await store.async_load()
    added = await async_add_entities(hub, DOMAIN, entities)
    for entity in entities:
        entity.on_queue_change = store.async_schedule_save
        if entity.panel_id in stored:
            await entity.async_restore(stored.pop(entity.panel_id))
    for panel_id in stored:
        _LOGGER.warning("Stored messages of panel %s dropped: it is no longer configured", panel_id)
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub):
        handle.async_on_unload(remover)
    async_register_datex2_view(hub, settings.public)
    _LOGGER.info("Set up %d panels", len(added))
    return True


async def async_unload(hub: Hub) -> bool:
    """Remove the services and the panels (their drivers stop, timers are cancelled)."""
    data = hub.data.pop(DATA_KEY, None)
    hub.data.pop(DATEX_SETTINGS, None)
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    if data is not None and data.store is not None:
        await data.store.async_flush()
    await async_remove_entities(hub, DOMAIN)
    return True
