"""Entity services: THE way to register a service that acts on entities named by `entity_id` or `area_id`.

`async_register_entity_service(hub, "bollard", "raise", handler, schema)` registers `bollard.raise` with a
schema that takes the targets (`entity_id`: one id, a list or a comma-separated string, or `all` where the
service allows it; `area_id`: one area or a list) on top of the service's own fields. On each call the targets
are resolved to live Entity objects of the right type (the entities in the named areas included) before the
handler runs; an id that names no such entity is a ServiceValidationError naming it, and no entity is touched.
The handler is one of:
- the name of an async Entity method, awaited on every target with the service's fields and `context=`
  ("async_turn_on"; the method sets the Context on its entity where it writes its state, after its awaits);
- with `inline=True`, the name of a @callback Entity method (helpers: `counter.increment`): the call's Context
  is set on each entity, then the method is called with the fields, and the service itself is a @callback, so
  an automation calls it in its own frame without moving its run into a task;
- a coroutine function `(call, entities)` for services that treat their targets together (all-or-none, one
  refusal reported for many).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import voluptuous as vol

from ..const import ATTR_AREA_ID, ATTR_ENTITY_ID
from ..core import (
    CALLBACK_TYPE,
    Hub,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
    is_callback,
    split_entity_id,
)
from ..exceptions import HubError, ServiceValidationError
from . import config_validation as cv
from .entity import Entity
from .entity_platform import ENTITY_INDEX, get_entity

__all__ = [
    "ATTR_AREA_ID",
    "ENTITY_MATCH_ALL",
    "EntityServiceHandler",
    "EntityServiceSchema",
    "async_register_entity_service",
    "async_resolve_entities",
]

ENTITY_MATCH_ALL = "all"

EntityServiceHandler = Callable[[ServiceCall, list[Any]], Awaitable[ServiceResponse | None]]


def _entity_targets(value: Any, allow_all: bool) -> list[str] | str:
    if allow_all and isinstance(value, str) and value.strip().lower() == ENTITY_MATCH_ALL:
        return ENTITY_MATCH_ALL
    return list(dict.fromkeys(cv.entity_ids(value)))


def _area_targets(value: Any) -> list[str]:
    return list(dict.fromkeys(cv.string(item) for item in cv.ensure_list(value)))


def _target_schema(entity_domain: str | None, single: bool, allow_all: bool) -> Callable[[Any], Any]:
    def check_domain(entity_id: str) -> str:
        if entity_domain is not None and split_entity_id(entity_id)[0] != entity_domain:
            raise vol.Invalid(f"{entity_id!r} is not a {entity_domain} entity id (expected {entity_domain}.<name>)")
        return entity_id

    def entity_ids(value: Any) -> list[str] | str:
        if single:
            return [check_domain(cv.entity_id(value))]
        targets = _entity_targets(value, allow_all)
        if targets != ENTITY_MATCH_ALL:
            for entity_id in targets:
                check_domain(entity_id)
        return targets

    fields: dict[Any, Any] = {vol.Optional(ATTR_ENTITY_ID): entity_ids}
    if not single:
        fields[vol.Optional(ATTR_AREA_ID)] = _area_targets
    return vol.Schema(fields)


class EntityServiceSchema:
    """A service schema with the targets: they are taken off first and checked on their own, then the service's
    own schema runs on the rest (any validator: a dict, a vol.Schema, a vol.All).

    `allow_all`: `entity_id: all` is taken; `default_all`: also a call without targets means all.
    """

    __slots__ = ("_default_all", "_inner", "_targets")

    def __init__(self, schema: vol.Schema | Mapping[Any, Any] | Callable[[Any], Any] | None = None, *,
                 entity_domain: str | None = None, single: bool = False, default_all: bool = False,
                 allow_all: bool = False) -> None:
        self._inner: Callable[[Any], Any] | None = (vol.Schema(dict(schema)) if isinstance(schema, Mapping)
                                                    else schema)
        self._targets = _target_schema(entity_domain, single, default_all or allow_all)
        self._default_all = default_all

    def __call__(self, value: Any) -> dict[str, Any]:
        data = dict(value or {})
        targets = self._targets({key: data.pop(key) for key in (ATTR_ENTITY_ID, ATTR_AREA_ID) if key in data})
        if not targets:
            if not self._default_all:
                raise vol.Invalid("say which entities: give 'entity_id' or 'area_id'", path=[ATTR_ENTITY_ID])
            targets = {ATTR_ENTITY_ID: ENTITY_MATCH_ALL}
        rest = self._inner(data) if self._inner is not None else data
        return {**rest, **targets}


def async_resolve_entities(hub: Hub, call: ServiceCall, *, entity_domain: str | None,
                           entity_type: type[Entity] | None, noun: str, method: str | None = None) -> list[Any]:
    """The live entities the call targets, in the order named (areas after ids), each once.

    An entity named by id must fit (domain and type) or the call fails; `all` and areas take only the entities
    that fit and, with `method`, have that method.
    """
    entity_ids = call.data.get(ATTR_ENTITY_ID) or []
    areas = set(call.data.get(ATTR_AREA_ID) or ())
    index: Mapping[str, Entity] = hub.data.get(ENTITY_INDEX, {})

    def fits(entity: Entity) -> bool:
        return ((entity_domain is None or entity.domain == entity_domain)
                and (entity_type is None or isinstance(entity, entity_type)))

    def selectable(entity: Entity) -> bool:
        return fits(entity) and (method is None or hasattr(entity, method))

    found: dict[str, Entity] = {}
    if entity_ids == ENTITY_MATCH_ALL:
        found.update((entity_id, entity) for entity_id, entity in index.items() if selectable(entity))
    else:
        for entity_id in entity_ids:
            entity = get_entity(hub, entity_id)
            if entity is None:
                raise ServiceValidationError(f"{call.domain}.{call.service}: {entity_id}: no such {noun}",
                                             path=[ATTR_ENTITY_ID])
            if not fits(entity):
                raise ServiceValidationError(f"{call.domain}.{call.service}: {entity_id} is not a {noun}",
                                             path=[ATTR_ENTITY_ID])
            found[entity_id] = entity
    if areas:
        found.update((entity_id, entity) for entity_id, entity in index.items()
                     if entity.area_id in areas and selectable(entity))
    return list(found.values())


def async_register_entity_service(
    hub: Hub,
    domain: str,
    service: str,
    handler: str | EntityServiceHandler,
    schema: vol.Schema | Mapping[Any, Any] | Callable[[Any], Any] | None = None,
    *,
    entity_domain: str | None = None,
    entity_type: type[Entity] | None = None,
    noun: str | None = None,
    single: bool = False,
    default_all: bool = False,
    allow_all: bool = False,
    inline: bool = False,
    supports_response: SupportsResponse = SupportsResponse.NONE,
    description: str | None = None,
) -> CALLBACK_TYPE:
    """Register `domain.service` acting on entities; returns the remover.

    `schema` is the service's own fields (the targets are added), or an EntityServiceSchema made with the same
    `entity_domain`, `single`, `default_all` and `allow_all` (for modules that export the full schema).
    `entity_domain` and `entity_type` say which entities may be targets (ids of another domain fail validation;
    an entity of the wrong type fails the call). `noun` names them in errors (default: `domain`). `single`: exactly
    one `entity_id`, no areas. `allow_all`: `entity_id: all` acts on every matching entity that has the method;
    `default_all`: that, and a call without targets acts on all too. Without either `all` is refused: a service
    that moves things is never aimed at everything by accident.
    A method name as `handler` is awaited on every target at once, with the service fields and `context=`;
    with `inline=True` it names a @callback method, called on each target after its Context is set, and the
    service runs inline (no task).
    """
    noun = noun or domain
    method_name = handler if isinstance(handler, str) else None
    if inline and method_name is None:
        raise HubError(f"{domain}.{service}: inline entity services take a @callback method name, not a coroutine")

    def bound_methods(call: ServiceCall) -> tuple[list[Any], list[Callable[..., Any]], dict[str, Any]]:
        """The targets, their methods and the fields; every target is checked before any is touched."""
        entities = async_resolve_entities(hub, call, entity_domain=entity_domain, entity_type=entity_type,
                                          noun=noun, method=method_name)
        params = {key: value for key, value in call.data.items() if key not in (ATTR_ENTITY_ID, ATTR_AREA_ID)}
        methods = []
        for entity in entities:
            method = getattr(entity, method_name or "", None)
            if method is None:
                raise ServiceValidationError(f"{domain}.{service}: {entity.entity_id} is not a {noun}",
                                             path=[ATTR_ENTITY_ID])
            if inline and not is_callback(method):
                raise HubError(f"{domain}.{service}: {type(entity).__name__}.{method_name} is not a @callback; "
                               "register the service without inline=True")
            methods.append(method)
        return entities, methods, params

    @callback
    def async_handle_inline(call: ServiceCall) -> None:
        entities, methods, params = bound_methods(call)
        for entity, method in zip(entities, methods, strict=True):
            entity.async_set_context(call.context)
            method(**params)

    async def async_handle(call: ServiceCall) -> ServiceResponse | None:
        if not isinstance(handler, str):
            entities = async_resolve_entities(hub, call, entity_domain=entity_domain, entity_type=entity_type,
                                              noun=noun)
            return await handler(call, entities)
        _entities, methods, params = bound_methods(call)
        await asyncio.gather(*(method(**params, context=call.context) for method in methods))
        return None

    if not isinstance(schema, EntityServiceSchema):
        schema = EntityServiceSchema(schema, entity_domain=entity_domain, single=single, default_all=default_all,
                                     allow_all=allow_all)
    return hub.services.async_register(domain, service, async_handle_inline if inline else async_handle, schema,
                                       supports_response, description or "")
