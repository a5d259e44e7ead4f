"""What peers share, brought in: remote events on our bus, remote entities in our states, peers' alarms."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hub.const import STATE_UNAVAILABLE
from hub.core import CALLBACK_TYPE, Context, EventOrigin, Hub, callback, valid_entity_id

from .const import (
    ATTR_ORIGIN_ENTITY_ID,
    ATTR_ORIGIN_SITE,
    ATTR_REMOTE,
    NEVER_SHARED_EVENTS,
    NEVER_SHARED_PREFIXES,
)
from .envelope import Envelope
from .store import mirror_entity_id

__all__ = ["ALARM_EVENT_TYPES", "RemoteAlarmListener", "RemoteMirror", "context_from"]

_LOGGER = logging.getLogger(__name__)

# The alarm events a remote alarm change may be announced with (the owner's own event type).
ALARM_EVENT_TYPES = frozenset({
    "alarm_raised", "alarm_reraised", "alarm_acknowledged", "alarm_started", "alarm_assigned", "alarm_note_added",
    "alarm_resolved", "alarm_cleared", "alarm_closed", "alarm_renotified", "alarm_escalated",
    "alarm_sop_step_done", "alarm_sop_step_skipped",
})
_ALARM_UPDATED = "alarm_updated"  # an owner's change we have no event type for

RemoteAlarmListener = Callable[[dict[str, Any], str], None]  # (alarm, "upsert" | "remove")


def context_from(data: Any) -> Context:
    """A Context carried in a payload (`Context.as_dict()`), keeping the origin's ids so causes can be traced."""
    if not isinstance(data, Mapping):
        return Context()
    context_id = data.get("id")
    return Context(user_id=data.get("user_id") if isinstance(data.get("user_id"), str) else None,
                   parent_id=data.get("parent_id") if isinstance(data.get("parent_id"), str) else None,
                   id=context_id if isinstance(context_id, str) and context_id else None,
                   centre=data.get("centre") if isinstance(data.get("centre"), str) else None)


