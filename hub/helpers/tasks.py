"""Small asyncio helpers for integrations that keep a background task or wait for a connection."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["async_cancel_task", "async_wait_event"]


async def async_cancel_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` (if any) and wait until it has ended; its CancelledError is not passed on."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def async_wait_event(event: asyncio.Event, timeout: float | None = None) -> bool:
    """Wait until `event` is set; False when `timeout` seconds pass first (None: wait for ever)."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
