"""Small helpers shared by the automation engine: time periods, slugs and eager runs (the time zone is
`hub.helpers.dt.hub_tz`; `slugify` lives with the template filters, where templates reach it too)."""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any

from hub.helpers.dt import parse_time_period
from hub.helpers.template_functions import slugify

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["parse_time_period", "run_eager", "slugify"]

_LOGGER = logging.getLogger(__name__)



# --------------------------------------------------------------------------- eager runs


@types.coroutine
def _pass_up(value: Any) -> Generator[Any, Any, Any]:
    """Hand something a coroutine yielded (a future, or None) up to the Task that runs us."""
    return (yield value)


async def _continue(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    """Drive `coro` from inside a Task after it first suspended outside of one.

    The Task waits for whatever `coro` yielded (a future, or None for a bare yield); then the
    coroutine resumes with `send(None)`, or with the future's exception thrown in, exactly as if a
    Task had run it from the start. Cancelling the Task cancels the awaited future, whose
    CancelledError is thrown into `coro`.
    """
    while True:
        try:
            await _pass_up(yielded)
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return stop.value


class EagerResult:
    """What `run_eager` returns: done at once (with `result`), or running in `task`."""

    __slots__ = ("result", "task")

    def __init__(self, result: Any = None, task: asyncio.Task[Any] | None = None) -> None:
        self.result = result
        self.task = task

    @property
    def done(self) -> bool:
        """Whether the coroutine has finished."""
        return self.task is None or self.task.done()

    async def wait(self) -> Any:
        """Wait for the coroutine's result."""
        if self.task is None:
            return self.result
        return await self.task


class _Depth:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


_DEPTH = _Depth()
MAX_EAGER_DEPTH = 8


def run_eager(hub: Hub, coro: Coroutine[Any, Any, Any], name: str) -> EagerResult:
    """Start `coro` now, in the caller's frame; only if it suspends does it continue in a hub background task.

    Most automation runs finish without waiting for anything (conditions, then callback services),
    so they cost no task and no loop round trip. The coroutine must not rely on
    `asyncio.current_task()` before its first suspension (the runner yields to the loop before
    calling code it does not own that may).
    """
    if _DEPTH.value >= MAX_EAGER_DEPTH:
        # A run that triggers a run that triggers a run...: past a few levels, go through the loop.
        return EagerResult(task=hub.async_create_background_task(coro, name))
    _DEPTH.value += 1
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        return EagerResult(stop.value)
    except asyncio.CancelledError:
        return EagerResult(None)
    except Exception:
        _LOGGER.exception("Error in %s", name)
        return EagerResult(None)
    finally:
        _DEPTH.value -= 1
    # A background task: a run that waits ten minutes must not hold up hub.async_block_till_done()
    # (nor the start); the engine stops its runs itself when the hub stops.
    return EagerResult(task=hub.async_create_background_task(_continue(coro, yielded), name))


@types.coroutine
def yield_to_loop() -> Generator[None, None, None]:
    """Suspend once (a bare yield): an eagerly started run moves into its task here."""
    yield
