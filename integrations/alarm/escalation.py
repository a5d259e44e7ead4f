"""Escalation timers on hub.clock: re-notify, then escalate an unacknowledged alarm; escalate an unresolved one.

For an alarm still `raised` at `raised_ts + sla_ack_seconds` the operators are told again
(`alarm_renotified`); still raised `escalate_after_seconds` later, it goes to the supervisor
(`alarm_escalated`, reason `not_acknowledged`). Any open alarm not resolved by `raised_ts +
sla_resolve_seconds` is escalated once more (reason `not_resolved`). Deadlines come from the
stored timestamps, so after a restart an overdue step happens at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hub.clock import TimerHandle
from hub.core import callback

from .const import LEVEL_NONE, LEVEL_RENOTIFIED, AlarmState

if TYPE_CHECKING:
    from hub.core import Hub

    from .manager import AlarmType
    from .model import Alarm

__all__ = ["EscalationTimers", "next_ack_step"]

REASON_NOT_ACKNOWLEDGED = "not_acknowledged"
REASON_NOT_RESOLVED = "not_resolved"


def next_ack_step(alarm: Alarm, alarm_type: AlarmType) -> tuple[float, str] | None:
    """When the next acknowledgement step is due and which ('renotify' or 'escalate'), if any."""
    if alarm.state is not AlarmState.RAISED:
        return None
    if alarm.escalation_level == LEVEL_NONE:
        return alarm.raised_ts + alarm_type.sla_ack, "renotify"
    if alarm.escalation_level == LEVEL_RENOTIFIED:
        return alarm.raised_ts + alarm_type.sla_ack + alarm_type.escalate_after, "escalate"
    return None


class EscalationTimers:
    """One or two timers per alarm, rescheduled after every change."""

    def __init__(self, hub: Hub, on_ack_step: Callable[[str, str], None],
                 on_resolve_overdue: Callable[[str], None]) -> None:
        self._hub = hub
        self._on_ack_step = on_ack_step
        self._on_resolve_overdue = on_resolve_overdue
        self._timers: dict[str, list[TimerHandle]] = {}

    @callback
    def schedule(self, alarm: Alarm, alarm_type: AlarmType) -> None:
        """(Re)arm the timers an alarm needs in its present state."""
        self.cancel(alarm.id)
        handles: list[TimerHandle] = []
        ack = next_ack_step(alarm, alarm_type)
        if ack is not None:
            due, step = ack
            handles.append(self._hub.clock.call_at(due, lambda: self._on_ack_step(alarm.id, step)))
        if alarm.is_open and not alarm.resolve_escalated:
            due = alarm.raised_ts + alarm_type.sla_resolve
            handles.append(self._hub.clock.call_at(due, lambda: self._on_resolve_overdue(alarm.id)))
        if handles:
            self._timers[alarm.id] = handles

    @callback
    def cancel(self, alarm_id: str) -> None:
        """Disarm an alarm's timers."""
        for handle in self._timers.pop(alarm_id, ()):
            handle.cancel()

    @callback
    def cancel_all(self) -> None:
        """Disarm everything (unload)."""
        for alarm_id in list(self._timers):
            self.cancel(alarm_id)

    @property
    def armed(self) -> int:
        """How many alarms have timers (tests, diagnostics)."""
        return len(self._timers)
