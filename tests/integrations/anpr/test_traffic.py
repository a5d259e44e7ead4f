"""Rolling counts, journey times between cameras by keyed hash, and congestion states."""

from __future__ import annotations

import pytest

from integrations.anpr.config import JourneyConfig
from integrations.anpr.traffic import JourneyTracker, RollingCounter


def _journey(**kw: float) -> JourneyConfig:
    values = {
        "distance_m": 1000.0,
        "free_flow_kmh": 50.0,
        "max_seconds": 600.0,
        "window_seconds": 900.0,
        "heavy_ratio": 0.6,
        "congested_ratio": 0.3,
        **kw,
    }
    return JourneyConfig(
        "a_b",
        "A to B",
        "a",
        "b",
        values["distance_m"],
        values["free_flow_kmh"],
        values["max_seconds"],
        values["window_seconds"],
        values["heavy_ratio"],
        values["congested_ratio"],
    )


def test_rolling_counter() -> None:
    counter = RollingCounter(60)
    for ts in (0, 10, 30, 59):
        counter.add(ts)
    assert counter.count(59) == 4
    assert counter.count(65) == 3  # the one at 0 left the window
    assert counter.per_hour(65) == 180.0
    assert counter.total == 4


def test_journey_time_speed_and_congestion() -> None:
    tracker = JourneyTracker(_journey())
    assert tracker.stats(0).congestion == "unknown"
    tracker.origin("h1", 0.0)
    tracker.origin("h2", 10.0)
    assert tracker.destination("h1", 72.0) == 72.0  # 1 km in 72 s = 50 km/h
    assert tracker.destination("h3", 80.0) is None  # never seen at the origin
    assert tracker.destination("h2", 82.0) == 72.0
    stats = tracker.stats(100.0)
    assert stats.samples == 2 and stats.median_seconds == 72.0
    assert stats.speed_kmh == pytest.approx(50.0) and stats.congestion == "free"
    tracker.origin("h4", 100.0)
    tracker.destination("h4", 100.0 + 200.0)  # 18 km/h
    tracker.origin("h5", 100.0)
    tracker.destination("h5", 100.0 + 200.0)
    assert tracker.stats(300.0).congestion == "heavy"  # median 200 s -> 18 km/h = 0.36 of free flow
    for n in range(6, 12):
        tracker.origin(f"h{n}", 300.0)
        tracker.destination(f"h{n}", 300.0 + 400.0)  # 9 km/h
    assert tracker.stats(700.0).congestion == "congested"


def test_journeys_past_the_limit_or_the_window_do_not_count() -> None:
    tracker = JourneyTracker(_journey(max_seconds=300.0, window_seconds=60.0))
    tracker.origin("h1", 0.0)
    assert tracker.destination("h1", 400.0) is None  # took too long: not the same trip
    tracker.origin("h2", 400.0)
    tracker.destination("h2", 460.0)
    assert tracker.stats(470.0).samples == 1
    assert tracker.stats(600.0).samples == 0  # out of the window
