"""Constants of timer."""

DOMAIN = "timer"
CONF_DURATION = "duration"
CONF_RESTORE = "restore"
DEFAULT_DURATION = 0

STATUS_IDLE = "idle"
STATUS_ACTIVE = "active"
STATUS_PAUSED = "paused"

EVENT_TIMER_STARTED = "timer.started"
EVENT_TIMER_RESTARTED = "timer.restarted"
EVENT_TIMER_PAUSED = "timer.paused"
EVENT_TIMER_CANCELLED = "timer.cancelled"
EVENT_TIMER_FINISHED = "timer.finished"
EVENT_TIMER_CHANGED = "timer.changed"
