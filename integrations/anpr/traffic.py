"""Traffic from plate reads: rolling counts per camera (lane), journey times and average speeds between
camera pairs by matching keyed plate hashes, and a congestion state per road section."""

from __future__ import annotations

import statistics
from collections import OrderedDict, deque
from dataclasses import dataclass

from .config import JourneyConfig

__all__ = ["CONGESTION_STATES", "JourneyStats", "JourneyTracker", "RollingCounter"]

CONGESTION_STATES = ("free", "heavy", "congested", "unknown")
MAX_OPEN_JOURNEYS = 50_000  # hashes waiting at an origin camera (oldest dropped first)


class RollingCounter:
    """Events in the last `window` seconds."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._times: deque[float] = deque()
        self.total = 0

    def add(self, ts: float) -> None:
        self._times.append(ts)
        self.total += 1

    def count(self, now: float) -> int:
        cutoff = now - self.window
        while self._times and self._times[0] <= cutoff:
            self._times.popleft()
        return len(self._times)

    def per_hour(self, now: float) -> float:
        return round(self.count(now) * 3600.0 / self.window, 1)


@dataclass(frozen=True, slots=True)
class JourneyStats:
    """A road section's figures over its window."""

    samples: int
    median_seconds: float | None
    speed_kmh: float | None
    congestion: str

    def as_dict(self) -> dict[str, object]:
        return {"samples": self.samples, "median_seconds": self.median_seconds, "speed_kmh": self.speed_kmh,
                "congestion": self.congestion}


class JourneyTracker:
    """Matches hashes seen at the origin camera with those later seen at the destination."""

    def __init__(self, config: JourneyConfig) -> None:
        self.config = config
        self._open: OrderedDict[str, float] = OrderedDict()
        self._samples: deque[tuple[float, float]] = deque()

    def origin(self, plate_hash: str, ts: float) -> None:
        """A vehicle passed the origin camera."""
        self._open.pop(plate_hash, None)
        self._open[plate_hash] = ts
        while len(self._open) > MAX_OPEN_JOURNEYS:
            self._open.popitem(last=False)

    def destination(self, plate_hash: str, ts: float) -> float | None:
        """A vehicle passed the destination camera; its journey time when it came from the origin in time."""
        started = self._open.pop(plate_hash, None)
        if started is None:
            return None
        seconds = ts - started
        if seconds <= 0 or seconds > self.config.max_seconds:
            return None
        self._samples.append((ts, seconds))
        return seconds

    def stats(self, now: float) -> JourneyStats:
        """Median journey time, the speed it means, and the congestion state, over the window."""
        cutoff = now - self.config.window_seconds
        while self._samples and self._samples[0][0] < cutoff:
            self._samples.popleft()
        while self._open and next(iter(self._open.values())) < now - self.config.max_seconds:
            self._open.popitem(last=False)
        if not self._samples:
            return JourneyStats(0, None, None, "unknown")
        median = statistics.median(s for _ts, s in self._samples)
        speed = self.config.distance_m / median * 3.6
        ratio = speed / self.config.free_flow_kmh
        if ratio >= self.config.heavy_ratio:
            state = "free"
        elif ratio >= self.config.congested_ratio:
            state = "heavy"
        else:
            state = "congested"
        return JourneyStats(len(self._samples), round(median, 1), round(speed, 1), state)
