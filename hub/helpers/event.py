"""Event tracking helpers: state changes of given entities, points in time, intervals, time patterns.

Every `async_track_*` returns its remover. Time-based helpers go through `hub.clock`, so a test's
FakeClock drives them without sleeping.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..const import EVENT_STATE_CHANGED
from ..core import CALLBACK_TYPE, Event, Hub, HubJob, HubKey, callback

__all__ = [
    "TimePattern",
    "async_call_later",
    "async_track_point_in_time",
    "async_track_state_change_event",
    "async_track_time_interval",
    "async_track_time_pattern",
]

_LOGGER = logging.getLogger(__name__)

_STATE_INDEX: HubKey[_StateChangeIndex] = HubKey("track_state_change_index")


class _StateChangeIndex:
    """One bus listener for state_changed that dispatches by entity id through a dict."""

    __slots__ = ("_hub", "_remove", "by_entity")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.by_entity: dict[str, list[HubJob[Any]]] = {}
        self._remove: CALLBACK_TYPE | None = None

    @callback
    def _dispatch(self, event: Event) -> None:
        jobs = self.by_entity.get(event.data["entity_id"])
        if not jobs:
            return
        run = self._hub.async_run_hub_job
        for job in jobs:
            try:
                run(job, event)
            except Exception:
                _LOGGER.exception("Error in state change listener %s", job.name)

    def add(self, entity_ids: Iterable[str], job: HubJob[Any]) -> CALLBACK_TYPE:
        ids = list(dict.fromkeys(entity_ids))
        for entity_id in ids:
            self.by_entity[entity_id] = [*self.by_entity.get(entity_id, ()), job]
        if self._remove is None:
            self._remove = self._hub.bus.async_listen(EVENT_STATE_CHANGED, self._dispatch)

        @callback
        def remove() -> None:
            for entity_id in ids:
                jobs = [j for j in self.by_entity.get(entity_id, ()) if j is not job]
                if jobs:
                    self.by_entity[entity_id] = jobs
                else:
                    self.by_entity.pop(entity_id, None)
            if not self.by_entity and self._remove is not None:
                self._remove()
                self._remove = None

        return remove


@callback
def async_track_state_change_event(hub: Hub, entity_ids: str | Iterable[str],
                                   action: Callable[[Event], Any]) -> CALLBACK_TYPE:
    """Call `action(event)` on every state_changed of the given entities (dict lookup, not a scan)."""
    if isinstance(entity_ids, str):
        entity_ids = [entity_ids]
    index = hub.data.get(_STATE_INDEX)
    if index is None:
        index = hub.data[_STATE_INDEX] = _StateChangeIndex(hub)
    return index.add([e.lower() for e in entity_ids], HubJob(action))


def _run_timer_job(hub: Hub, job: HubJob[Any], now: datetime | None = None) -> None:
    """Run a timer's action; an error is logged here and never reaches the clock or other timers."""
    try:
        hub.async_run_hub_job(job, now if now is not None else hub.clock.now())
    except Exception:
        _LOGGER.exception("Error in timer action %s", job.name)


def _ts(when: datetime | float) -> float:
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    return float(when)


@callback
def async_track_point_in_time(hub: Hub, action: Callable[[datetime], Any],
                              when: datetime | float) -> CALLBACK_TYPE:
    """Call `action(now)` once at `when`. Returns the remover (cancels the timer)."""
    job = HubJob(action)

    def _fire() -> None:
        _run_timer_job(hub, job)

    handle = hub.clock.call_at(_ts(when), _fire)
    return handle.cancel


@callback
def async_call_later(hub: Hub, delay: float | timedelta, action: Callable[[datetime], Any]) -> CALLBACK_TYPE:
    """Call `action(now)` after `delay`."""
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
    return async_track_point_in_time(hub, action, hub.clock.time() + seconds)


