"""Tests of the tracking helpers: state change index, points in time, intervals, time patterns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.clock import FakeClock
from hub.const import EVENT_STATE_CHANGED
from hub.core import Event, Hub, callback
from hub.helpers.event import (
    TimePattern,
    async_call_later,
    async_track_point_in_time,
    async_track_state_change_event,
    async_track_time_interval,
    async_track_time_pattern,
)

CEUTA_TZ = ZoneInfo("Africa/Ceuta")
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # the fake_clock fixture's start


class Recorder:
    """A @callback action that records what it was called with."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        callback(self)  # an instance is called, so the instance carries the mark

    def __call__(self, arg: Any) -> None:
        self.calls.append(arg)


def _ts(*args: int) -> float:
    year, month, day, hour, minute, second = args
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


# ---------------------------------------------------------------------------- state changes


async def test_state_change_only_for_tracked_entities(fake_hub: Hub) -> None:
    seen = Recorder()
    remove = async_track_state_change_event(fake_hub, ["bollard.b1", "Bollard.B2"], seen)
    fake_hub.states.async_set("bollard.b1", "up")
    fake_hub.states.async_set("bollard.b3", "up")
    fake_hub.states.async_set("bollard.b2", "up")
    fake_hub.states.async_set("bollard.b1", "up")  # no change: no event
    fake_hub.states.async_set("bollard.b1", "down")
    assert [(e.data["entity_id"], e.data["new_state"].state) for e in seen.calls] == [
        ("bollard.b1", "up"), ("bollard.b2", "up"), ("bollard.b1", "down")]
    assert seen.calls[0].data["old_state"] is None
    assert seen.calls[2].data["old_state"].state == "up"
    remove()
    fake_hub.states.async_set("bollard.b1", "up")
    assert len(seen.calls) == 3
    remove()  # a second call is harmless


async def test_state_change_single_bus_listener(fake_hub: Hub) -> None:
    before = fake_hub.bus.async_listeners().get(EVENT_STATE_CHANGED, 0)
    removers = [async_track_state_change_event(fake_hub, f"sensor.s{n}", Recorder()) for n in range(100)]
    assert fake_hub.bus.async_listeners().get(EVENT_STATE_CHANGED, 0) == before + 1
    for remove in removers:
        remove()
    assert fake_hub.bus.async_listeners().get(EVENT_STATE_CHANGED, 0) == before


