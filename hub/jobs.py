"""Jobs: the @callback marker and HubJob, which decides once how a target runs."""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

__all__ = [
    "CALLBACK_TYPE",
    "HubJob",
    "JobType",
    "callback",
    "is_callback",
]

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")
CALLBACK_TYPE = Callable[[], None]

# --------------------------------------------------------------------------- callbacks and jobs


def callback(func: _T) -> _T:
    """Mark a function as safe to run in the event loop without awaiting (no I/O, no blocking)."""
    try:
        setattr(func, "_hub_callback", True)  # noqa: B010
    except AttributeError:  # builtins and bound methods of builtins: wrap them
        target = cast("Callable[..., Any]", func)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return target(*args, **kwargs)

        wrapper._hub_callback = True  # type: ignore[attr-defined]
        return cast("_T", wrapper)
    return func


def is_callback(func: Callable[..., Any]) -> bool:
    """Whether `func` was marked with @callback."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "_hub_callback", False) is True


class JobType(enum.Enum):
    """How a HubJob runs: inline in the loop, as a task, or in the executor."""

    Callback = 1
    Coroutinefunction = 2
    Executor = 3


def _job_type(target: Callable[..., Any]) -> JobType:
    check = target
    while isinstance(check, functools.partial):
        check = check.func
    if asyncio.iscoroutinefunction(check):
        return JobType.Coroutinefunction
    if is_callback(check):
        return JobType.Callback
    return JobType.Executor


class HubJob(Generic[_R]):
    """A target with its job type decided once, so dispatch costs one comparison."""

    __slots__ = ("job_type", "name", "target")

    def __init__(self, target: Callable[..., _R], name: str | None = None) -> None:
        self.target = target
        self.job_type = _job_type(target)
        self.name = name or getattr(target, "__qualname__", repr(target))

    def __repr__(self) -> str:
        return f"<HubJob {self.job_type.name} {self.name}>"


