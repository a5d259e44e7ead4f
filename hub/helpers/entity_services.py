"""Services that act on entities: `domain.service` with `entity_id`, dispatched to each Entity's method.

`async_register_entity_service(hub, "counter", "increment", {}, "async_increment")` registers
`counter.increment`; a call with `entity_id: [counter.a, counter.b]` (or `all`) awaits
`async_increment(**data)` on those entities (data without `entity_id`), with the call's Context set
on each entity first so the state it writes says who caused it. An entity id that is not an entity
of that domain is refused with a clear error and no entity is touched.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from ..const import ATTR_ENTITY_ID
from ..core import CALLBACK_TYPE, Hub, ServiceCall, callback
from ..exceptions import ServiceValidationError
from . import config_validation as cv
from .entity import Entity
from .entity_platform import async_entities, get_entity

__all__ = ["ENTITY_MATCH_ALL", "async_register_entity_service"]


ENTITY_MATCH_ALL = "all"


def _entity_ids_or_all(value: Any) -> list[str] | str:
    """Entity ids, or `all` (every entity of the domain), as Home Assistant accepts."""
    if isinstance(value, str) and value.strip().lower() == ENTITY_MATCH_ALL:
        return ENTITY_MATCH_ALL
    return cv.entity_ids(value)


def _entity_schema(fields: Mapping[Any, Any] | vol.Schema) -> vol.Schema:
    own: Mapping[Any, Any] = fields.schema if isinstance(fields, vol.Schema) else fields
    return vol.Schema({vol.Required(ATTR_ENTITY_ID): _entity_ids_or_all, **own})


@callback
def async_register_entity_service(hub: Hub, domain: str, service: str,
                                  fields: Mapping[Any, Any] | vol.Schema, method: str, *,
                                  inline: bool = False) -> CALLBACK_TYPE:
    """Register `domain.service` calling `method(**data)` on each targeted entity; returns the remover.

    With `inline`, the methods are @callback functions (loop-only, nothing awaited) and so is the
    service: an automation calls it in its own frame, without moving its run into a task.
    """

    def targets(call: ServiceCall) -> tuple[list[Entity], dict[str, Any]]:
        data = dict(call.data)
        entity_ids: list[str] | str = data.pop(ATTR_ENTITY_ID)
        if entity_ids == ENTITY_MATCH_ALL:
            return [e for e in async_entities(call.hub) if e.domain == domain and hasattr(e, method)], data
        found: list[Entity] = []
        for entity_id in entity_ids:
            entity = get_entity(call.hub, entity_id)
            if entity is None or entity.domain != domain or not hasattr(entity, method):
                raise ServiceValidationError(f"{domain}.{service}: there is no {domain} entity {entity_id}",
                                             path=[ATTR_ENTITY_ID])
            found.append(entity)
        return found, data

    @callback
    def handle_inline(call: ServiceCall) -> None:
        entities, data = targets(call)
        for entity in entities:
            entity.async_set_context(call.context)
            getattr(entity, method)(**data)

    async def handle(call: ServiceCall) -> None:
        entities, data = targets(call)
        results = []
        for entity in entities:
            entity.async_set_context(call.context)
            result = getattr(entity, method)(**data)
            if inspect.isawaitable(result):
                results.append(result)
        if results:
            await asyncio.gather(*results)

    return hub.services.async_register(domain, service, handle_inline if inline else handle,
                                       _entity_schema(fields))
