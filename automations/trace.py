"""Run traces: the path a run took, each step's variables, results, timings and errors.

A running trace is a RunTrace; when the run ends it is frozen into compact JSON bytes (no references
to States or Events are kept), stored per automation (the last 20 by default, plus always the last
error and the last success) and handed to a backend that can persist it (see automations.storage).
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import orjson

from hub.core import Context, Event, Hub, HubKey, State
from hub.exceptions import HubError

from .const import DEFAULT_STORED_TRACES

__all__ = [
    "EXEC_ABORTED",
    "EXEC_CANCELLED",
    "EXEC_ERROR",
    "EXEC_FAILED_CONDITIONS",
    "EXEC_FINISHED",
    "EXEC_MAX_EXCEEDED",
    "RunTrace",
    "TraceBackend",
    "TraceElement",
    "TraceStore",
    "get_trace_store",
]

_LOGGER = logging.getLogger(__name__)

EXEC_RUNNING = "running"
EXEC_FINISHED = "finished"
EXEC_FAILED_CONDITIONS = "failed_conditions"
EXEC_MAX_EXCEEDED = "failed_max_runs"
EXEC_ABORTED = "aborted"  # a condition step stopped the run
EXEC_CANCELLED = "cancelled"
EXEC_ERROR = "error"
EXEC_STOPPED = "stopped"  # a `stop:` step
EXEC_ABANDONED = "abandoned"  # not resumed after a restart

_RUN_IDS = itertools.count(1)


def _default(value: Any) -> Any:
    """How objects that JSON lacks appear in a trace."""
    if isinstance(value, State):
        return _state_dict(value)
    if isinstance(value, Event):
        return {"event_type": value.event_type, "data": value.data, "origin": value.origin.value,
                "time_fired": value.time_fired_ts, "context_id": value.context.id}
    if isinstance(value, Context):
        return value.as_dict()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def dumps(value: Any) -> bytes:
    """Compact JSON for traces (States, Events, datetimes and the rest handled)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


@dataclass(slots=True)
class TraceElement:
    """One step of a run: where it was, when (µs since the start), and what the step filled in."""

    path: str
    offset_us: int
    result: Any = None
    error: str | None = None
    variables: Mapping[str, Any] | None = None  # the variables the step changed

    def compact(self) -> list[Any]:
        """[path, µs, result, error, variables] without the empty slots at the end (the frozen form)."""
        fields = [self.path, self.offset_us, self.result, self.error, self.variables]
        end = len(fields)
        while end > 2 and fields[end - 1] is None:
            end -= 1
        return fields[:end]


class RunTrace:
    """The trace of one run while it runs: its TraceElements in order."""

    __slots__ = ("_clock", "context", "error", "execution", "key", "run_id", "start", "steps", "trigger")

    def __init__(self, hub: Hub, key: str, context: Context, trigger: str | None = None) -> None:
        self._clock = hub.clock
        self.key = key
        self.run_id = f"{next(_RUN_IDS):x}"
        self.context = context
        self.start = hub.clock.time()
        self.trigger = trigger
        self.steps: list[TraceElement] = []
        self.execution = EXEC_RUNNING
        self.error: str | None = None

    def add(self, path: str, result: Any = None, variables: Mapping[str, Any] | None = None) -> TraceElement:
        """Record that the run reached `path`; returns the element for the step to fill."""
        element = TraceElement(path, int((self._clock.time() - self.start) * 1_000_000), result, None, variables)
        self.steps.append(element)
        return element

    def set_error(self, error: BaseException | str, element: TraceElement | None = None) -> None:
        """Note an error on an element (the last one by default) and on the run."""
        text = error if isinstance(error, str) else _error_text(error)
        target = element if element is not None else (self.steps[-1] if self.steps else None)
        if target is not None:
            target.error = text
        self.error = text

    def as_dict(self, finish: float | None = None) -> dict[str, Any]:
        """The trace as JSON-able data."""
        return {
            "run_id": self.run_id,
            "key": self.key,
            "context": {"id": self.context.id, "parent_id": self.context.parent_id,
                        "user_id": self.context.user_id},
            "start": self.start,
            "finish": finish,
            "execution": self.execution,
            "error": self.error,
            "trigger": self.trigger,
            "steps": [_element_dict(element.compact()) for element in self.steps],
        }

    def freeze(self) -> bytes:
        """The finished trace as compact JSON, an array (expanded to a mapping when read).

        A simple run takes under 480 bytes, which Python's small-object allocator serves without
        fragmenting the heap; thousands of automations keep twenty each.
        """
        context = self.context
        steps = [element.compact() for element in self.steps]
        first = self.steps[0] if self.steps else None
        if first is not None and isinstance(first.variables, dict) and "trigger" in first.variables:
            steps[0] = [first.path, first.offset_us, first.result, first.error, _compact_trigger(first.variables)]
        data = [_FORMAT, self.run_id, context.id, context.parent_id, context.user_id, self.start,
                int((self._clock.time() - self.start) * 1_000_000), self.execution, self.trigger, steps]
        if self.error is not None:
            data.append(self.error)
        # orjson's buffer is larger than its output: copy so a kept trace costs only its length.
        return memoryview(dumps(data)).tobytes()


def _compact_trigger(variables: dict[str, Any]) -> dict[str, Any]:
    """The trigger payload without empty keys and the description (the trace has it); its States
    without the entity id when it is the trigger's own."""
    trigger = variables["trigger"]
    if not isinstance(trigger, dict):
        return variables
    entity_id = trigger.get("entity_id")
    compact: dict[str, Any] = {}
    for key, value in trigger.items():
        if value is None or key == "description":
            continue
        if type(value) is State and value.entity_id == entity_id:
            value = _state_dict(value, with_entity_id=False)
        compact[key] = value
    return {**variables, "trigger": compact}


