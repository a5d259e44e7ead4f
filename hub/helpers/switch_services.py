"""`switch.turn_on/turn_off/toggle`, dispatched to any entity that implements them.

The first integration with switch entities registers these services as entity services
(hub.helpers.entity_service: `entity_id` or `area_id`, each target's `async_turn_on(context=...)`), so any
integration's switches work through them. They stay registered while at least one integration holds them.
"""

from __future__ import annotations

from ..core import CALLBACK_TYPE, Hub, HubKey, callback
from .entity_service import async_register_entity_service

__all__ = ["async_hold_switch_services"]

SWITCH_DOMAIN = "switch"
_METHODS = {"turn_on": "async_turn_on", "turn_off": "async_turn_off", "toggle": "async_toggle"}


class _Holder:
    def __init__(self) -> None:
        self.users: set[str] = set()
        self.removers: list[CALLBACK_TYPE] = []


_HOLDER: HubKey[_Holder] = HubKey("switch_domain_services")


@callback
def async_hold_switch_services(hub: Hub, user: str) -> CALLBACK_TYPE:
    """Make sure the switch services exist while `user` needs them; returns the release function."""
    holder = hub.data.get(_HOLDER)
    if holder is None:
        holder = hub.data[_HOLDER] = _Holder()
    if not holder.users and not holder.removers:
        for service, method in _METHODS.items():
            if not hub.services.has_service(SWITCH_DOMAIN, service):
                holder.removers.append(async_register_entity_service(hub, SWITCH_DOMAIN, service, method))
    holder.users.add(user)

    @callback
    def release() -> None:
        holder.users.discard(user)
        if not holder.users:
            while holder.removers:
                holder.removers.pop()()

    return release
