"""Constants of the automation engine: configuration keys, defaults, modes and event names."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DOMAIN: Final = "automation"
MIGRATIONS: Final = Path(__file__).parent / "migrations"  # the engine's alembic revisions (its recorder tables)
MIGRATIONS_OWNER: Final = "automations"  # ... and their version table: alembic_version_automations
SCRIPT_DOMAIN: Final = "script"

CONF_ID: Final = "id"
CONF_ALIAS: Final = "alias"
CONF_DESCRIPTION: Final = "description"
CONF_MODE: Final = "mode"
CONF_MAX: Final = "max"
CONF_MAX_EXCEEDED: Final = "max_exceeded"
CONF_VARIABLES: Final = "variables"
CONF_TRIGGER_VARIABLES: Final = "trigger_variables"
CONF_TRIGGERS: Final = "triggers"
CONF_CONDITIONS: Final = "conditions"
CONF_ACTIONS: Final = "actions"
CONF_INITIAL_STATE: Final = "initial_state"
CONF_ON_RESTART: Final = "on_restart"
CONF_CATCH_UP: Final = "catch_up"
CONF_TRACE: Final = "trace"
CONF_STORED_TRACES: Final = "stored_traces"
CONF_ENABLED: Final = "enabled"
CONF_CONTINUE_ON_ERROR: Final = "continue_on_error"
CONF_PLATFORM: Final = "platform"
CONF_FIELDS: Final = "fields"
CONF_SEQUENCE: Final = "sequence"

MODE_SINGLE: Final = "single"
MODE_RESTART: Final = "restart"
MODE_QUEUED: Final = "queued"
MODE_PARALLEL: Final = "parallel"
MODES: Final = (MODE_SINGLE, MODE_RESTART, MODE_QUEUED, MODE_PARALLEL)
DEFAULT_MAX: Final = 10

ON_RESTART_RESUME: Final = "resume"
ON_RESTART_RESTART: Final = "restart"
ON_RESTART_ABANDON: Final = "abandon"

DEFAULT_STORED_TRACES: Final = 20

ATTR_LAST_TRIGGERED: Final = "last_triggered"
ATTR_CURRENT: Final = "current"
ATTR_MODE: Final = "mode"
ATTR_MAX: Final = "max"
ATTR_ID: Final = "id"

EVENT_AUTOMATION_TRIGGERED: Final = "automation_triggered"
EVENT_AUTOMATION_RELOADED: Final = "automation_reloaded"
EVENT_AUTOMATION_RELOAD_FAILED: Final = "automation_reload_failed"
EVENT_SCRIPT_STARTED: Final = "script_started"

# Plural keys are canonical; the singular forms Home Assistant users write are accepted too.
AUTOMATION_KEY_ALIASES: Final = {
    "trigger": CONF_TRIGGERS,
    "condition": CONF_CONDITIONS,
    "action": CONF_ACTIONS,
}

# Script names that would clash with the script domain's own services.
RESERVED_SCRIPT_NAMES: Final = frozenset({"turn_on", "turn_off", "toggle", "reload"})
