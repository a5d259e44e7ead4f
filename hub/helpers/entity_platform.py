"""Adding and removing an integration's entities: ids, registry, first state, removal.

Entities push their state (HA's should_poll=False): an integration that polls a device owns its own
timer (modbus, bollards), so the platform runs no poller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..core import CALLBACK_TYPE, Event, Hub, HubKey, callback
from .entity import Entity

if TYPE_CHECKING:
    from .entity_registry import EntityRegistry, RegistryEntry

__all__ = ["async_add_entities", "async_entities", "async_remove_entities", "async_remove_entity", "get_entity"]

_LOGGER = logging.getLogger(__name__)

ENTITIES: HubKey[dict[str, list[Entity]]] = HubKey("entities_by_platform")
ENTITY_INDEX: HubKey[dict[str, Entity]] = HubKey("entities_by_id")
# Entities the registry says are disabled: kept (with their platform) so enabling adds them back.
DISABLED: HubKey[dict[str, tuple[str, Entity]]] = HubKey("entities_disabled")
_REGISTRY_LISTENERS: HubKey[list[CALLBACK_TYPE]] = HubKey("entity_platform_registry_listeners")


def slugify(text: str) -> str:
    """Lower-case ASCII slug for object ids, the same as the registry's ("Cámara" -> "camara")."""
    from .config_validation import slugify as cv_slugify

    return cv_slugify(text) or "unnamed"


def _pick_entity_id(hub: Hub, entity: Entity) -> str:
    base = entity.suggested_object_id or entity.name or entity.unique_id or type(entity).__name__
    object_id = slugify(base)
    candidate = f"{entity.domain}.{object_id}"
    n = 2
    while not hub.states.async_available(candidate) or candidate in hub.data.get(ENTITY_INDEX, {}):
        candidate = f"{entity.domain}.{object_id}_{n}"
        n += 1
    return candidate


def _entity_registry(hub: Hub) -> EntityRegistry | None:
    try:
        from .entity_registry import async_get as _get_registry

        return _get_registry(hub)
    except (ImportError, KeyError, LookupError):
        return None


async def async_add_entities(hub: Hub, platform: str, entities: Iterable[Entity]) -> list[Entity]:
    """Add entities created by integration `platform`: give each an id, call added hooks, write state.

    When an entity registry is loaded (hub.helpers.entity_registry), entities with a unique_id get
    the entity id the registry remembers, so ids stay stable across restarts, and the user's
    overrides apply: name, area, and disabled (a disabled entity is not added until enabled).
    Entities with `device_info` are registered in the device registry and get a `device_id`.
    """
    by_platform = hub.data.setdefault(ENTITIES, {})
    index = hub.data.setdefault(ENTITY_INDEX, {})
    added: list[Entity] = []
    registry = _entity_registry(hub)
    if registry is not None:
        _ensure_registry_listeners(hub)
    for entity in entities:
        entity.hub = hub
        entity.platform_domain = platform
        _register_device(hub, platform, entity)
        entry: RegistryEntry | None = None
        if entity.entity_id is None:
            if registry is not None and entity.unique_id is not None:
                try:
                    entity.entity_id = registry.async_get_or_create_for_entity(hub, platform, entity)
                except Exception:
                    _LOGGER.exception("Cannot register %r from %s; not added", entity, platform)
                    continue
                entry = registry.async_get(entity.entity_id)
            else:
                entity.entity_id = _pick_entity_id(hub, entity)
        if entry is not None and entry.disabled:
            _LOGGER.debug("%s is disabled (by %s); not added", entity.entity_id, entry.disabled_by)
            hub.data.setdefault(DISABLED, {})[entity.entity_id] = (platform, entity)
            continue
        if entity.entity_id in index:
            _LOGGER.error("Entity id %s already exists; %r not added", entity.entity_id, entity)
            continue
        _apply_overrides(hub, entity, entry)
        index[entity.entity_id] = entity
        by_platform.setdefault(platform, []).append(entity)
        try:
            await entity.async_added_to_hub()
        except Exception:
            _LOGGER.exception("Error adding %s", entity.entity_id)
            index.pop(entity.entity_id, None)
            by_platform[platform].remove(entity)
            continue
        entity.async_write_state()
        added.append(entity)
    return added


def _register_device(hub: Hub, platform: str, entity: Entity) -> None:
    info = entity.device_info
    if info is None:
        return
    try:
        from .device_registry import async_get_or_create_for_info
        from .entity_registry import RegistryError

        entity.device_id = async_get_or_create_for_info(hub, platform, info).id
    except LookupError:
        return  # no device registry loaded (bare hubs in tests, tools)
    except RegistryError as err:
        _LOGGER.error("%s: invalid device_info for %r: %s", platform, entity, err)


def _apply_overrides(hub: Hub, entity: Entity, entry: RegistryEntry | None) -> None:
    """Name and area from the registry; a device's area when neither user nor integration set one."""
    entity.registry_name = entry.name if entry is not None else None
    entity.registry_area_id = None
    area = entry.area_id if entry is not None else None
    if area is None and entity.area_id is None and entity.device_id is not None:
        try:
            from .device_registry import async_get as _get_devices

            device = _get_devices(hub).async_get(entity.device_id)
        except LookupError:
            device = None
        if device is not None:
            area = device.area_id
    entity.registry_area_id = area


