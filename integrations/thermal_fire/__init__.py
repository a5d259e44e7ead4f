"""Forest-fire early detection from thermal towers: set-up and unload (the work is in manager.py)."""

from __future__ import annotations

import logging
from typing import Any

from hub.core import Hub, HubKey
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .config import CONFIG_SCHEMA
from .const import DOMAIN, EVENT_FIRE_CLEARED, EVENT_FIRE_DETECTED, EVENT_FIRE_UPDATED
from .drill import async_register_drill
from .manager import ThermalFireManager
from .services import async_register_services

__all__ = [
    "CONFIG_SCHEMA",
    "DOMAIN",
    "EVENT_FIRE_CLEARED",
    "EVENT_FIRE_DETECTED",
    "EVENT_FIRE_UPDATED",
    "async_setup",
    "async_unload",
]

_LOGGER = logging.getLogger(__name__)

DATA_KEY: HubKey[ThermalFireManager] = HubKey(DOMAIN)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Start the towers: terrain, workers, scan loops, entities and services."""
    manager = ThermalFireManager(hub, config)
    hub.data[DATA_KEY] = manager
    try:
        await manager.async_setup()
    except BaseException:
        await manager.async_unload()
        hub.data.pop(DATA_KEY, None)
        raise
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub, manager):
        handle.async_on_unload(remover)
    handle.async_on_unload(async_register_drill(hub))  # drills: the only way a person runs the fire chain
    _LOGGER.info("Thermal fire detection: %d tower(s)", len(manager.towers))
    return True


async def async_unload(hub: Hub) -> bool:
    """Remove the services, stop scanning and the workers; the loader removes the entities."""
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    manager = hub.data.pop(DATA_KEY, None)
    if manager is not None:
        await manager.async_unload()
    return True
