"""CommitTracker: callers wait for the commit that covers their write, many share one, and a late commit is
reported as a timeout (the write stays queued)."""

from __future__ import annotations

import asyncio

import pytest

from hub.core import Hub
from hub.exceptions import ServiceCallTimeout
from hub.recorder.durable import CommitTracker, NotStoredError


async def test_each_caller_returns_once_a_commit_covers_its_write(hub: Hub) -> None:
    tracker = CommitTracker(hub, "test write")
    first, second, third = tracker.queued(), tracker.queued(), tracker.queued()
    waiting = {seq: asyncio.ensure_future(tracker.async_wait(seq)) for seq in (first, second, third)}
    everything = asyncio.ensure_future(tracker.async_wait())  # every write queued so far
    await asyncio.sleep(0)
    assert not any(task.done() for task in (*waiting.values(), everything))
    tracker.committed(second)  # one commit held the first two writes
    await asyncio.wait_for(asyncio.gather(waiting[first], waiting[second]), 5)
    assert not waiting[third].done() and not everything.done()
    tracker.committed(third)
    await asyncio.gather(waiting[third], everything)
    await tracker.async_wait(first)  # already committed: no wait


async def test_a_late_commit_is_a_timeout_that_names_what_waits(hub: Hub) -> None:
    tracker = CommitTracker(hub, "alarm change")
    seq = tracker.queued()
    with pytest.raises(NotStoredError, match="alarm change is not stored yet") as err:
        await tracker.async_wait(seq, timeout=0.05)
    assert isinstance(err.value, ServiceCallTimeout)  # answered like a service call that timed out (504)
    tracker.committed(seq)  # the write still lands; later callers do not wait
    await tracker.async_wait(seq, timeout=0.05)