async def async_remove_entities(hub: Hub, platform: str) -> None:
    """Remove every entity that integration `platform` added (on unload)."""
    by_platform = hub.data.get(ENTITIES, {})
    index = hub.data.get(ENTITY_INDEX, {})
    disabled = hub.data.get(DISABLED, {})
    for entity_id in [eid for eid, (owner, _) in disabled.items() if owner == platform]:
        del disabled[entity_id]
    for entity in by_platform.pop(platform, []):
        index.pop(entity.entity_id, None)
        try:
            await entity.async_remove()
        except Exception:
            _LOGGER.exception("Error removing %s", entity.entity_id)


async def async_remove_entity(hub: Hub, entity: Entity) -> None:
    """Remove one entity an integration added (a discovered device that went away)."""
    await _async_remove_one(hub, entity)


async def _async_remove_one(hub: Hub, entity: Entity) -> None:
    index = hub.data.get(ENTITY_INDEX, {})
    if index.get(entity.entity_id) is entity:
        del index[entity.entity_id]
    platform_entities = hub.data.get(ENTITIES, {}).get(entity.platform_domain or "", [])
    if entity in platform_entities:
        platform_entities.remove(entity)
    try:
        await entity.async_remove()
    except Exception:
        _LOGGER.exception("Error removing %s", entity.entity_id)


@callback
def get_entity(hub: Hub, entity_id: str) -> Entity | None:
    """The Entity object behind an entity id, if an integration added it."""
    return hub.data.get(ENTITY_INDEX, {}).get(entity_id)


@callback
def async_entities(hub: Hub, platform: str | None = None) -> list[Entity]:
    """Entities added by one integration, or all."""
    by_platform = hub.data.get(ENTITIES, {})
    if platform is not None:
        return list(by_platform.get(platform, []))
    return [e for items in by_platform.values() for e in items]


# --------------------------------------------------------------------------- registry changes


@callback
def _ensure_registry_listeners(hub: Hub) -> None:
    """Apply entity and device registry changes to live entities (one listener each per hub)."""
    if _REGISTRY_LISTENERS in hub.data:
        return

    # Changes are applied one at a time and in order: removing and re-adding an entity awaits its
    # hooks, and a quick disable-then-enable must not see the entity half-way.
    lock = asyncio.Lock()

    async def on_entity_registry(event: Event) -> None:
        async with lock:
            await _async_apply_entity_change(hub, event)

    @callback
    def on_device_registry(event: Event) -> None:
        if event.data.get("action") != "update" or "area_id" not in event.data.get("changes", {}):
            return
        for entity in async_entities(hub):
            if entity.device_id == event.data["device_id"]:
                _reapply(hub, entity)

    hub.data[_REGISTRY_LISTENERS] = [
        hub.bus.async_listen("entity_registry_updated", on_entity_registry),
        hub.bus.async_listen("device_registry_updated", on_device_registry),
    ]


def _reapply(hub: Hub, entity: Entity) -> None:
    registry = _entity_registry(hub)
    entry = registry.async_get(entity.entity_id) if registry is not None else None
    _apply_overrides(hub, entity, entry)
    entity.async_write_state()


async def _async_apply_entity_change(hub: Hub, event: Event) -> None:
    action = event.data.get("action")
    entity_id: str = event.data["entity_id"]
    old_entity_id: str = event.data.get("old_entity_id", entity_id)
    index = hub.data.get(ENTITY_INDEX, {})
    disabled = hub.data.setdefault(DISABLED, {})
    if action == "remove":
        disabled.pop(entity_id, None)
        entity = index.get(entity_id)
        if entity is not None and entity.unique_id is not None:
            await _async_remove_one(hub, entity)
        return
    if action != "update":
        return
    registry = _entity_registry(hub)
    entry = registry.async_get(entity_id) if registry is not None else None
    if entry is None:
        return
    entity = index.get(old_entity_id)
    if entity is None or entity.unique_id is None or entity.platform_domain != entry.platform:
        parked = disabled.pop(old_entity_id, None)
        if parked is None:
            return
        if entry.disabled:
            disabled[entry.entity_id] = parked  # renamed while disabled
            return
        platform, entity = parked
        _LOGGER.debug("%s enabled; adding it", entry.entity_id)
        entity.entity_id = None
        await async_add_entities(hub, platform, [entity])
        return
    changes: dict[str, Any] = event.data.get("changes", {})
    if entry.disabled or "entity_id" in changes:
        platform = entity.platform_domain or entry.platform
        await _async_remove_one(hub, entity)
        entity.entity_id = None
        if entry.disabled:
            _LOGGER.debug("%s disabled; removed it", entry.entity_id)
            disabled[entry.entity_id] = (platform, entity)
        else:
            _LOGGER.debug("%s renamed to %s", old_entity_id, entry.entity_id)
            await async_add_entities(hub, platform, [entity])
        return
    if {"name", "area_id", "device_id"} & changes.keys():
        _reapply(hub, entity)
