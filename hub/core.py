"""The Hub: owns the loop, bus, states and services; re-exports the core types."""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .clock import Clock, SystemClock
from .const import (
    EVENT_HUB_CLOSE,
    EVENT_HUB_FINAL_WRITE,
    EVENT_HUB_START,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
)
from .events import Context, Event, EventBus, EventFilter, EventOrigin, ReadOnlyDict
from .jobs import CALLBACK_TYPE, HubJob, JobType, callback, is_callback
from .services import Service, ServiceCall, ServiceRegistry, ServiceResponse, SupportsResponse
from .states import State, StateMachine, split_entity_id, valid_domain, valid_entity_id

if TYPE_CHECKING:
    from .config.core import CoreConfig

__all__ = [
    "CALLBACK_TYPE",
    "Context",
    "Event",
    "EventBus",
    "EventFilter",
    "EventOrigin",
    "Hub",
    "HubJob",
    "HubKey",
    "HubState",
    "JobType",
    "ReadOnlyDict",
    "Service",
    "ServiceCall",
    "ServiceRegistry",
    "ServiceResponse",
    "State",
    "StateMachine",
    "SupportsResponse",
    "callback",
    "is_callback",
    "split_entity_id",
    "valid_domain",
    "valid_entity_id",
]

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")


# --------------------------------------------------------------------------- hub


class HubState(enum.Enum):
    """Lifecycle of the hub."""

    not_running = "NOT_RUNNING"
    starting = "STARTING"
    running = "RUNNING"
    stopping = "STOPPING"
    final_write = "FINAL_WRITE"
    stopped = "STOPPED"


