"""The action runner: a compiled sequence of steps, run in a mode (single/restart/queued/parallel).

A run starts in the caller's frame (see helpers.run_eager): conditions and callback services finish
without a task or a loop round trip; the first real wait (a delay, a coroutine service, a wait_*)
moves the run into a hub task. Every event and service call of a run carries the run's Context, a
child of the Context of what triggered it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from hub.core import Context, Hub, JobType, callback
from hub.exceptions import HubError

from .const import MODE_PARALLEL, MODE_QUEUED, MODE_RESTART, MODE_SINGLE
from .helpers import EagerResult, run_eager, yield_to_loop
from .trace import (
    EXEC_ABORTED,
    EXEC_CANCELLED,
    EXEC_ERROR,
    EXEC_FINISHED,
    EXEC_MAX_EXCEEDED,
    EXEC_STOPPED,
    RunTrace,
    TraceStore,
)

if TYPE_CHECKING:
    from .actions import Step

__all__ = ["ConditionFail", "RunCheckpoints", "Scope", "Script", "ScriptRun", "StopRun"]

_LOGGER = logging.getLogger(__name__)

_LOG_LEVELS = {"silent": None, "debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
               "error": logging.ERROR, "critical": logging.CRITICAL}
LOG_LEVEL_NAMES = tuple(_LOG_LEVELS)


class ConditionFail(Exception):
    """A condition step was false: the sequence it is in ends (the whole run, at the top level)."""


class StopRun(Exception):
    """A `stop:` step (or a wait that timed out without continue_on_timeout): the run ends."""

    def __init__(self, reason: str | None, error: bool = False, response: Any = None,
                 execution: str = EXEC_STOPPED) -> None:
        super().__init__(reason or "stopped")
        self.reason = reason
        self.error = error
        self.response = response
        self.execution = execution


class Scope:
    """Variables of one sequence level, the step it is at, and how it was entered from its parent."""

    __slots__ = ("branch", "index", "parent", "vars")

    def __init__(self, variables: Mapping[str, Any], parent: Scope | None = None,
                 branch: list[Any] | None = None) -> None:
        self.vars = variables
        self.parent = parent
        self.branch = branch
        self.index = 0

    def set(self, **values: Any) -> None:
        """Set variables in this scope (a new dict: scopes below keep theirs)."""
        self.vars = {**self.vars, **values}

    def frames(self) -> list[dict[str, Any]]:
        """From the root down: the step index, branch and variables of each level (for checkpoints)."""
        chain: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        return [{"i": s.index, "b": s.branch, "v": s.vars} for s in reversed(chain)]


class RunCheckpoints(Protocol):
    """Persistence of runs waiting in a delay or wait (see automations.durable)."""

    def save(self, run: ScriptRun, scope: Scope, leaf: dict[str, Any]) -> None: ...

    def delete(self, run: ScriptRun) -> None: ...


def _service_is_callback(hub: Hub, domain: str, service: str) -> bool:
    """Whether a service's handler runs inline (so an eager run may call it outside a task)."""
    try:
        entry = hub.services.async_get(domain, service)
    except HubError:
        return True  # async_call will raise ServiceNotFound right away, no task needed
    job = getattr(entry, "job", None)
    return job is not None and job.job_type is JobType.Callback


