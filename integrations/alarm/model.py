"""The Alarm, its timeline and SOP progress, and the state machine's transitions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from hub.exceptions import ServiceValidationError

from .const import (
    LEVEL_NONE,
    OPEN_STATES,
    STEP_PENDING,
    AlarmState,
    Severity,
)
from .sop import SopStep

__all__ = ["TRANSITIONS", "Alarm", "StepProgress", "TimelineEntry", "check_transition", "new_alarm_id"]

_S = AlarmState
# action -> (states it may start from, state it leads to)
TRANSITIONS: Final[dict[str, tuple[frozenset[AlarmState], AlarmState]]] = {
    "acknowledge": (frozenset({_S.RAISED}), _S.ACKNOWLEDGED),
    "start": (frozenset({_S.RAISED, _S.ACKNOWLEDGED}), _S.IN_PROGRESS),
    "resolve": (frozenset({_S.ACKNOWLEDGED, _S.IN_PROGRESS}), _S.RESOLVED),
    "clear": (frozenset({_S.RAISED, _S.ACKNOWLEDGED, _S.IN_PROGRESS}), _S.CLEARED),
    "close": (frozenset({_S.RESOLVED, _S.CLEARED}), _S.CLOSED),
}
_ORDER: Final = list(AlarmState)


def new_alarm_id() -> str:
    """A new alarm id (32 hex characters)."""
    return uuid.uuid4().hex


def check_transition(alarm: Alarm, action: str) -> AlarmState:
    """The state `action` leads to; ServiceValidationError naming the states when it is not allowed."""
    allowed, target = TRANSITIONS[action]
    if alarm.state not in allowed:
        names = " or ".join(sorted((s.value for s in allowed), key=lambda v: _ORDER.index(AlarmState(v))))
        raise ServiceValidationError(
            f"Cannot {action} alarm {alarm.id}: it is {alarm.state.value}, and {action} needs it {names}",
            path=["alarm_id"],
        )
    return target


@dataclass(slots=True)
class TimelineEntry:
    """Something done to an alarm, by whom, from which centre."""

    time_ts: float
    kind: str
    user_id: str | None = None
    centre: str | None = None
    context_id: str | None = None
    text: str | None = None
    data: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"time_ts": self.time_ts, "kind": self.kind, "user_id": self.user_id, "centre": self.centre,
                "context_id": self.context_id, "text": self.text, "data": self.data}


@dataclass(slots=True)
class StepProgress:
    """One SOP step of one alarm: the step as it was when the alarm was raised, and what was done."""

    step: SopStep
    status: str = STEP_PENDING
    time_ts: float | None = None
    user_id: str | None = None
    note: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (also the stored form)."""
        return {**self.step.as_dict(), "status": self.status, "time_ts": self.time_ts, "user_id": self.user_id,
                "note": self.note, "error": self.error}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepProgress:
        """Rebuild from `as_dict`."""
        return cls(SopStep.from_dict(data), data.get("status", STEP_PENDING), data.get("time_ts"),
                   data.get("user_id"), data.get("note"), data.get("error"))


@dataclass(slots=True, kw_only=True)
class Alarm:
    """One alarm: what, how bad, where, whose, its state and timestamps, its SOP and timeline."""

    id: str
    type: str
    severity: Severity
    title: str
    centre: str
    raised_ts: float
    state: AlarmState = AlarmState.RAISED
    message: str | None = None
    shared: bool = False
    source_event: str | None = None
    source: str | None = None
    source_context_id: str | None = None
    entities: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    area_id: str | None = None
    assignee: str | None = None
    dedup_key: str | None = None
    occurrences: int = 1
    escalation_level: int = LEVEL_NONE
    resolve_escalated: bool = False
    acknowledged_ts: float | None = None
    started_ts: float | None = None
    resolved_ts: float | None = None
    closed_ts: float | None = None
    cleared_ts: float | None = None
    updated_ts: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    steps: list[StepProgress] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Whether someone still has to act (raised, acknowledged, in progress)."""
        return self.state in OPEN_STATES

    @property
    def response_seconds(self) -> float | None:
        """From raised to the first response (acknowledged, or started without acknowledging)."""
        first = self.acknowledged_ts if self.acknowledged_ts is not None else self.started_ts
        return first - self.raised_ts if first is not None else None

    @property
    def resolution_seconds(self) -> float | None:
        """From raised to resolved."""
        return self.resolved_ts - self.raised_ts if self.resolved_ts is not None else None

    def step(self, step_id: str) -> StepProgress:
        """The SOP step with this id; ServiceValidationError naming the steps there are."""
        for progress in self.steps:
            if progress.step.id == step_id:
                return progress
        known = ", ".join(p.step.id for p in self.steps) or "none"
        raise ServiceValidationError(f"Alarm {self.id} has no SOP step {step_id!r} (steps: {known})",
                                     path=["step_id"])

    def summary(self) -> dict[str, Any]:
        """The short form carried by events and the live queue."""
        return {
            "alarm_id": self.id,
            "type": self.type,
            "severity": self.severity.value,
            "state": self.state.value,
            "title": self.title,
            "centre": self.centre,
            "shared": self.shared,
            "entities": list(self.entities),
            "area_id": self.area_id,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "assignee": self.assignee,
            "escalation_level": self.escalation_level,
            "occurrences": self.occurrences,
            "raised_ts": self.raised_ts,
            "updated_ts": self.updated_ts,
        }

    def as_dict(self, *, full: bool = False) -> dict[str, Any]:
        """Everything but the timeline and SOP; with `full`, those too."""
        data = {
            **self.summary(),
            "message": self.message,
            "source_event": self.source_event,
            "source": self.source,
            "source_context_id": self.source_context_id,
            "dedup_key": self.dedup_key,
            "resolve_escalated": self.resolve_escalated,
            "acknowledged_ts": self.acknowledged_ts,
            "started_ts": self.started_ts,
            "resolved_ts": self.resolved_ts,
            "closed_ts": self.closed_ts,
            "cleared_ts": self.cleared_ts,
            "response_seconds": self.response_seconds,
            "resolution_seconds": self.resolution_seconds,
            "data": self.data,
            "sop_pending": sum(1 for p in self.steps if p.status == STEP_PENDING),
        }
        if full:
            data["sop"] = [progress.as_dict() for progress in self.steps]
            data["timeline"] = [entry.as_dict() for entry in self.timeline]
        return data

    def sort_key(self) -> tuple[int, float]:
        """Most severe first, then newest first."""
        return (self.severity.rank, -self.raised_ts)