@callback
def async_track_time_interval(hub: Hub, action: Callable[[datetime], Any],
                              interval: timedelta | float) -> CALLBACK_TYPE:
    """Call `action(now)` every `interval`, without drift (each deadline from the previous one)."""
    seconds = interval.total_seconds() if isinstance(interval, timedelta) else float(interval)
    if seconds <= 0:
        raise ValueError("interval must be positive")
    job = HubJob(action)
    cancelled = False
    handle: Any = None
    next_at = hub.clock.time() + seconds

    def _fire() -> None:
        nonlocal handle, next_at
        if cancelled:
            return
        now = hub.clock.time()
        next_at += seconds
        if next_at <= now:  # we were late by more than an interval: skip, don't burst
            next_at = now + seconds
        handle = hub.clock.call_at(next_at, _fire)
        _run_timer_job(hub, job)

    handle = hub.clock.call_at(next_at, _fire)

    @callback
    def remove() -> None:
        nonlocal cancelled
        cancelled = True
        handle.cancel()

    return remove


class TimePattern:
    """Matches times like cron: each of hours/minutes/seconds is '*', an int, or '/N' (every N)."""

    def __init__(self, hours: Any = None, minutes: Any = None, seconds: Any = None) -> None:
        # Home Assistant's convention: unspecified smaller units default to 0, larger to '*'.
        if hours is None and minutes is None and seconds is None:
            raise ValueError("time pattern needs at least one of hours, minutes, seconds")
        if seconds is None:
            seconds = 0
        if minutes is None:
            minutes = 0 if hours is not None else "*"
        if hours is None:
            hours = "*"
        self.hours = self._parse(hours, 23, "hours")
        self.minutes = self._parse(minutes, 59, "minutes")
        self.seconds = self._parse(seconds, 59, "seconds")

    @staticmethod
    def _parse(value: Any, maximum: int, name: str) -> list[int]:
        text = str(value).strip()
        if text == "*":
            return list(range(maximum + 1))
        try:
            if text.startswith("/"):
                step = int(text[1:])
                if step <= 0 or step > maximum:
                    raise ValueError(f"{name}: '/{step}' must divide into 1..{maximum}")
                return list(range(0, maximum + 1, step))
            number = int(text)
        except ValueError as err:
            if str(err).startswith(name):
                raise
            raise ValueError(f"{name}: expected '*', a number or '/N', got {value!r}") from None
        if not 0 <= number <= maximum:
            raise ValueError(f"{name}: {number} is outside 0..{maximum}")
        return [number]

    def next_after(self, ts: float, tz: Any = UTC) -> float:
        """The first matching whole second strictly after epoch `ts`, in time zone `tz`.

        The search steps through absolute time one local hour at a time, so a change of the clocks
        neither skips nor invents firings: when clocks go back the repeated hour matches again
        (as in Home Assistant), and an hour that does not exist when they go forward never matches.
        """
        current = math.floor(ts) + 1
        for _ in range(3 * 366 * 24):  # at most one pass per hour for three years
            local = datetime.fromtimestamp(current, tz)
            if local.hour in self.hours:
                for minute in self.minutes:
                    if minute < local.minute:
                        continue
                    for second in self.seconds:
                        if minute == local.minute and second < local.second:
                            continue
                        # offsets within the hour are in absolute seconds: clocks change on the hour
                        return float(current + (minute - local.minute) * 60 + (second - local.second))
            current += 3600 - local.minute * 60 - local.second  # the next local hour boundary
        raise ValueError("time pattern never matches")


@callback
def async_track_time_pattern(hub: Hub, action: Callable[[datetime], Any], pattern: TimePattern,
                             tz: Any = UTC) -> CALLBACK_TYPE:
    """Call `action(now)` at every time matching `pattern` (local time of `tz`); `now` is the matched time."""
    job = HubJob(action)
    handle: Any = None
    cancelled = False
    due = 0.0

    def _schedule(after: float) -> None:
        nonlocal handle, due
        due = pattern.next_after(after, tz)
        handle = hub.clock.call_at(due, _fire)

    def _fire() -> None:
        if cancelled:
            return
        # SystemClock may fire a hair early: searching from `due` keeps the same second from
        # matching twice, and the action gets the matched time rather than 12:04:59.9996
        matched = due
        _schedule(max(hub.clock.time(), matched))
        _run_timer_job(hub, job, datetime.fromtimestamp(matched, UTC))

    _schedule(hub.clock.time())

    @callback
    def remove() -> None:
        nonlocal cancelled
        cancelled = True
        handle.cancel()

    return remove