class ScriptRun:
    """One run of a Script."""

    __slots__ = ("_done", "_waiters", "checkpoint_id", "context", "eager", "in_task", "response", "resume",
                 "resume_leaf", "root", "script", "stopping", "trace", "wait_for")

    def __init__(self, script: Script, variables: Mapping[str, Any], context: Context, trace: RunTrace,
                 resume: list[dict[str, Any]] | None = None,
                 resume_leaf: dict[str, Any] | None = None) -> None:
        self.script = script
        self.context = context
        self.trace = trace
        self.root = Scope(variables)
        self.response: Any = None
        self.in_task = False
        self.stopping = False
        self.eager: EagerResult | None = None
        self.wait_for: ScriptRun | None = None
        self.resume = resume
        self.resume_leaf = resume_leaf
        self.checkpoint_id: str | None = None
        self._done = False
        self._waiters: list[asyncio.Future[None]] | None = None

    @property
    def hub(self) -> Hub:
        """The hub the run belongs to."""
        return self.script.hub

    @property
    def done(self) -> bool:
        """Whether the run has ended."""
        return self._done

    # ---- running

    async def async_run(self) -> Any:
        """Run the sequence; never raises except CancelledError (errors end up in the trace)."""
        execution = EXEC_FINISHED
        try:
            if self.wait_for is not None and not self.wait_for.done:
                await self.wait_for.async_wait_done()
            await self.run_sequence(self.script.steps, self.root, self.resume)
        except ConditionFail:
            execution = EXEC_ABORTED
        except StopRun as stop:
            execution = stop.execution
            self.response = stop.response
            if stop.error:
                execution = EXEC_ERROR
                self.trace.set_error(stop.reason or "stopped with an error")
        except asyncio.CancelledError:
            execution = EXEC_CANCELLED
            raise
        except Exception as err:
            execution = EXEC_ERROR
            self.trace.set_error(err)
            if isinstance(err, HubError):
                _LOGGER.error("%s: %s", self.script.name, err)
            else:
                _LOGGER.exception("%s: unexpected error in a step", self.script.name)
        finally:
            self._finish(execution)
        return self.response

    async def run_sequence(self, steps: list[Step], scope: Scope,
                           resume: list[dict[str, Any]] | None = None) -> None:
        """Run `steps` in order in `scope`; resume (after a restart) at the recorded step."""
        start = 0
        if resume:
            start = resume[0]["i"]
        for index in range(start, len(steps)):
            if self.stopping:
                raise asyncio.CancelledError
            step = steps[index]
            scope.index = index
            if not step.enabled:
                continue
            try:
                if resume and index == start:
                    await step.async_resume(self, scope, resume[1:])
                else:
                    await step.async_run(self, scope)
            except (ConditionFail, StopRun, asyncio.CancelledError):
                raise
            except Exception as err:
                if not step.continue_on_error or not isinstance(err, HubError):
                    raise
                self.trace.set_error(err)
                self.trace.error = None  # continued: the run itself did not fail
                _LOGGER.info("%s: %s (continuing: continue_on_error)", self.script.name, err)

    async def run_nested(self, steps: list[Step], scope: Scope, branch: list[Any],
                         variables: Mapping[str, Any] | None = None,
                         resume: list[dict[str, Any]] | None = None) -> None:
        """Run a nested sequence (choose, if, repeat, sequence); a false condition step ends only it.

        Variables set inside stay inside, except `wait` (as in Home Assistant): what a wait in the
        nested sequence found is visible after it, to a repeat's `until` among others.
        """
        nested = Scope(scope.vars if variables is None else variables, scope, branch)
        try:
            await self.run_sequence(steps, nested, resume)
        except ConditionFail:
            pass
        finally:
            wait = nested.vars.get("wait")
            if wait is not None and wait is not scope.vars.get("wait"):
                scope.set(wait=wait)

    # ---- waiting (each marks the run as living in a task from then on)

    async def async_yield(self) -> None:
        """Give the loop a turn (and make sure the run continues in a task)."""
        self.in_task = True
        await yield_to_loop()

    async def async_ensure_task(self, domain: str, service: str) -> None:
        """Before calling a coroutine service handler from an eager run, move into the run's task."""
        if not self.in_task and not _service_is_callback(self.hub, domain, service):
            await self.async_yield()

    async def async_wait(self, future: asyncio.Future[Any] | None, deadline: float | None, scope: Scope,
                         leaf: dict[str, Any] | None = None) -> bool:
        """Wait for `future` (None: only the deadline) until `deadline` (None: forever).

        Returns whether the future finished first. While waiting, the run is checkpointed for durability.
        """
        self.in_task = True
        hub = self.hub
        if future is None:
            future = hub.loop.create_future()
            finished_on_time = False
        else:
            finished_on_time = True
        timed_out = False

        def _timeout() -> None:
            nonlocal timed_out
            timed_out = True
            if not future.done():
                future.set_result(None)

        handle = hub.clock.call_at(deadline, _timeout) if deadline is not None else None
        checkpoints = self.script.checkpoints
        if checkpoints is not None and leaf is not None:
            checkpoints.save(self, scope, {**leaf, "deadline": deadline})
        try:
            await future
        finally:
            if handle is not None:
                handle.cancel()
        if self.checkpoint_id is not None and checkpoints is not None:
            checkpoints.delete(self)
        return finished_on_time and not timed_out

    def async_wait_done(self) -> asyncio.Future[None]:
        """A future that completes when the run ends."""
        future: asyncio.Future[None] = self.hub.loop.create_future()
        if self._done:
            future.set_result(None)
        else:
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(future)
        return future

    # ---- stopping and ending

    @callback
    def request_stop(self) -> None:
        """Stop the run: cancel its task, or (when it runs inline right now) stop before its next step."""
        self.stopping = True
        eager = self.eager
        if eager is not None and eager.task is not None and not eager.task.done():
            eager.task.cancel()

    def _finish(self, execution: str) -> None:
        self._done = True
        script = self.script
        if self.checkpoint_id is not None and script.checkpoints is not None:
            script.checkpoints.delete(self)
        try:
            script.runs.remove(self)
        except ValueError:
            pass
        script.traces.finish(self.trace, execution)
        if self._waiters:
            for future in self._waiters:
                if not future.done():
                    future.set_result(None)
            self._waiters = None
        if script.on_run_end is not None:
            script.on_run_end(self)


