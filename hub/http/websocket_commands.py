"""Built-in websocket commands: ping, subscribe/unsubscribe events, call_service, fire_event, get_states."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from ..const import MATCH_ALL
from ..core import Event, Hub, callback
from .const import ERR_NOT_FOUND
from .view import check_event_type, json_dumps
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

    @callback
    def forward(event: Event) -> None:
        message = {"id": msg_id, "type": "event", "event": event.as_dict()}
        connection.send_message(json_dumps(message).decode())

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


@callback
def handle_fire_event(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Fire an event as the connection's user."""
    check_event_type(msg["event_type"])
    context = connection.context()
    connection.hub.bus.async_fire(msg["event_type"], msg["event_data"], context=context)
    connection.send_result(msg["id"], {"context": context})


@callback
def handle_get_states(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every entity's current state."""
    connection.send_result(msg["id"], connection.hub.states.async_all())


@callback
def async_register_builtin_commands(hub: Hub) -> None:
    """Register the commands every hub has."""
    async_register_command(hub, "ping", handle_ping)
    async_register_command(hub, "subscribe_events", handle_subscribe_events,
                           {vol.Optional("event_type", default=MATCH_ALL): str})
    async_register_command(hub, "unsubscribe_events", handle_unsubscribe_events,
                           {vol.Required("subscription"): int})
    async_register_command(hub, "call_service", handle_call_service, {
        vol.Required("domain"): str,
        vol.Required("service"): str,
        vol.Optional("service_data", default=dict): dict,
        vol.Optional("return_response", default=False): bool,
    })
    async_register_command(hub, "fire_event", handle_fire_event, {
        vol.Required("event_type"): str,
        vol.Optional("event_data", default=dict): dict,
    })
    async_register_command(hub, "get_states", handle_get_states)
