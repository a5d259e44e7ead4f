"""Automatic number plate recognition: cameras, plate reads, hotlists, traffic figures (see docs/anpr.md)."""

from __future__ import annotations

import logging
from typing import Any

from hub.core import Hub, HubKey
from hub.helpers.entity_platform import async_add_entities, async_remove_entities
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .api import async_register_views
from .config import CONFIG_SCHEMA
from .const import DOMAIN, EVENT_HOTLIST_HIT, EVENT_PLATE_READ
from .entity import (
    AcceptanceSensor,
    CongestionSensor,
    HotlistSizeSensor,
    JourneySpeedSensor,
    JourneyTimeSensor,
)
from .manager import AnprManager, HotlistHitData, PlateReadData
from .services import async_register_services

__all__ = [
    "CONFIG_SCHEMA",
    "DATA_KEY",
    "DOMAIN",
    "EVENT_HOTLIST_HIT",
    "EVENT_PLATE_READ",
    "AnprManager",
    "HotlistHitData",
    "PlateReadData",
    "async_setup",
    "async_unload",
]

_LOGGER = logging.getLogger(__name__)

DATA_KEY: HubKey[AnprManager] = HubKey(DOMAIN)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Start the cameras' workers, add the entities, register services and the REST views."""
    manager = AnprManager(hub, config)
    hub.data[DATA_KEY] = manager
    await manager.async_start()
    entities: list[Any] = []
    for camera in manager.cameras.values():
        entities.extend(manager.camera_entities(camera))
    for journey_id, journey in manager.journeys.items():
        journey.entities = [JourneyTimeSensor(manager, journey_id), JourneySpeedSensor(manager, journey_id),
                            CongestionSensor(manager, journey_id)]
        entities.extend(journey.entities)
    for list_id in manager.hotlists.lists:
        manager.list_entities[list_id] = HotlistSizeSensor(manager, list_id)
    entities.extend(manager.list_entities.values())
    manager.acceptance_entity = AcceptanceSensor(manager)
    entities.append(manager.acceptance_entity)
    await async_add_entities(hub, DOMAIN, entities)
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub, manager):
        handle.async_on_unload(remover)
    if not async_register_views(hub):
        _LOGGER.debug("anpr: REST views not added (no HTTP server, or it already started)")
    _LOGGER.info("anpr: %d cameras, %d hotlists, %d journey sections", len(manager.cameras),
                 len(manager.hotlists.lists), len(manager.journeys))
    return True


async def async_unload(hub: Hub) -> bool:
    """Stop the workers, remove services and entities."""
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    manager = hub.data.pop(DATA_KEY, None)
    if manager is not None:
        await manager.async_stop()
    await async_remove_entities(hub, DOMAIN)
    return True