class HubKey(Generic[_T]):
    """A typed key for `hub.data`: `KEY: HubKey[Recorder] = HubKey("recorder")`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<HubKey {self.name}>"


class HubData(dict[Any, Any]):
    """`hub.data`, typed when indexed with HubKey."""


class Hub:
    """Owns the loop, the bus, the states, the services and every integration's data."""

    def __init__(self, config_dir: str | os.PathLike[str], *, clock: Clock | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.config_dir = Path(config_dir)
        self.clock: Clock = clock or SystemClock(self.loop)
        self.bus = EventBus(self)
        self.states = StateMachine(self, self.bus)
        self.services = ServiceRegistry(self)
        self.data: HubData = HubData()
        self.state = HubState.not_running
        self.exit_code = 0
        self._tasks: set[asyncio.Future[Any]] = set()
        self._background_tasks: set[asyncio.Future[Any]] = set()
        self._stopped = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=int(os.environ.get("HACHO_EXECUTOR_WORKERS", "8")),
                                            thread_name_prefix="hub-executor")
        self.loop.set_default_executor(self._executor)
        self.config: CoreConfig | None = None
        self._thread_id = threading.get_ident()

    # ---- jobs and tasks

    @property
    def is_running(self) -> bool:
        """Whether the hub is starting or running."""
        return self.state in (HubState.starting, HubState.running)

    @property
    def is_stopping(self) -> bool:
        """Whether the hub is on its way down."""
        return self.state in (HubState.stopping, HubState.final_write, HubState.stopped)

    def path(self, *parts: str) -> Path:
        """A path inside the config dir."""
        return self.config_dir.joinpath(*parts)

    @callback
    def async_create_task(self, coro: Coroutine[Any, Any, _R], name: str | None = None,
                          eager_start: bool = False, log_exceptions: bool = True) -> asyncio.Task[_R]:
        """Create a task the hub keeps a reference to and waits for in async_block_till_done.

        log_exceptions=False when the caller awaits the task and handles its exception itself.
        """
        task = self.loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done if log_exceptions else self._tasks.discard)
        return task

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _LOGGER.error("Error in task %s", getattr(task, "get_name", lambda: "?")(),
                          exc_info=(type(exc), exc, exc.__traceback__))

    @callback
    def async_create_background_task(self, coro: Coroutine[Any, Any, _R], name: str) -> asyncio.Task[_R]:
        """A long-running task (a connection loop): referenced, cancelled on stop, not waited for."""
        task = self.loop.create_task(coro, name=name)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Future[Any]) -> None:
        self._background_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _LOGGER.error("Error in background task %s", getattr(task, "get_name", lambda: "?")(),
                          exc_info=(type(exc), exc, exc.__traceback__))

    @callback
    def async_run_hub_job(self, job: HubJob[Any], *args: Any) -> asyncio.Future[Any] | None:
        """Run a job: callbacks inline, coroutines as tasks, other functions in the executor."""
        if job.job_type is JobType.Callback:
            job.target(*args)
            return None
        if job.job_type is JobType.Coroutinefunction:
            return self.async_create_task(job.target(*args), job.name)
        fut = self.loop.run_in_executor(None, job.target, *args)
        self._tasks.add(fut)
        fut.add_done_callback(self._task_done)
        return fut

    @callback
    def async_run_job(self, target: Callable[..., Any], *args: Any) -> asyncio.Future[Any] | None:
        """Run any callable the right way for its kind."""
        return self.async_run_hub_job(HubJob(target), *args)

    def async_add_executor_job(self, target: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
        """Run blocking work (file, database, CPU) in the executor; awaitable."""
        fut = self.loop.run_in_executor(None, target, *args)
        self._tasks.add(fut)
        fut.add_done_callback(self._tasks.discard)
        return fut

    async def async_block_till_done(self, timeout: float | None = 30) -> None:
        """Wait until every tracked task and executor job is done (tests and shutdown)."""
        deadline = time.monotonic() + timeout if timeout is not None else None
        await asyncio.sleep(0)
        while True:
            pending = [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]
            if not pending:
                # give callbacks scheduled by finished tasks a chance to run
                await asyncio.sleep(0)
                if not [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]:
                    return
                continue
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                raise TimeoutError(f"{len(pending)} tasks still running: {pending[:3]}")
            await asyncio.wait(pending, timeout=remaining)

    def run_coroutine_threadsafe(self, coro: Coroutine[Any, Any, _T]) -> Any:
        """Schedule a coroutine from another thread; returns a concurrent Future."""
        if threading.get_ident() == self._thread_id:
            raise RuntimeError("run_coroutine_threadsafe called from the loop thread")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    # ---- lifecycle

    async def async_start(self) -> None:
        """Fire the start events; integrations set up before this are now live."""
        _LOGGER.info("Starting hub")
        self.state = HubState.starting
        self.bus.async_fire(EVENT_HUB_START)
        await self.async_block_till_done()
        self.state = HubState.running
        self.bus.async_fire(EVENT_HUB_STARTED)

    @callback
    def async_request_stop(self, exit_code: int = 0) -> None:
        """Ask the hub to stop (signal handlers, services)."""
        if self.is_stopping:
            return
        self.exit_code = exit_code
        self.async_create_background_task(self.async_stop(exit_code), "hub stop")

    async def async_stop(self, exit_code: int = 0, *, timeout: float = 60) -> None:
        """Stop gracefully: `hub_stop` (integrations unload), `hub_final_write` (recorder flushes), close."""
        if self.state in (HubState.stopping, HubState.final_write, HubState.stopped):
            await self._stopped.wait()
            return
        _LOGGER.info("Stopping hub")
        self.exit_code = exit_code
        self.state = HubState.stopping
        self.bus.async_fire(EVENT_HUB_STOP)
        try:
            await self.async_block_till_done(timeout=timeout)
        except TimeoutError as err:
            _LOGGER.warning("Stop: %s", err)
        self.state = HubState.final_write
        self.bus.async_fire(EVENT_HUB_FINAL_WRITE)
        try:
            await self.async_block_till_done(timeout=timeout)
        except TimeoutError as err:
            _LOGGER.warning("Final write: %s", err)
        self.bus.async_fire(EVENT_HUB_CLOSE)
        try:
            await self.async_block_till_done(timeout=timeout)
        except TimeoutError as err:
            _LOGGER.warning("Close: %s", err)
        for task in list(self._background_tasks):
            if task is not asyncio.current_task():
                task.cancel()
        for task in list(self._background_tasks):
            if task is not asyncio.current_task():
                try:
                    await asyncio.wait_for(task, 5)
                except (asyncio.CancelledError, Exception):
                    pass
        self.clock.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.state = HubState.stopped
        self._stopped.set()

    async def async_wait_stopped(self) -> int:
        """Wait until the hub has stopped; returns the exit code."""
        await self._stopped.wait()
        return self.exit_code
