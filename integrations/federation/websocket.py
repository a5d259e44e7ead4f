"""Websocket command `federation/subscribe_alarms`: peers' shared alarms, live, for the control-room queue.

`{"id": 7, "type": "federation/subscribe_alarms"}` answers with the peers' open alarms (newest
first), each with `origin_site` and `origin_name`, then pushes every change as
`{"id": 7, "type": "event", "event": {"action": "upsert" | "remove", "alarm": {...}}}`. Only the
owner changes such an alarm: ask it with `federation.acknowledge_alarm` / `federation.alarm_action`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from hub.auth.visibility import read_scope
from hub.core import CALLBACK_TYPE, callback
from hub.http.access import ROLES_STAFF
from hub.http.view import json_dumps
from hub.http.websocket_api import ActiveConnection, async_register_command

if TYPE_CHECKING:
    from .manager import FederationManager

__all__ = ["TYPE_SUBSCRIBE_ALARMS", "async_register_websocket", "remote_alarm_view", "remote_alarms"]

TYPE_SUBSCRIBE_ALARMS: Final = "federation/subscribe_alarms"


def remote_alarm_view(manager: FederationManager, alarm: Mapping[str, Any]) -> dict[str, Any]:
    """A peer's alarm as screens show it: the owner's fields plus the peer's display name."""
    site = alarm.get("origin_site")
    peer = manager.peers.get(site) if isinstance(site, str) else None
    return {**alarm, "origin_name": peer.name if peer is not None else site, "remote": True}


def remote_alarms(manager: FederationManager) -> list[dict[str, Any]]:
    """The peers' open alarms, newest first."""
    return [remote_alarm_view(manager, alarm) for alarm in manager.remote.open_alarms()]


@callback
def async_register_websocket(manager: FederationManager) -> list[CALLBACK_TYPE]:
    """Register `federation/subscribe_alarms`; returns the remover."""

    @callback
    def handle_subscribe(connection: ActiveConnection, msg: dict[str, Any]) -> None:
        msg_id = msg["id"]
        prefix = f'{{"id":{msg_id},"type":"event","event":'
        scope = read_scope(manager.hub, connection.user)  # plates and names only for the roles that need them

        @callback
        def on_change(alarm: dict[str, Any], action: str) -> None:
            shown = scope.redact(remote_alarm_view(manager, alarm))
            connection.send_message(f"{prefix}{json_dumps({'action': action, 'alarm': shown}).decode()}}}")

        connection.subscriptions[msg_id] = manager.remote.async_listen_alarms(on_change)
        connection.send_result(msg_id, {"alarms": scope.redact(remote_alarms(manager))})

    return [async_register_command(manager.hub, TYPE_SUBSCRIBE_ALARMS, handle_subscribe, roles=ROLES_STAFF)]