class Script:
    """A compiled sequence with a run mode; `async_start` honours single/restart/queued/parallel and max."""

    def __init__(self, hub: Hub, sequence: list[dict[str, Any]], *, name: str, key: str,
                 mode: str = MODE_SINGLE, max_runs: int = 10, max_exceeded: str = "warning",
                 traces: TraceStore, path: str = "action",
                 on_run_end: Callable[[ScriptRun], None] | None = None) -> None:
        from .actions import compile_sequence

        self.hub = hub
        self.name = name
        self.key = key
        self.mode = mode
        self.max_runs = max_runs if mode in (MODE_QUEUED, MODE_PARALLEL) else 1
        self.max_exceeded = _LOG_LEVELS.get(max_exceeded.lower(), logging.WARNING)
        self.traces = traces
        self.steps = compile_sequence(hub, sequence, path)
        self.runs: list[ScriptRun] = []
        self.task_name = f"{key} run"
        self.on_run_end = on_run_end
        self.checkpoints: RunCheckpoints | None = None

    @property
    def is_running(self) -> bool:
        """Whether a run is in progress."""
        return bool(self.runs)

    def refuses(self) -> bool:
        """Whether a new run would be refused now (single and running, or at max)."""
        if not self.runs:
            return False
        if self.mode == MODE_SINGLE:
            return True
        if self.mode == MODE_RESTART:
            return False
        return len(self.runs) >= self.max_runs

    @callback
    def async_start(self, variables: Mapping[str, Any], context: Context, trace: RunTrace,
                    resume: tuple[list[dict[str, Any]], dict[str, Any]] | None = None) -> ScriptRun | None:
        """Start a run (inline until it first waits). None when the mode refused it (trace says so)."""
        if self.refuses():
            if self.max_exceeded is not None:
                _LOGGER.log(self.max_exceeded, "%s: already running (mode %s, max %s); not started",
                            self.name, self.mode, self.max_runs)
            self.traces.finish(trace, EXEC_MAX_EXCEEDED)
            return None
        if self.mode == MODE_RESTART:
            for old in list(self.runs):
                old.request_stop()
        frames, leaf = resume if resume is not None else (None, None)
        run = ScriptRun(self, variables, context, trace, frames, leaf)
        if self.mode == MODE_QUEUED and self.runs:
            run.wait_for = self.runs[-1]
        self.runs.append(run)
        run.eager = eager = run_eager(self.hub, run.async_run(), self.task_name)
        if eager.task is not None and not run.done:
            self.traces.start(trace)  # visible while it waits (a run that finished inline never is)
        return run

    async def async_stop(self) -> None:
        """Stop every run and wait until they have ended."""
        runs = list(self.runs)
        for run in runs:
            run.request_stop()
        for run in runs:
            if not run.done:
                await run.async_wait_done()
