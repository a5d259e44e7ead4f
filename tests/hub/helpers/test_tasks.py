"""The background-task helpers: cancel and wait, wait for an event with a timeout."""

from __future__ import annotations

import asyncio

from hub.helpers.tasks import async_cancel_task, async_wait_event


async def test_cancel_task_waits_for_its_cleanup() -> None:
    cleaned: list[str] = []

    async def worker() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits
            cleaned.append("done")

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    await async_cancel_task(task)
    assert task.cancelled() and cleaned == ["done"]
    await async_cancel_task(None)  # nothing to do


async def test_wait_event_times_out_or_returns_when_set() -> None:
    event = asyncio.Event()
    assert await async_wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await async_wait_event(event, 5) is True
