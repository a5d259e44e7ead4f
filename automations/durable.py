"""Durable runs: a run waiting in a delay or wait, and a pending trigger `for:`, survive a restart.

While a run waits, its position (the step index at each nesting level, the branch it took, the
variables of each level) and its deadline are saved; the record is removed when the wait ends. At
start, each record is resumed according to the automation's `on_restart`:

- `resume` (default): continue at the saved step; a deadline that passed while the hub was down is
  caught up at once, unless `catch_up` says otherwise (false: drop it; a period: only if it is late
  by at most that much);
- `restart`: run the actions again from the start with the saved trigger variables;
- `abandon`: drop it.

A record whose automation is gone or changed (different fingerprint) is dropped: its saved
position would point into different steps. Inside `parallel`, the whole parallel step is redone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from hub.core import Context, Hub, State

from .const import ON_RESTART_ABANDON, ON_RESTART_RESTART, ON_RESTART_RESUME
from .storage import KIND_FOR, KIND_RUN, KIND_STATE, AutomationStore, DurableRecord, get_store
from .trace import EXEC_ABANDONED, RunTrace, dumps, get_trace_store

if TYPE_CHECKING:
    from .engine import Automation
    from .script import Scope, ScriptRun

__all__ = ["AutomationCheckpoints", "ForRecords", "async_resume_runs", "revive"]

_LOGGER = logging.getLogger(__name__)

_STATE_KEYS = frozenset({"entity_id", "state", "last_changed", "attributes", "context"})


def revive(value: Any) -> Any:
    """Turn saved State dicts back into States (templates read `trigger.to_state.state` either way)."""
    if isinstance(value, dict):
        if "entity_id" in value and "state" in value and "last_changed" in value and set(value) <= _STATE_KEYS:
            try:
                return State(value["entity_id"], str(value["state"]), value.get("attributes") or {},
                             last_changed_ts=float(value["last_changed"]),
                             last_updated_ts=float(value["last_changed"]), validate_entity_id=False)
            except (TypeError, ValueError):
                return value
        return {key: revive(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revive(item) for item in value]
    return value


def _frames(scope: Scope) -> tuple[list[dict[str, Any]], bool]:
    """The scope chain; cut at a `parallel` branch (the parallel step is redone on resume)."""
    frames = scope.frames()
    for depth, frame in enumerate(frames):
        branch = frame["b"]
        if branch and branch[0] == "parallel":
            return frames[:depth], True
    return frames, False


class AutomationCheckpoints:
    """RunCheckpoints for one automation: save where a waiting run is, delete when it moves on."""

    __slots__ = ("_automation", "_store")

    def __init__(self, store: AutomationStore, automation: Automation) -> None:
        self._store = store
        self._automation = automation

    def save(self, run: ScriptRun, scope: Scope, leaf: dict[str, Any]) -> None:
        frames, cut = _frames(scope)
        if cut:
            leaf = {"kind": "redo_step"}
        context = run.context
        data = {
            "frames": frames,
            "leaf": leaf,
            "context": [context.id, context.parent_id, context.user_id, context.centre],
            "trigger": run.trace.trigger,
            "run_id": run.trace.run_id,
        }
        automation = self._automation
        record_id = f"{automation.entity_id}:run:{run.trace.run_id}"
        try:
            blob = dumps(data)
        except (TypeError, orjson.JSONEncodeError) as err:
            _LOGGER.warning("%s: run cannot be saved for a restart: %s", automation.alias, err)
            return
        run.checkpoint_id = record_id
        self._store.save_durable(DurableRecord(record_id, KIND_RUN, automation.entity_id, automation.fingerprint,
                                               leaf.get("deadline"), blob))

    def delete(self, run: ScriptRun) -> None:
        if run.checkpoint_id is not None:
            self._store.delete_durable(run.checkpoint_id)
            run.checkpoint_id = None


class ForRecords:
    """ForStore for one automation's triggers (pending `for:` timers)."""

    __slots__ = ("_owner", "_prefix", "_store")

    def __init__(self, store: AutomationStore, owner: str, fingerprint: str) -> None:
        self._store = store
        self._owner = owner
        self._prefix = f"{owner}:for:{fingerprint}:"

    def save(self, key: str, deadline: float, data: Mapping[str, Any]) -> None:
        self._store.save_durable(DurableRecord(self._prefix + key, KIND_FOR, self._owner, None, deadline,
                                               dumps(dict(data))))

    def delete(self, key: str) -> None:
        self._store.delete_durable(self._prefix + key)

    def restored(self, key: str) -> tuple[float, Mapping[str, Any]] | None:
        record = self._store.get(self._prefix + key)
        if record is None or record.deadline is None:
            return None
        try:
            return record.deadline, orjson.loads(record.data)
        except ValueError:
            return None


async def async_resume_runs(hub: Hub) -> None:
    """Resume (or restart, or drop) the runs that were waiting when the hub stopped."""
    from .engine import get_manager

    store = get_store(hub)
    manager = get_manager(hub)
    now = hub.clock.time()
    for record in store.records(KIND_FOR):
        automation = manager.get(record.owner)
        if automation is None or not automation.is_on \
                or not record.record_id.startswith(f"{record.owner}:for:{automation.fingerprint}:"):
            store.delete_durable(record.record_id)  # no trigger took it back: nothing will fire it
    for record in store.records(KIND_STATE):
        if manager.get(record.owner) is None:
            store.delete_durable(record.record_id)  # the automation is gone
    for record in store.records(KIND_RUN):
        automation = manager.get(record.owner)
        store.delete_durable(record.record_id)
        if automation is None or automation.fingerprint != record.fingerprint:
            _LOGGER.warning("Not resuming a run of %s: the automation is gone or changed", record.owner)
            continue
        try:
            data = orjson.loads(record.data)
        except ValueError:
            continue
        _resume(hub, automation, record, data, now)


def _resume(hub: Hub, automation: Automation, record: DurableRecord, data: dict[str, Any], now: float) -> None:
    ctx_id, parent_id, user_id, centre = data["context"]
    context = Context(user_id=user_id, parent_id=parent_id, id=ctx_id, centre=centre)
    frames = revive(data["frames"])
    leaf = data["leaf"]
    variables = frames[0]["v"] if frames else {}
    deadline = record.deadline
    late = now - deadline if deadline is not None else 0.0
    policy = automation.on_restart
    if policy == ON_RESTART_RESUME and late > 0:
        catch_up = automation.catch_up
        if catch_up is False or (not isinstance(catch_up, bool) and late > float(catch_up)):
            policy = ON_RESTART_ABANDON
    if policy == ON_RESTART_ABANDON:
        trace = RunTrace(hub, automation.entity_id, context, data.get("trigger"))
        trace.add("resume", {"on_restart": automation.on_restart, "late_s": round(late, 3)},
                  {"trigger": variables.get("trigger")})
        get_trace_store(hub).finish(trace, EXEC_ABANDONED)
        _LOGGER.info("%s: dropped a run that waited across a restart (late by %.0f s)", automation.alias, late)
        return
    if policy == ON_RESTART_RESTART:
        automation.async_resume_run(variables, context, data.get("trigger"), None)
        return
    automation.async_resume_run(variables, context, data.get("trigger"), (frames, leaf))
    _LOGGER.info("%s: resumed a run that was waiting when the hub stopped", automation.alias)

