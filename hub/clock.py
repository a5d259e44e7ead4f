"""Clocks: the system clock, and a clock tests can move forward without sleeping."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock", "TimerHandle"]


class TimerHandle(Protocol):
    """Something that can be cancelled."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Wall time and timers. Everything time-driven in the hub goes through `hub.clock`."""

    def time(self) -> float:
        """Seconds since the epoch (UTC)."""

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""

    def monotonic(self) -> float:
        """A monotonic reading for measuring intervals."""

    def call_at(self, when: float, func: Callable[[], None]) -> TimerHandle:
        """Run `func` in the loop at epoch time `when` (or soon after)."""

    def call_later(self, delay: float, func: Callable[[], None]) -> TimerHandle:
        """Run `func` in the loop after `delay` seconds."""

    async def sleep(self, delay: float) -> None:
        """Sleep on this clock."""

    def close(self) -> None:
        """Cancel pending timers."""


class SystemClock:
    """The real clock, scheduling on the event loop.

    Wall-clock deadlines are converted to loop time when scheduled; long timers re-check the wall
    clock when they wake, so a clock step (NTP) makes a timer late by at most its re-check period.
    """

    _RECHECK = 300.0

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def call_at(self, when: float, func: Callable[[], None]) -> TimerHandle:
        return _WallTimer(self._loop, when, func, self._RECHECK)

    def call_later(self, delay: float, func: Callable[[], None]) -> TimerHandle:
        return self._loop.call_later(max(0.0, delay), func)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)

    def close(self) -> None:
        return None


class _WallTimer:
    __slots__ = ("_func", "_handle", "_loop", "_recheck", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop, when: float, func: Callable[[], None],
                 recheck: float) -> None:
        self._loop = loop
        self._when = when
        self._func = func
        self._recheck = recheck
        self._handle: asyncio.TimerHandle | None = None
        self._schedule()

    def _schedule(self) -> None:
        delay = self._when - time.time()
        if delay <= 0:
            self._handle = None
            self._loop.call_soon(self._fire)
            return
        self._handle = self._loop.call_later(min(delay, self._recheck), self._wake)

    def _wake(self) -> None:
        if self._when - time.time() > 0.0005:
            self._schedule()
        else:
            self._fire()

    def _fire(self) -> None:
        if self._func is None:  # cancelled
            return
        func, self._func = self._func, None  # type: ignore[assignment]
        func()

    def cancel(self) -> None:
        self._func = None  # type: ignore[assignment]
        if self._handle is not None:
            self._handle.cancel()


class _FakeTimer:
    __slots__ = ("cancelled", "func", "when")

    def __init__(self, when: float, func: Callable[[], None]) -> None:
        self.when = when
        self.func = func
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock for tests and rule replays: time stands still until `async_advance` moves it.

    Timers due within an advance fire in time order, each with the clock set to its due time, and
    the loop runs between them so that work they schedule happens before the next one.
    """

    def __init__(self, start: datetime | float | None = None) -> None:
        if start is None:
            start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._mono = 0.0
        self._heap: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._now

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def monotonic(self) -> float:
        return self._mono

    def call_at(self, when: float, func: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(when, func)
        heapq.heappush(self._heap, (when, next(self._seq), timer))
        return timer

    def call_later(self, delay: float, func: Callable[[], None]) -> TimerHandle:
        return self.call_at(self._now + max(0.0, delay), func)

    async def sleep(self, delay: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def _done() -> None:
            if not fut.done():
                fut.set_result(None)

        handle = self.call_later(delay, _done)
        try:
            await fut
        finally:
            handle.cancel()

    @property
    def pending(self) -> int:
        """Number of timers not yet fired or cancelled."""
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    async def async_advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order and letting the loop settle after each."""
        await self.async_advance_to(self._now + seconds)

    async def async_advance_to(self, target: float | datetime) -> None:
        """Move time forward to an absolute point."""
        end = target.timestamp() if isinstance(target, datetime) else float(target)
        await _settle()
        while self._heap and self._heap[0][0] <= end:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            if when > self._now:
                self._mono += when - self._now
                self._now = when
            timer.cancelled = True
            timer.func()
            await _settle()
        if end > self._now:
            self._mono += end - self._now
            self._now = end
        await _settle()

    def close(self) -> None:
        for _, _, timer in self._heap:
            timer.cancelled = True
        self._heap.clear()


async def _settle(rounds: int = 20) -> None:
    """Let ready callbacks and short task chains run."""
    for _ in range(rounds):
        await asyncio.sleep(0)
