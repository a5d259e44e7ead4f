"""Constants of the alarm integration: severities, states, events, services, configuration keys."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from hub.const import CONF_EVENT_TYPE, CONF_ID, CONF_NAME  # the common keys, re-exported

__all__ = [
    "CONF_EVENT_TYPE",
    "CONF_ID",
    "CONF_NAME",
    "DOMAIN",
    "OPEN_STATES",
    "AlarmState",
    "Severity",
]

DOMAIN: Final = "alarm"


class Severity(StrEnum):
    """How bad it is; `rank` orders the queue (critical first)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical ... 4 for info."""
        return list(Severity).index(self)


class AlarmState(StrEnum):
    """raised -> acknowledged -> in_progress -> resolved -> closed; or cleared by its source."""

    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLEARED = "cleared"
    CLOSED = "closed"


# Someone still has to act on these; resolved and cleared alarms wait to be closed.
OPEN_STATES: Final = frozenset({AlarmState.RAISED, AlarmState.ACKNOWLEDGED, AlarmState.IN_PROGRESS})

# Events (data: the alarm summary, plus what the event adds)
EVENT_ALARM_RAISED: Final = "alarm_raised"
EVENT_ALARM_RERAISED: Final = "alarm_reraised"  # the same source raised it again (dedup_key)
EVENT_ALARM_ACKNOWLEDGED: Final = "alarm_acknowledged"
EVENT_ALARM_STARTED: Final = "alarm_started"
EVENT_ALARM_ASSIGNED: Final = "alarm_assigned"
EVENT_ALARM_NOTE_ADDED: Final = "alarm_note_added"
EVENT_ALARM_RESOLVED: Final = "alarm_resolved"
EVENT_ALARM_CLEARED: Final = "alarm_cleared"
EVENT_ALARM_CLOSED: Final = "alarm_closed"
EVENT_ALARM_RENOTIFIED: Final = "alarm_renotified"  # not acknowledged within the SLA: tell the operators again
EVENT_ALARM_ESCALATED: Final = "alarm_escalated"  # ... still not: the supervisor; or not resolved in time
EVENT_ALARM_SOP_STEP_DONE: Final = "alarm_sop_step_done"
EVENT_ALARM_SOP_STEP_SKIPPED: Final = "alarm_sop_step_skipped"  # notifies the supervisor

# What an event is called in the `alarm` trigger and the websocket stream.
EVENT_KINDS: Final = {
    "raised": EVENT_ALARM_RAISED,
    "reraised": EVENT_ALARM_RERAISED,
    "acknowledged": EVENT_ALARM_ACKNOWLEDGED,
    "started": EVENT_ALARM_STARTED,
    "assigned": EVENT_ALARM_ASSIGNED,
    "note_added": EVENT_ALARM_NOTE_ADDED,
    "resolved": EVENT_ALARM_RESOLVED,
    "cleared": EVENT_ALARM_CLEARED,
    "closed": EVENT_ALARM_CLOSED,
    "renotified": EVENT_ALARM_RENOTIFIED,
    "escalated": EVENT_ALARM_ESCALATED,
    "sop_step_done": EVENT_ALARM_SOP_STEP_DONE,
    "sop_step_skipped": EVENT_ALARM_SOP_STEP_SKIPPED,
}

# Services
SERVICE_RAISE: Final = "raise"
SERVICE_ACKNOWLEDGE: Final = "acknowledge"
SERVICE_ASSIGN: Final = "assign"
SERVICE_START: Final = "start"
SERVICE_RESOLVE: Final = "resolve"
SERVICE_CLOSE: Final = "close"
SERVICE_CLEAR: Final = "clear"
SERVICE_ADD_NOTE: Final = "add_note"
SERVICE_COMPLETE_STEP: Final = "complete_step"
SERVICE_SKIP_STEP: Final = "skip_step"
SERVICE_STATS: Final = "stats"

# Configuration
CONF_TYPES: Final = "types"
CONF_SOP_DIR: Final = "sop_dir"
CONF_KEEP_CLOSED_DAYS: Final = "keep_closed_days"
CONF_SEVERITY: Final = "severity"
CONF_SLA_ACK: Final = "sla_ack_seconds"
CONF_SLA_RESOLVE: Final = "sla_resolve_seconds"
CONF_ESCALATE_AFTER: Final = "escalate_after_seconds"
CONF_SOP: Final = "sop"
CONF_CENTRE: Final = "centre"
CONF_SHARED: Final = "shared"
CONF_RAISE_ON: Final = "raise_on"
CONF_EVENT_DATA: Final = "event_data"
CONF_AREA_ID: Final = "area_id"  # a type's place for alarms whose source has none (with latitude/longitude)
CONF_LATITUDE: Final = "latitude"
CONF_LONGITUDE: Final = "longitude"

DEFAULT_SOP_DIR: Final = "sops"
DEFAULT_KEEP_CLOSED_DAYS: Final = 730  # closed alarms (and their timelines) are deleted after two years; 0 keeps them
PURGE_INTERVAL: Final = 6 * 3600.0
PURGE_BATCH: Final = 500
DEFAULT_SLA_ACK: Final = 120.0
DEFAULT_SLA_RESOLVE: Final = 3600.0

# Step types of a standard operating procedure
STEP_CHECKLIST: Final = "checklist"  # tick it
STEP_SERVICE: Final = "service"  # one click runs a service call
STEP_NOTE: Final = "note"  # write what was done
STEP_TYPES: Final = (STEP_CHECKLIST, STEP_SERVICE, STEP_NOTE)

STEP_PENDING: Final = "pending"
STEP_DONE: Final = "done"
STEP_SKIPPED: Final = "skipped"
STEP_FAILED: Final = "failed"  # its service call failed; it can be tried again or skipped

# Escalation levels while an alarm waits for acknowledgement
LEVEL_NONE: Final = 0
LEVEL_RENOTIFIED: Final = 1
LEVEL_ESCALATED: Final = 2
