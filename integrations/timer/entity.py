"""The timer entity: a countdown on the hub clock (FakeClock in tests) that fires `timer.finished`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, callback
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.helpers.event import async_track_point_in_time
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import (
    CONF_DURATION,
    CONF_RESTORE,
    DEFAULT_DURATION,
    DOMAIN,
    EVENT_TIMER_CANCELLED,
    EVENT_TIMER_CHANGED,
    EVENT_TIMER_FINISHED,
    EVENT_TIMER_PAUSED,
    EVENT_TIMER_RESTARTED,
    EVENT_TIMER_STARTED,
    STATUS_ACTIVE,
    STATUS_IDLE,
    STATUS_PAUSED,
)

__all__ = ["ITEM_SCHEMA", "SERVICES", "Timer"]

ITEM_SCHEMA = vol.Schema({
    **BASE_HELPER_FIELDS,
    vol.Optional(CONF_DURATION, default=DEFAULT_DURATION): cv.time_period,
    vol.Optional(CONF_RESTORE, default=False): cv.boolean,
})

SERVICES: list[ServiceSpec] = [
    ("start", {vol.Optional(CONF_DURATION): cv.time_period}, "async_start"),
    ("pause", {}, "async_pause"),
    ("cancel", {}, "async_cancel"),
    ("finish", {}, "async_finish"),
    ("change", {vol.Required(CONF_DURATION): cv.time_period}, "async_change"),
]


def _format(delta: timedelta) -> str:
    """'0:05:00', as Home Assistant writes durations (whole seconds)."""
    return str(timedelta(seconds=round(delta.total_seconds())))


class Timer(HelperEntity):
    """`idle`, `active` or `paused`, with `duration`, `remaining` and `finishes_at` attributes."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        self._duration: timedelta = config[CONF_DURATION]
        self._running: timedelta = self._duration  # the duration of the current run
        self._remaining: timedelta | None = None
        self._end: float | None = None  # epoch seconds, while active
        self._unsub: CALLBACK_TYPE | None = None
        self._attr_state = STATUS_IDLE

    def helper_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"duration": _format(self._running)}
        if self._attr_state == STATUS_ACTIVE and self._end is not None:
            attrs["remaining"] = _format(timedelta(seconds=max(0.0, self._end - self.hub.clock.time())))
            attrs["finishes_at"] = datetime.fromtimestamp(self._end, self.hub.clock.now().tzinfo).isoformat()
        elif self._attr_state == STATUS_PAUSED and self._remaining is not None:
            attrs["remaining"] = _format(self._remaining)
        if self._config[CONF_RESTORE]:
            attrs["restore"] = True
        return attrs

    @property
    def extra_restore_data(self) -> Mapping[str, Any] | None:
        return {"end": self._end, "remaining": None if self._remaining is None else self._remaining.total_seconds(),
                "running": self._running.total_seconds()}

    async def async_added_to_hub(self) -> None:
        """With `restore`, an active timer keeps its deadline (finishing now if it passed while down)."""
        await super().async_added_to_hub()
        self.async_on_remove(self._cancel_listener)
        if not self._config[CONF_RESTORE]:
            return
        last = await self.async_get_last_state()
        extra = await self.async_get_last_extra_data() or {}
        if last is None or last.state not in (STATUS_ACTIVE, STATUS_PAUSED):
            return
        self._running = timedelta(seconds=float(extra.get("running") or self._duration.total_seconds()))
        if last.state == STATUS_PAUSED and extra.get("remaining") is not None:
            self._attr_state = STATUS_PAUSED
            self._remaining = timedelta(seconds=float(extra["remaining"]))
        elif last.state == STATUS_ACTIVE and extra.get("end") is not None:
            self._attr_state = STATUS_ACTIVE
            self._end = float(extra["end"])
            # a deadline that passed while the hub was down fires once it is added (the clock does it)
            self._unsub = async_track_point_in_time(self.hub, self._finished, max(self._end, self.hub.clock.time()))

    @callback
    def _cancel_listener(self) -> None:
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    def _fire(self, event_type: str, **data: Any) -> None:
        self.hub.bus.async_fire(event_type, {"entity_id": self.entity_id, **data}, context=self._context)

    @callback
    def async_start(self, duration: timedelta | None = None) -> None:
        """Start (or restart, or resume when paused) the countdown; `duration` replaces the configured one."""
        self._cancel_listener()
        event = EVENT_TIMER_RESTARTED if self._attr_state in (STATUS_ACTIVE, STATUS_PAUSED) else EVENT_TIMER_STARTED
        if duration:
            self._remaining = self._running = duration
        elif self._attr_state != STATUS_PAUSED or self._remaining is None:
            self._remaining = self._running
        self._end = self.hub.clock.time() + self._remaining.total_seconds()
        self._attr_state = STATUS_ACTIVE
        self._write_and_fire(event)
        self._unsub = async_track_point_in_time(self.hub, self._finished, self._end)

    def _write_and_fire(self, event_type: str, **data: Any) -> None:
        context = self._context
        self.async_write_state()
        self._context = context
        self._fire(event_type, **data)
        self._context = None

    @callback
    def async_pause(self) -> None:
        """Stop counting; `remaining` is kept for the next start."""
        if self._attr_state != STATUS_ACTIVE or self._end is None:
            return
        self._cancel_listener()
        self._remaining = timedelta(seconds=max(0.0, self._end - self.hub.clock.time()))
        self._end = None
        self._attr_state = STATUS_PAUSED
        self._write_and_fire(EVENT_TIMER_PAUSED)

    @callback
    def async_cancel(self) -> None:
        """Back to idle without finishing."""
        if self._attr_state == STATUS_IDLE:
            return
        self._reset()
        self._write_and_fire(EVENT_TIMER_CANCELLED)

    @callback
    def async_finish(self) -> None:
        """Finish now (fires timer.finished)."""
        if self._attr_state == STATUS_IDLE:
            return
        self._finish()

    @callback
    def async_change(self, duration: timedelta) -> None:
        """Add `duration` (negative to take away) to an active timer, never past its running duration."""
        if self._attr_state != STATUS_ACTIVE or self._end is None:
            raise ServiceValidationError(f"{self.entity_id}: only an active timer can be changed")
        end = self._end + duration.total_seconds()
        if end - self.hub.clock.time() > self._running.total_seconds():
            raise ServiceValidationError(f"{self.entity_id}: cannot change the timer beyond its duration")
        self._cancel_listener()
        self._end = end
        self._write_and_fire(EVENT_TIMER_CHANGED)
        self._unsub = async_track_point_in_time(self.hub, self._finished, max(end, self.hub.clock.time()))

    def _reset(self) -> None:
        self._cancel_listener()
        self._attr_state = STATUS_IDLE
        self._end = None
        self._remaining = None
        self._running = self._duration

    def _finish(self) -> None:
        self._reset()
        self._write_and_fire(EVENT_TIMER_FINISHED, finished_at=self.hub.clock.now().isoformat())

    @callback
    def _finished(self, _now: datetime) -> None:
        self._unsub = None
        if self._attr_state == STATUS_ACTIVE:
            self._finish()
