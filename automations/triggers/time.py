"""`platform: time`: at clock times ('07:30:00') or at the time/datetime an entity holds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from datetime import time as time_sys
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Context, Event, Hub, callback
from hub.helpers import config_validation as cv
from hub.helpers.dt import hub_tz
from hub.helpers.event import async_track_state_change_event
from hub.helpers.validators import time_or_entity
from hub.helpers.validators import time_period as offset

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger", "entity_time", "next_local_time"]

_LOGGER = logging.getLogger(__name__)


def _entity_with_offset(value: Any) -> dict[str, Any]:
    """`at: {entity_id: sensor.next_alarm, offset: '-00:05:00'}` (as Home Assistant 2024.5+ writes it)."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a time, an entity id or a mapping with entity_id and offset")
    return _ENTITY_OFFSET_SCHEMA(value)


_ENTITY_OFFSET_SCHEMA = vol.Schema({
    vol.Required("entity_id"): cv.entity_id,
    vol.Optional("offset", default=timedelta(0)): offset,
})


def _at(value: Any) -> time_sys | str | dict[str, Any]:
    if isinstance(value, dict):
        return _entity_with_offset(value)
    return time_or_entity(value)


TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "time",
    vol.Required("at"): vol.All(cv.ensure_list, [_at]),
})


def next_local_time(now_ts: float, at: time_sys, tz: tzinfo) -> float:
    """The first epoch time strictly after `now_ts` whose local time of day is `at`."""
    now = datetime.fromtimestamp(now_ts, tz)
    candidate = datetime.combine(now.date(), at, tzinfo=tz)
    if candidate.timestamp() <= now_ts:
        candidate = datetime.combine(now.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate.timestamp()


def entity_time(value: str, tz: tzinfo) -> datetime | time_sys | None:
    """What an entity's state says: a full datetime (a timestamp sensor) or a time of day."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return time_sys.fromisoformat(text)
        except ValueError:
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Schedule each time on the hub clock; entity times follow the entity's state."""
    trigger_data = trigger_info["trigger_data"]
    tz = hub_tz(hub)
    handles: dict[int, Any] = {}
    removers: list[CALLBACK_TYPE] = []

    def fire(entity_id: str | None) -> None:
        now = hub.clock.now().astimezone(tz)
        payload = {**trigger_data, "platform": "time", "now": now, "description": "time",
                   "entity_id": entity_id}
        action(payload, Context())

    def schedule_daily(slot: int, at: time_sys, entity_id: str | None) -> None:
        def due() -> None:
            schedule_daily(slot, at, entity_id)
            fire(entity_id)

        handles[slot] = hub.clock.call_at(next_local_time(hub.clock.time(), at, tz), due)

    def schedule_entity(slot: int, entity_id: str, shift: timedelta) -> None:
        old = handles.pop(slot, None)
        if old is not None:
            old.cancel()
        state = hub.states.get(entity_id)
        if state is None:
            return
        when = entity_time(state.state, tz)
        if isinstance(when, time_sys) and shift:  # a time of day with an offset: today's, moved
            when = datetime.combine(hub.clock.now().astimezone(tz).date(), when, tzinfo=tz)
            if when + shift <= hub.clock.now():
                when += timedelta(days=1)
        if isinstance(when, datetime):
            when += shift
        if isinstance(when, time_sys):
            schedule_daily(slot, when, entity_id)
        elif isinstance(when, datetime) and when.timestamp() > hub.clock.time():
            def due() -> None:
                handles.pop(slot, None)
                fire(entity_id)
                schedule_entity(slot, entity_id, shift)  # a time of day with an offset: tomorrow's

            handles[slot] = hub.clock.call_at(when.timestamp(), due)

    for slot, at in enumerate(config["at"]):
        if isinstance(at, time_sys):
            schedule_daily(slot, at, None)
            continue
        entity, shift = (at["entity_id"], at["offset"]) if isinstance(at, dict) else (at, timedelta(0))

        @callback
        def on_change(event: Event, slot: int = slot, entity_id: str = entity, shift: timedelta = shift) -> None:
            schedule_entity(slot, entity_id, shift)

        schedule_entity(slot, entity, shift)
        removers.append(async_track_state_change_event(hub, entity, on_change))

    @callback
    def remove() -> None:
        for remover in removers:
            remover()
        for handle in handles.values():
            handle.cancel()
        handles.clear()

    return remove
