"""Built-in websocket commands: ping, subscribe/unsubscribe events, call_service, fire_event, get_states."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from ..auth.hidden import async_hidden_counts
from ..auth.users import Role
from ..auth.visibility import read_scope
from ..const import MATCH_ALL
from ..core import Event, Hub, callback
from .access import DEFAULT_EVENT_ROLES, ROLES_STAFF
from .const import ERR_NOT_FOUND
from .view import async_check_free_event, json_dumps
from .websocket_api import ActiveConnection, async_register_command

__all__ = ["async_register_builtin_commands"]


@callback
def handle_ping(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Answer `pong`."""
    connection.send_message({"id": msg["id"], "type": "pong"})


@callback
def handle_subscribe_events(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Forward events of one type (or all) as `{"id", "type": "event", "event"}` until unsubscribed."""
    msg_id = msg["id"]
    hub = connection.hub
    scope = read_scope(hub, connection.user)

    @callback
    def forward(event: Event) -> None:
        shown = scope.event(hub, event)  # what the user's centre owns or is shared with it
        if shown is not None:
            connection.send_message(json_dumps({"id": msg_id, "type": "event", "event": shown}).decode())

    connection.subscriptions[msg_id] = connection.hub.bus.async_listen(msg["event_type"], forward)
    connection.send_result(msg_id)


@callback
def handle_unsubscribe_events(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """End the subscription made by command id `subscription`."""
    remove = connection.subscriptions.pop(msg["subscription"], None)
    if remove is None:
        connection.send_error(msg["id"], ERR_NOT_FOUND, f"Subscription {msg['subscription']} not found")
        return
    remove()
    connection.send_result(msg["id"])


async def handle_call_service(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Call a service as the connection's user; result: the call's context and the response."""
    context = connection.context()
    response = await connection.hub.services.async_call(
        msg["domain"], msg["service"], msg["service_data"], blocking=True, context=context,
        timeout=connection.service_timeout, return_response=msg["return_response"],
    )
    connection.send_result(msg["id"], {"context": context, "response": response})


async def handle_fire_event(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Fire a free event as the connection's user (owned types are refused)."""
    await async_check_free_event(connection.hub, msg["event_type"])
    context = connection.context()
    connection.hub.bus.async_fire(msg["event_type"], msg["event_data"], context=context)
    connection.send_result(msg["id"], {"context": context})


@callback
def handle_get_states(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every entity's current state that the user may read."""
    hub = connection.hub
    connection.send_result(msg["id"], read_scope(hub, connection.user).states(hub, hub.states.async_all()))


async def handle_hidden_counts(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """{kind: {centre: count}} of what is not shared with the user's centre (counts only)."""
    connection.send_result(msg["id"], await async_hidden_counts(connection.hub, connection.user,
                                                                msg.get("kinds")))


@callback
def async_register_builtin_commands(hub: Hub, event_roles: frozenset[Role] = DEFAULT_EVENT_ROLES) -> None:
    """Register the commands every hub has (`fire_event` for `event_roles`)."""
    async_register_command(hub, "ping", handle_ping, roles=ROLES_STAFF)
    async_register_command(hub, "subscribe_events", handle_subscribe_events,
                           {vol.Optional("event_type", default=MATCH_ALL): str}, roles=ROLES_STAFF)
    async_register_command(hub, "unsubscribe_events", handle_unsubscribe_events,
                           {vol.Required("subscription"): int}, roles=ROLES_STAFF)
    async_register_command(hub, "call_service", handle_call_service, {
        vol.Required("domain"): str,
        vol.Required("service"): str,
        vol.Optional("service_data", default=dict): dict,
        vol.Optional("return_response", default=False): bool,
    }, roles=ROLES_STAFF)  # the permission hook decides each call
    async_register_command(hub, "fire_event", handle_fire_event, {
        vol.Required("event_type"): str,
        vol.Optional("event_data", default=dict): dict,
    }, roles=event_roles)
    async_register_command(hub, "get_states", handle_get_states, roles=ROLES_STAFF)
    async_register_command(hub, "hidden/counts", handle_hidden_counts,
                           {vol.Optional("kinds"): vol.All([str], vol.Length(max=20))}, roles=ROLES_STAFF)
