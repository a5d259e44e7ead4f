"""Adding and removing an integration's entities: ids, registry, first state, polling, removal."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from ..core import Hub, HubKey, callback
from .entity import Entity

__all__ = ["async_add_entities", "async_entities", "async_remove_entities", "get_entity"]

_LOGGER = logging.getLogger(__name__)

ENTITIES: HubKey[dict[str, list[Entity]]] = HubKey("entities_by_platform")
ENTITY_INDEX: HubKey[dict[str, Entity]] = HubKey("entities_by_id")


def slugify(text: str) -> str:
    """Lower-case, underscores for anything that is not a letter or digit."""
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return re.sub(r"_+", "_", slug) or "unnamed"


def _pick_entity_id(hub: Hub, entity: Entity) -> str:
    base = entity.suggested_object_id or entity.name or entity.unique_id or type(entity).__name__
    object_id = slugify(base)
    candidate = f"{entity.domain}.{object_id}"
    n = 2
    while not hub.states.async_available(candidate) or candidate in hub.data.get(ENTITY_INDEX, {}):
        candidate = f"{entity.domain}.{object_id}_{n}"
        n += 1
    return candidate


async def async_add_entities(hub: Hub, platform: str, entities: Iterable[Entity]) -> list[Entity]:
    """Add entities created by integration `platform`: give each an id, call added hooks, write state.

    When an entity registry is loaded (hub.helpers.entity_registry), entities with a unique_id get
    the entity id the registry remembers, so ids stay stable across restarts.
    """
    by_platform = hub.data.setdefault(ENTITIES, {})
    index = hub.data.setdefault(ENTITY_INDEX, {})
    added: list[Entity] = []
    registry: Any = None
    try:
        from .entity_registry import async_get as _get_registry

        registry = _get_registry(hub)
    except (ImportError, KeyError, LookupError):
        registry = None
    for entity in entities:
        entity.hub = hub
        entity.platform_domain = platform
        if entity.entity_id is None:
            if registry is not None and entity.unique_id is not None:
                entity.entity_id = registry.async_get_or_create_for_entity(hub, platform, entity)
            else:
                entity.entity_id = _pick_entity_id(hub, entity)
        if entity.entity_id in index:
            _LOGGER.error("Entity id %s already exists; %r not added", entity.entity_id, entity)
            continue
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


async def async_remove_entities(hub: Hub, platform: str) -> None:
    """Remove every entity that integration `platform` added (on unload)."""
    by_platform = hub.data.get(ENTITIES, {})
    index = hub.data.get(ENTITY_INDEX, {})
    for entity in by_platform.pop(platform, []):
        index.pop(entity.entity_id, None)
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
