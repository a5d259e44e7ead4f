"""Acknowledged means durable: await the commit of a queued write, with group commit.

A store that queues writes in the loop and sends them to the recorder in batches (one database job,
one commit, for everything queued meanwhile) counts each write with `CommitTracker.queued()` and,
after the job that held writes up to sequence n committed, calls `committed(n)`. A caller that must
not answer before its write is stored awaits `async_wait(seq)` (or `async_wait()` for everything
queued so far). Many callers share one commit, so throughput stays that of the batches.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import TYPE_CHECKING, Final

from ..exceptions import ServiceCallTimeout

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["DURABLE_TIMEOUT", "CommitTracker", "NotStoredError"]

DURABLE_TIMEOUT: Final = 30.0  # seconds a caller waits for its commit before it is told it is not stored yet


class NotStoredError(ServiceCallTimeout):
    """The write is queued (and retried) but not committed yet: the database is unavailable or slow.
    A timeout like a service call's (HTTP 504): the change is made, only its commit is late."""


class CommitTracker:
    """Sequence numbers of queued writes and the futures waiting for the commit that covers them."""

    def __init__(self, hub: Hub, what: str) -> None:
        self.hub = hub
        self.what = what
        self.last_queued = 0
        self.last_committed = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def queued(self) -> int:
        """Count one more queued write; returns its sequence number (call it in the loop)."""
        self.last_queued += 1
        return self.last_queued

    def committed(self, seq: int) -> None:
        """Every write up to `seq` is committed: wake their waiters (in the loop)."""
        if seq <= self.last_committed:
            return
        self.last_committed = seq
        waiters = self._waiters
        while waiters and waiters[0][0] <= seq:
            future = heapq.heappop(waiters)[2]
            if not future.done():
                future.set_result(None)

    async def async_wait(self, seq: int | None = None, timeout: float = DURABLE_TIMEOUT) -> None:
        """Return once write `seq` (default: every write queued so far) is committed.

        Raises NotStoredError after `timeout` seconds: the write stays queued and is retried.
        """
        target = self.last_queued if seq is None else seq
        if target <= self.last_committed:
            return
        future: asyncio.Future[None] = self.hub.loop.create_future()
        heapq.heappush(self._waiters, (target, next(self._order), future))
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise NotStoredError(
                f"The {self.what} is not stored yet (database unavailable or slow); it is kept and retried"
            ) from None