async def test_state_change_listeners_independent(fake_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    first, second = Recorder(), Recorder()

    @callback
    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    remove_first = async_track_state_change_event(fake_hub, "sensor.a", first)
    async_track_state_change_event(fake_hub, "sensor.a", broken)
    async_track_state_change_event(fake_hub, ["sensor.a", "sensor.b"], second)
    fake_hub.states.async_set("sensor.a", "1")
    assert len(first.calls) == len(second.calls) == 1
    assert "listener bug" in caplog.text
    remove_first()
    fake_hub.states.async_set("sensor.a", "2")
    fake_hub.states.async_set("sensor.b", "2")
    assert len(first.calls) == 1 and len(second.calls) == 3


async def test_state_change_coroutine_action(fake_hub: Hub) -> None:
    seen: list[str] = []

    async def action(event: Event) -> None:
        seen.append(event.data["new_state"].state)

    async_track_state_change_event(fake_hub, "sensor.a", action)
    fake_hub.states.async_set("sensor.a", "on")
    await fake_hub.async_block_till_done()
    assert seen == ["on"]


# ---------------------------------------------------------------------------- points in time


async def test_point_in_time(fake_hub: Hub, fake_clock: FakeClock) -> None:
    seen = Recorder()
    async_track_point_in_time(fake_hub, seen, START + timedelta(seconds=30))
    await fake_clock.async_advance(29.9)
    assert seen.calls == []
    await fake_clock.async_advance(0.1)
    assert seen.calls == [START + timedelta(seconds=30)]
    await fake_clock.async_advance(3600)
    assert len(seen.calls) == 1


async def test_point_in_time_naive_is_utc_and_cancel(fake_hub: Hub, fake_clock: FakeClock) -> None:
    seen = Recorder()
    async_track_point_in_time(fake_hub, seen, datetime(2026, 1, 1, 12, 1))
    cancel = async_track_point_in_time(fake_hub, seen, START.timestamp() + 30)
    cancel()
    await fake_clock.async_advance(60)
    assert seen.calls == [START + timedelta(minutes=1)]


async def test_point_in_time_in_the_past_fires_at_once(fake_hub: Hub, fake_clock: FakeClock) -> None:
    seen = Recorder()
    async_track_point_in_time(fake_hub, seen, START - timedelta(hours=1))
    await fake_clock.async_advance(0)
    assert seen.calls == [START]


async def test_call_later(fake_hub: Hub, fake_clock: FakeClock) -> None:
    seen = Recorder()
    async_call_later(fake_hub, timedelta(minutes=2), seen)
    async_call_later(fake_hub, 5, seen)
    await fake_clock.async_advance(300)
    assert seen.calls == [START + timedelta(seconds=5), START + timedelta(minutes=2)]


async def test_failing_timer_action_is_contained(
    fake_hub: Hub, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Recorder()

    @callback
    def broken(now: datetime) -> None:
        raise RuntimeError("action bug")

    async_call_later(fake_hub, 1, broken)
    async_track_time_interval(fake_hub, broken, 2)
    async_track_time_pattern(fake_hub, broken, TimePattern(seconds="/3"))
    async_call_later(fake_hub, 5, seen)
    await fake_clock.async_advance(10)
    assert seen.calls == [START + timedelta(seconds=5)]
    # every firing was logged (once at 1 s, the interval at 2..10 s, the pattern at 3, 6, 9 s)
    # and the failing interval and pattern kept running
    logged = [r for r in caplog.records if r.getMessage().startswith("Error in timer action")]
    assert len(logged) == 1 + 5 + 3


# ---------------------------------------------------------------------------- intervals


async def test_interval_without_drift(fake_hub: Hub, fake_clock: FakeClock) -> None:
    times: list[float] = []

    @callback
    def action(now: datetime) -> None:
        times.append(fake_clock.time())
        assert now == fake_clock.now()

    remove = async_track_time_interval(fake_hub, action, timedelta(seconds=10))
    for _ in range(25):  # advance in steps that do not divide the interval
        await fake_clock.async_advance(7)
    start = START.timestamp()
    assert times == [start + 10 * n for n in range(1, 18)]
    remove()
    await fake_clock.async_advance(100)
    assert len(times) == 17
    assert fake_clock.pending == 0


async def test_interval_coroutine_and_remove_from_action(fake_hub: Hub, fake_clock: FakeClock) -> None:
    calls = 0
    remove: Any = None

    async def action(now: datetime) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            remove()

    remove = async_track_time_interval(fake_hub, action, 1)
    await fake_clock.async_advance(10)
    assert calls == 3


async def test_interval_late_timer_skips_instead_of_bursting(fake_hub: Hub, fake_clock: FakeClock) -> None:
    times: list[float] = []
    async_track_time_interval(fake_hub, callback(lambda now: times.append(fake_clock.time())), 10)
    await fake_clock.async_advance(10)
    # the loop was blocked for 35 s (a clock step, a stall): the next deadlines are in the past
    fake_clock._now += 35  # simulate lateness, which the fake clock never produces itself
    await fake_clock.async_advance(30)
    start = START.timestamp()
    assert times[0] == start + 10
    assert times[1] == start + 45  # fired once, late
    assert times[2:] == [start + 55, start + 65, start + 75]  # then on a fresh grid, no burst


async def test_interval_must_be_positive(fake_hub: Hub) -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        async_track_time_interval(fake_hub, Recorder(), 0)


# ---------------------------------------------------------------------------- time patterns


def test_time_pattern_defaults() -> None:
    every_five = TimePattern(minutes="/5")
    assert every_five.hours == list(range(24))
    assert every_five.minutes == list(range(0, 60, 5))
    assert every_five.seconds == [0]
    two_am = TimePattern(hours=2)
    assert (two_am.hours, two_am.minutes, two_am.seconds) == ([2], [0], [0])
    assert TimePattern(seconds="*").minutes == list(range(60))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs at least one"),
        ({"minutes": 60}, "minutes: 60 is outside 0..59"),
        ({"hours": "/0"}, "hours: '/0'"),
        ({"seconds": "/61"}, "seconds: '/61'"),
        ({"minutes": "x"}, "minutes"),
    ],
)
def test_time_pattern_invalid(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimePattern(**kwargs)


@pytest.mark.parametrize(
    ("pattern", "after", "expected"),
    [
        (TimePattern(minutes="/5"), (2026, 1, 1, 12, 0, 0), (2026, 1, 1, 12, 5, 0)),
        (TimePattern(minutes="/5"), (2026, 1, 1, 12, 4, 59), (2026, 1, 1, 12, 5, 0)),
        (TimePattern(minutes="/5"), (2026, 1, 1, 23, 57, 0), (2026, 1, 2, 0, 0, 0)),
        (TimePattern(seconds="/15"), (2026, 1, 1, 12, 0, 50), (2026, 1, 1, 12, 1, 0)),
        (TimePattern(hours=2, minutes=30), (2026, 1, 1, 12, 0, 0), (2026, 1, 2, 2, 30, 0)),
        (TimePattern(hours="/6", minutes=15, seconds=30), (2026, 12, 31, 18, 15, 30),
         (2027, 1, 1, 0, 15, 30)),
        (TimePattern(minutes=59, seconds=59), (2026, 1, 1, 12, 59, 59), (2026, 1, 1, 13, 59, 59)),
    ],
)
def test_time_pattern_next_after(pattern: TimePattern, after: tuple[int, ...],
                                 expected: tuple[int, ...]) -> None:
    assert pattern.next_after(_ts(*after)) == _ts(*expected)
    # strictly after: a fraction of a second before still gives the same next time
    assert pattern.next_after(_ts(*after) + 0.999) == _ts(*expected)


async def test_time_pattern_every_five_minutes(fake_hub: Hub, fake_clock: FakeClock) -> None:
    seen = Recorder()
    await fake_clock.async_advance(62)  # 12:01:02
    remove = async_track_time_pattern(fake_hub, seen, TimePattern(minutes="/5"))
    await fake_clock.async_advance(20 * 60)
    assert [d.strftime("%H:%M:%S") for d in seen.calls] == ["12:05:00", "12:10:00", "12:15:00", "12:20:00"]
    remove()
    await fake_clock.async_advance(3600)
    assert len(seen.calls) == 4


async def test_time_pattern_local_time_zone(fake_hub: Hub, fake_clock: FakeClock) -> None:
    seen = Recorder()
    async_track_time_pattern(fake_hub, seen, TimePattern(hours=8), tz=CEUTA_TZ)
    await fake_clock.async_advance(86400)
    # 08:00 in Ceuta in January (CET, UTC+1) is 07:00 UTC
    assert seen.calls == [datetime(2026, 1, 2, 7, 0, tzinfo=UTC)]


async def test_time_pattern_does_not_fire_twice_when_timer_is_early(config_dir: Any) -> None:
    class EarlyClock(FakeClock):
        """Reports a time slightly before the due time when a timer fires, as SystemClock may (0.5 ms)."""

        def time(self) -> float:
            return self._now - 0.0004

        def now(self) -> datetime:
            return datetime.fromtimestamp(self.time(), UTC)

    clock = EarlyClock(START)
    hub = Hub(config_dir, clock=clock)
    seen: list[datetime] = []
    remove: Any = None

    @callback
    def action(now: datetime) -> None:
        seen.append(now)
        if len(seen) >= 5:  # bounded, so a regression fails instead of spinning
            remove()

    await clock.async_advance(62)
    remove = async_track_time_pattern(hub, action, TimePattern(minutes="/5"))
    await clock.async_advance(11 * 60)
    assert [d.strftime("%H:%M") for d in seen] == ["12:05", "12:10"]
    await hub.async_stop()


@pytest.mark.parametrize(
    ("start", "label"),
    [(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), "fall back"), (datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
                                                               "spring forward")],
)
async def test_time_pattern_across_dst(config_dir: Any, start: datetime, label: str) -> None:
    clock = FakeClock(start)
    hub = Hub(config_dir, clock=clock)
    seen = Recorder()
    async_track_time_pattern(hub, seen, TimePattern(minutes="/5"), tz=CEUTA_TZ)
    await clock.async_advance(3 * 3600)
    # every five minutes of real time, the change of the clocks notwithstanding
    expected = [start + timedelta(minutes=5 * n) for n in range(1, 37)]
    assert seen.calls == expected, label
    await hub.async_stop()


def test_daily_pattern_across_dst() -> None:
    half_past_two = TimePattern(hours=2, minutes=30)
    # spring forward: 02:30 does not exist in Ceuta on 29 March, so that day has no firing
    march = [half_past_two.next_after(datetime(2026, 3, 28, 0, 0, tzinfo=CEUTA_TZ).timestamp(), CEUTA_TZ)]
    for _ in range(2):
        march.append(half_past_two.next_after(march[-1], CEUTA_TZ))
    assert [datetime.fromtimestamp(t, CEUTA_TZ).strftime("%d %H:%M %Z") for t in march] == [
        "28 02:30 CET", "30 02:30 CEST", "31 02:30 CEST"]
    # fall back: 02:30 happens twice on 25 October and both match, as in Home Assistant
    october = [half_past_two.next_after(datetime(2026, 10, 25, 0, 0, tzinfo=CEUTA_TZ).timestamp(), CEUTA_TZ)]
    for _ in range(2):
        october.append(half_past_two.next_after(october[-1], CEUTA_TZ))
    assert [datetime.fromtimestamp(t, CEUTA_TZ).strftime("%d %H:%M %Z") for t in october] == [
        "25 02:30 CEST", "25 02:30 CET", "26 02:30 CET"]