class RemoteMirror:
    """Peers' entities in our state machine (unavailable while the peer is not connected) and their alarms."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.states: dict[str, dict[str, Any]] = {}  # our entity id -> the stored remote state
        self.alarms: dict[str, dict[str, Any]] = {}  # alarm id -> the owner's alarm, with origin_site
        self._available: set[str] = set()
        self._alarm_listeners: list[RemoteAlarmListener] = []

    # ---- loading and availability

    @callback
    def load(self, states: Iterable[dict[str, Any]], alarms: Iterable[dict[str, Any]]) -> None:
        """Bring back what we had (remote entities start unavailable until their peer is heard)."""
        for row in states:
            self.states[row["entity_id"]] = row
            self._write(row, available=False)
        for alarm in alarms:
            self.alarms[alarm["alarm_id"]] = alarm

    @callback
    def set_available(self, site: str, available: bool) -> None:
        """A peer connected or disconnected: its entities follow."""
        if available:
            self._available.add(site)
        else:
            self._available.discard(site)
        for row in self.states.values():
            if row["origin_site"] == site:
                self._write(row, available=available)

    def open_alarms(self) -> list[dict[str, Any]]:
        """The peers' open alarms, newest first."""
        return sorted(self.alarms.values(), key=lambda a: -(a.get("raised_ts") or 0))

    def entity_ids(self, site: str | None = None) -> list[str]:
        """Our ids of remote entities (of one peer)."""
        return [e for e, row in self.states.items() if site is None or row["origin_site"] == site]

    def _write(self, row: Mapping[str, Any], *, available: bool, context: Context | None = None) -> None:
        entity_id = row["entity_id"]
        current = self.hub.states.get(entity_id)
        if current is not None and current.attributes.get(ATTR_ORIGIN_SITE) is None:
            _LOGGER.error("Federation: %s exists here already; %s's %s is not mirrored", entity_id,
                          row["origin_site"], row["origin_entity_id"])
            return
        attributes = {**(row.get("attributes") or {}), ATTR_ORIGIN_SITE: row["origin_site"],
                      ATTR_ORIGIN_ENTITY_ID: row["origin_entity_id"], ATTR_REMOTE: True}
        self.hub.states.async_set(entity_id, row["state"] if available else STATE_UNAVAILABLE, attributes,
                                  context=context)

    @callback
    def async_remove_all(self) -> None:
        """Take every remote entity out of the state machine (unload)."""
        for entity_id in list(self.states):
            self.hub.states.async_remove(entity_id)

    # ---- applying what arrives

    @callback
    def apply_event(self, envelope: Envelope) -> None:
        """Fire a peer's event here, marked remote, with `origin_site` added to its data."""
        payload = envelope.payload
        event_type = payload.get("event_type")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= 64 or event_type in NEVER_SHARED_EVENTS \
                or event_type.startswith(NEVER_SHARED_PREFIXES):
            _LOGGER.warning("Federation: %s sent an event of a type that is not taken in: %r", envelope.origin,
                            event_type)
            return
        data = payload.get("data")
        data = dict(data) if isinstance(data, Mapping) else {}
        data[ATTR_ORIGIN_SITE] = envelope.origin
        fired = payload.get("time_fired_ts")
        self.hub.bus.async_fire(event_type, data, origin=EventOrigin.remote,
                                context=context_from(payload.get("context")),
                                time_fired=float(fired) if isinstance(fired, int | float) else envelope.ts)

    @callback
    def apply_state(self, envelope: Envelope) -> None:
        """Write a peer's entity state under our id for it (or remove it when the peer removed it)."""
        payload = envelope.payload
        origin_entity = payload.get("entity_id")
        if not isinstance(origin_entity, str) or not valid_entity_id(origin_entity):
            _LOGGER.warning("Federation: %s sent a state for an invalid entity id %r", envelope.origin, origin_entity)
            return
        entity_id = mirror_entity_id(envelope.origin, origin_entity)
        if not valid_entity_id(entity_id):
            _LOGGER.warning("Federation: cannot mirror %s of %s as %s", origin_entity, envelope.origin, entity_id)
            return
        if payload.get("state") is None:
            if self.states.pop(entity_id, None) is not None:
                self.hub.states.async_remove(entity_id)
            return
        updated = float(payload.get("last_updated_ts") or envelope.ts)
        row = {"entity_id": entity_id, "origin_site": envelope.origin, "origin_entity_id": origin_entity,
               "state": str(payload["state"])[:255], "attributes": dict(payload.get("attributes") or {}),
               "last_changed_ts": float(payload.get("last_changed_ts") or updated), "last_updated_ts": updated,
               "context": payload.get("context") or {}}
        self.states[entity_id] = row
        self._write(row, available=envelope.origin in self._available, context=context_from(row["context"]))

    @callback
    def apply_alarm(self, envelope: Envelope) -> None:
        """Take in the owner's alarm as it now is; announce the change as the owner's event, marked remote."""
        payload = envelope.payload
        alarm = payload.get("alarm")
        if not isinstance(alarm, Mapping) or not isinstance(alarm.get("alarm_id"), str):
            _LOGGER.warning("Federation: %s sent an alarm without an alarm_id", envelope.origin)
            return
        alarm = {**alarm, ATTR_ORIGIN_SITE: envelope.origin}
        alarm_id = alarm["alarm_id"]
        update = "remove" if alarm.get("state") == "closed" else "upsert"
        if update == "remove":
            self.alarms.pop(alarm_id, None)
        else:
            self.alarms[alarm_id] = alarm
        raw_timeline = payload.get("timeline")
        timeline: Mapping[str, Any] = raw_timeline if isinstance(raw_timeline, Mapping) else {}
        event_type = payload.get("event")
        if event_type not in ALARM_EVENT_TYPES:
            event_type = _ALARM_UPDATED
        context = context_from({"id": timeline.get("context_id"), "user_id": timeline.get("user_id"),
                                "centre": timeline.get("centre")})
        data = {key: alarm.get(key) for key in (
            "alarm_id", "type", "severity", "state", "title", "centre", "shared", "entities", "area_id", "latitude",
            "longitude", "assignee", "escalation_level", "occurrences", "raised_ts", "updated_ts")}
        data[ATTR_ORIGIN_SITE] = envelope.origin
        self.hub.bus.async_fire(str(event_type), data, origin=EventOrigin.remote, context=context)
        for listener in list(self._alarm_listeners):
            try:
                listener(alarm, update)
            except Exception:
                _LOGGER.exception("Error in a remote alarm listener")

    @callback
    def async_listen_alarms(self, listener: RemoteAlarmListener) -> CALLBACK_TYPE:
        """Call `listener(alarm, 'upsert' | 'remove')` for every change of a peer's alarm; returns the remover."""
        self._alarm_listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._alarm_listeners:
                self._alarm_listeners.remove(listener)

        return remove
