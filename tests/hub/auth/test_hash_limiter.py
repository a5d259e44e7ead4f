"""The password hash limiter on a running hub's executor: bounded concurrency, bounded queue, 'busy' at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hub.auth.passwords import HashLimiter, PasswordBusy
from hub.core import Hub


class _Work:
    """Blocking work that records how many copies run at once and waits to be released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.started = threading.Semaphore(0)

    def __call__(self, value: int) -> int:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.started.release()
        self.release.wait(10)
        with self._lock:
            self.running -= 1
        return value


async def test_at_most_two_run_eight_wait_and_the_rest_are_refused_at_once(hub: Hub) -> None:
    limiter = HashLimiter(hub, concurrency=2, queue=8)
    work = _Work()
    admitted = [asyncio.ensure_future(limiter.async_run(work, n)) for n in range(10)]
    await hub.async_add_executor_job(work.started.acquire)
    await hub.async_add_executor_job(work.started.acquire)
    assert limiter.admitted == 10
    with pytest.raises(PasswordBusy):
        await limiter.async_run(work, 99)
    assert work.running == 2
    work.release.set()
    assert await asyncio.gather(*admitted) == list(range(10))
    assert work.most == 2
    assert limiter.admitted == 0


async def test_a_cancelled_caller_keeps_its_slot_until_the_hash_ends(hub: Hub) -> None:
    limiter = HashLimiter(hub, concurrency=1, queue=0)
    work = _Work()
    first = asyncio.ensure_future(limiter.async_run(work, 1))
    await hub.async_add_executor_job(work.started.acquire)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    with pytest.raises(PasswordBusy):  # the argon2 work still runs, so its memory is still held
        await limiter.async_run(work, 2)
    waiting = asyncio.ensure_future(limiter.async_run(work, 3, wait=True))
    work.release.set()
    assert await waiting == 3
    assert work.most == 1
    assert limiter.admitted == 0
