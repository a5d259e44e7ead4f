"""`switch.turn_on/turn_off/toggle`, dispatched to any entity that implements them.

The first integration with switch entities registers these services; the handler is generic (it
calls `async_turn_on(context=...)` on the Entity object behind each entity id), so any integration's
switches work through it. The services stay registered while at least one integration holds them.
"""

from __future__ import annotations

import asyncio

import voluptuous as vol

from ..const import ATTR_ENTITY_ID
from ..core import CALLBACK_TYPE, Hub, HubKey, ServiceCall, callback
from ..exceptions import ServiceValidationError
from . import config_validation as cv
from .entity_platform import get_entity

__all__ = ["SWITCH_SERVICE_SCHEMA", "async_hold_switch_services"]

SWITCH_DOMAIN = "switch"
_METHODS = {"turn_on": "async_turn_on", "turn_off": "async_turn_off", "toggle": "async_toggle"}


SWITCH_SERVICE_SCHEMA = vol.Schema({vol.Required(ATTR_ENTITY_ID): cv.entity_ids}, extra=vol.ALLOW_EXTRA)


class _Holder:
    def __init__(self) -> None:
        self.users: set[str] = set()
        self.removers: list[CALLBACK_TYPE] = []


_HOLDER: HubKey[_Holder] = HubKey("switch_domain_services")


async def _async_handle(call: ServiceCall) -> None:
    method_name = _METHODS[call.service]
    calls = []
    for entity_id in call.data[ATTR_ENTITY_ID]:
        entity = get_entity(call.hub, entity_id)
        method = getattr(entity, method_name, None) if entity is not None else None
        if method is None:
            raise ServiceValidationError(f"switch.{call.service}: {entity_id} is not a switch",
                                         path=[ATTR_ENTITY_ID])
        calls.append(method(context=call.context))
    await asyncio.gather(*calls)


@callback
def async_hold_switch_services(hub: Hub, user: str) -> CALLBACK_TYPE:
    """Make sure the switch services exist while `user` needs them; returns the release function."""
    holder = hub.data.get(_HOLDER)
    if holder is None:
        holder = hub.data[_HOLDER] = _Holder()
    if not holder.users and not holder.removers:
        for service in _METHODS:
            if not hub.services.has_service(SWITCH_DOMAIN, service):
                holder.removers.append(
                    hub.services.async_register(SWITCH_DOMAIN, service, _async_handle, SWITCH_SERVICE_SCHEMA)
                )
    holder.users.add(user)

    @callback
    def release() -> None:
        holder.users.discard(user)
        if not holder.users:
            while holder.removers:
                holder.removers.pop()()

    return release
