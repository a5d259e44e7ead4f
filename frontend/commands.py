"""Websocket commands of the screens: `frontend/subscribe_states` (the states of some entities or domains)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol

from hub.auth.visibility import ReadScope, read_scope
from hub.const import EVENT_STATE_CHANGED
from hub.core import CALLBACK_TYPE, Event, Hub, State, callback, split_entity_id
from hub.helpers import config_validation as cv
from hub.http.access import ROLES_STAFF
from hub.http.view import json_dumps
from hub.http.websocket_api import ActiveConnection, async_register_command

__all__ = ["TYPE_SUBSCRIBE_STATES", "async_register_commands"]

TYPE_SUBSCRIBE_STATES: Final = "frontend/subscribe_states"
MAX_ENTITIES: Final = 500


def _compact(state: State | None, scope: ReadScope) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"state": state.state, "attributes": dict(scope.attributes(state)), "last_changed": state.last_changed_ts,
            "last_updated": state.last_updated_ts}


@callback
def handle_subscribe_states(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Push `{"entity_id", "new": {...} | null}` for changes of the listed entities or domains only.

    Unlike `subscribe_events` for every state_changed, a page gets just what it shows (a video wall
    showing one bollard is not sent every sensor reading of the city).
    """
    entity_ids = frozenset(msg["entity_ids"])
    domains = frozenset(msg["domains"])
    prefix = f'{{"id":{msg["id"]},"type":"event","event":'
    hub = connection.hub
    scope = read_scope(hub, connection.user)

    @callback
    def wanted(data: Mapping[str, Any]) -> bool:
        entity_id = data["entity_id"]
        return (entity_id in entity_ids or split_entity_id(entity_id)[0] in domains) and scope.sees_entity(
            hub, entity_id)

    @callback
    def forward(event: Event) -> None:
        payload = {"entity_id": event.data["entity_id"], "new": _compact(event.data.get("new_state"), scope)}
        connection.send_message(f"{prefix}{json_dumps(payload).decode()}}}")

    connection.subscriptions[msg["id"]] = connection.hub.bus.async_listen(EVENT_STATE_CHANGED, forward, wanted)
    connection.send_result(msg["id"])


@callback
def async_register_commands(hub: Hub) -> list[CALLBACK_TYPE]:
    """Register the frontend's websocket commands; returns their removers."""
    return [
        async_register_command(hub, TYPE_SUBSCRIBE_STATES, handle_subscribe_states, {
            vol.Optional("entity_ids", default=list): vol.All(cv.ensure_list, [cv.entity_id],
                                                               vol.Length(max=MAX_ENTITIES)),
            vol.Optional("domains", default=list): vol.All(cv.ensure_list, [cv.string], vol.Length(max=20)),
        }, roles=ROLES_STAFF),
    ]
