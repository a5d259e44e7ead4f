"""Websocket commands for the live alarm queue: `alarm/subscribe`, `alarm/get`, `alarm/types`.

`{"id": 5, "type": "alarm/subscribe"}` answers with the alarms the user may see (most severe,
then newest first) and then pushes every change as
`{"id": 5, "type": "event", "event": {"action": "upsert" | "remove", "alarm": {...}}}`;
`centre` narrows it to one centre. End it with `unsubscribe_events` and `subscription: 5`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from hub.core import CALLBACK_TYPE, callback
from hub.http.access import ROLES_STAFF
from hub.http.const import ERR_NOT_FOUND
from hub.http.view import json_dumps
from hub.http.websocket_api import ActiveConnection, async_register_command

from .access import Viewer, viewer_for
from .model import Alarm

if TYPE_CHECKING:
    from hub.core import Hub

    from .manager import AlarmManager

__all__ = ["AlarmFeed", "async_register_websocket"]

TYPE_SUBSCRIBE: Final = "alarm/subscribe"
TYPE_GET: Final = "alarm/get"
TYPE_TYPES: Final = "alarm/types"


class _Subscription:
    __slots__ = ("centre", "connection", "msg_id", "prefix", "viewer")

    def __init__(self, connection: ActiveConnection, msg_id: int, viewer: Viewer, centre: str | None) -> None:
        self.connection = connection
        self.msg_id = msg_id
        self.viewer = viewer
        self.centre = centre
        self.prefix = f'{{"id":{msg_id},"type":"event","event":'

    def wants(self, alarm: Alarm) -> bool:
        return self.viewer.sees(alarm) and (self.centre is None or alarm.centre == self.centre)


class AlarmFeed:
    """Fans every alarm change out to the subscribed connections, serialising it once."""

    def __init__(self, manager: AlarmManager) -> None:
        self.manager = manager
        self._subscriptions: list[_Subscription] = []
        self._unsub: CALLBACK_TYPE | None = None

    @callback
    def subscribe(self, connection: ActiveConnection, msg_id: int, centre: str | None) -> CALLBACK_TYPE:
        """Add a subscription (sends the current queue as the command's result); returns its remover."""
        subscription = _Subscription(connection, msg_id, viewer_for(self.manager.hub, connection.user), centre)
        self._subscriptions = [*self._subscriptions, subscription]
        if self._unsub is None:
            self._unsub = self.manager.async_listen(self._on_change)
        viewer = subscription.viewer
        connection.send_result(msg_id, {"alarms": [viewer.show(a) for a in self.manager.active()
                                                   if subscription.wants(a)]})

        @callback
        def remove() -> None:
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]

        return remove

    @callback
    def _on_change(self, alarm: Alarm, action: str) -> None:
        payloads: dict[bool, str] = {}  # serialised once per kind of viewer: with personal data, without
        for subscription in self._subscriptions:
            if not subscription.wants(alarm):
                continue
            personal = subscription.viewer.personal
            if personal not in payloads:
                payloads[personal] = json_dumps({"action": action,
                                                 "alarm": subscription.viewer.show(alarm)}).decode()
            subscription.connection.send_message(f"{subscription.prefix}{payloads[personal]}}}")

    @callback
    def async_shutdown(self) -> None:
        """Stop following the manager (unload)."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        self._subscriptions = []


@callback
def async_register_websocket(hub: Hub, manager: AlarmManager, feed: AlarmFeed) -> list[CALLBACK_TYPE]:
    """Register the alarm websocket commands; returns their removers."""

    @callback
    def handle_subscribe(connection: ActiveConnection, msg: dict[str, Any]) -> None:
        connection.subscriptions[msg["id"]] = feed.subscribe(connection, msg["id"], msg.get("centre"))

    async def handle_get(connection: ActiveConnection, msg: dict[str, Any]) -> None:
        alarm = await manager.async_get(msg["alarm_id"])
        viewer = viewer_for(hub, connection.user)
        if alarm is None or not viewer.sees(alarm):
            connection.send_error(msg["id"], ERR_NOT_FOUND, f"No alarm {msg['alarm_id']!r}")
            return
        connection.send_result(msg["id"], viewer.show(alarm, full=True))

    @callback
    def handle_types(connection: ActiveConnection, msg: dict[str, Any]) -> None:
        connection.send_result(msg["id"], [kind.as_dict() for kind in manager.types.values()])

    return [
        async_register_command(hub, TYPE_SUBSCRIBE, handle_subscribe, {vol.Optional("centre"): str},
                               roles=ROLES_STAFF),
        async_register_command(hub, TYPE_GET, handle_get, {vol.Required("alarm_id"): str}, roles=ROLES_STAFF),
        async_register_command(hub, TYPE_TYPES, handle_types, roles=ROLES_STAFF),
    ]