def _state_dict(state: State, with_entity_id: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"entity_id": state.entity_id} if with_entity_id else {}
    data["state"] = state.state
    data["last_changed"] = state.last_changed_ts
    if state.attributes:
        data["attributes"] = state.attributes
    context = state.context
    if context.parent_id or context.user_id:
        data["context"] = {"id": context.id, "parent_id": context.parent_id, "user_id": context.user_id}
    return data


def _error_text(error: BaseException) -> str:
    if isinstance(error, HubError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _element_dict(element: list[Any]) -> dict[str, Any]:
    path, offset, result, error, variables = [*element, None, None, None][:5]
    data: dict[str, Any] = {"path": path, "offset_us": offset}
    if result is not None:
        data["result"] = result
    if error is not None:
        data["error"] = error
    if variables:
        data["changed_variables"] = variables
    return data


_FORMAT = 1


def expand(blob: bytes, key: str | None = None) -> dict[str, Any]:
    """A frozen trace as the API shows it."""
    raw = orjson.loads(blob)
    (_, run_id, ctx_id, parent_id, user_id, start, duration_us, execution, trigger, steps, *rest) = raw
    return {
        "run_id": run_id,
        "key": key,
        "context": {"id": ctx_id, "parent_id": parent_id, "user_id": user_id},
        "start": start,
        "finish": start + duration_us / 1_000_000,
        "duration_us": duration_us,
        "execution": execution,
        "error": rest[0] if rest else None,
        "trigger": trigger,
        "steps": [_element_dict(element) for element in steps],
    }


def run_id_of(blob: bytes) -> str:
    """The run id of a frozen trace."""
    return str(orjson.loads(blob)[1])


class TraceBackend(Protocol):
    """Where finished traces are persisted (the recorder database); see automations.storage."""

    def async_save(self, key: str, run_id: str, blob: bytes, is_error: bool) -> None: ...


class _Kept:
    __slots__ = ("last_error", "last_success", "recent", "running")

    def __init__(self, size: int) -> None:
        self.recent: deque[bytes] = deque(maxlen=size)
        self.running: dict[str, RunTrace] = {}
        self.last_error: bytes | None = None
        self.last_success: bytes | None = None


class TraceStore:
    """The traces of every automation and script, by key ('automation.fire_alarm')."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._kept: dict[str, _Kept] = {}
        self._sizes: dict[str, int] = {}
        self.backend: TraceBackend | None = None

    def configure(self, key: str, size: int = DEFAULT_STORED_TRACES) -> None:
        """How many traces to keep for `key`."""
        if self._sizes.get(key, DEFAULT_STORED_TRACES) != size:
            self._sizes[key] = size
            kept = self._kept.get(key)
            if kept is not None:
                new = _Kept(size)
                new.recent.extend(kept.recent)
                new.running = kept.running
                new.last_error, new.last_success = kept.last_error, kept.last_success
                self._kept[key] = new

    def _get(self, key: str) -> _Kept:
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = _Kept(self._sizes.get(key, DEFAULT_STORED_TRACES))
        return kept

    def start(self, trace: RunTrace) -> None:
        """A run began: its trace is visible while it runs."""
        self._get(trace.key).running[trace.run_id] = trace

    def finish(self, trace: RunTrace, execution: str | None = None) -> None:
        """A run ended: freeze its trace and keep it."""
        if execution is not None:
            trace.execution = execution
        kept = self._get(trace.key)
        kept.running.pop(trace.run_id, None)
        try:
            blob = trace.freeze()
        except (TypeError, orjson.JSONEncodeError) as err:
            _LOGGER.warning("Trace of %s could not be stored: %s", trace.key, err)
            return
        self.keep(trace.key, blob, trace.error is not None)
        if self.backend is not None:
            self.backend.async_save(trace.key, trace.run_id, blob, trace.error is not None)

    def keep(self, key: str, blob: bytes, is_error: bool) -> None:
        """Keep a frozen trace (also used when loading persisted ones)."""
        kept = self._get(key)
        kept.recent.append(blob)
        if is_error:
            kept.last_error = blob
        else:
            kept.last_success = blob

    def traces(self, key: str) -> list[dict[str, Any]]:
        """Running and kept traces of `key`, newest first, plus the last error and success if older."""
        kept = self._kept.get(key)
        if kept is None:
            return []
        result = [trace.as_dict() for trace in reversed(list(kept.running.values()))]
        result.extend(expand(blob, key) for blob in reversed(kept.recent))
        for extra in (kept.last_error, kept.last_success):
            if extra is not None and all(extra is not blob for blob in kept.recent):
                result.append(expand(extra, key))
        return result

    def kept_blobs(self, key: str) -> list[bytes]:
        """The frozen traces kept for `key` (recent ones, the last error and the last success)."""
        kept = self._kept.get(key)
        if kept is None:
            return []
        blobs = list(kept.recent)
        for extra in (kept.last_error, kept.last_success):
            if extra is not None and all(extra is not blob for blob in blobs):
                blobs.append(extra)
        return blobs

    def keys(self) -> Iterable[str]:
        """Every key with traces."""
        return list(self._kept)

    def drop(self, key: str) -> None:
        """Forget the traces of a removed automation."""
        self._kept.pop(key, None)
        self._sizes.pop(key, None)


_STORE: HubKey[TraceStore] = HubKey("automations_traces")


def get_trace_store(hub: Hub) -> TraceStore:
    """The hub's trace store (created on first use)."""
    store = hub.data.get(_STORE)
    if store is None:
        store = hub.data[_STORE] = TraceStore(hub)
    return store
