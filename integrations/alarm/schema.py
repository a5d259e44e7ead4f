"""Schemas of the `alarm:` section and of the alarm services (defaults live here)."""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

from hub.helpers import config_validation as cv

from .const import (
    CONF_AREA_ID,
    CONF_CENTRE,
    CONF_ESCALATE_AFTER,
    CONF_EVENT_DATA,
    CONF_EVENT_TYPE,
    CONF_ID,
    CONF_KEEP_CLOSED_DAYS,
    CONF_LATITUDE,
    CONF_LONGITUDE,
    CONF_NAME,
    CONF_RAISE_ON,
    CONF_SEVERITY,
    CONF_SHARED,
    CONF_SLA_ACK,
    CONF_SLA_RESOLVE,
    CONF_SOP,
    CONF_SOP_DIR,
    CONF_TYPES,
    DEFAULT_KEEP_CLOSED_DAYS,
    DEFAULT_SLA_ACK,
    DEFAULT_SLA_RESOLVE,
    DEFAULT_SOP_DIR,
    Severity,
)
from .sop import STEPS_SCHEMA

__all__ = [
    "ALARM_ID_SCHEMA",
    "ASSIGN_SCHEMA",
    "CLEAR_SCHEMA",
    "CONFIG_SCHEMA",
    "NOTE_SCHEMA",
    "RAISE_SCHEMA",
    "SKIP_STEP_SCHEMA",
    "STATS_SCHEMA",
    "STEP_SCHEMA",
    "TYPE_SCHEMA",
]

_SEVERITIES: Final = [s.value for s in Severity]
_seconds = vol.All(vol.Coerce(float), vol.Range(min=1, msg="expected seconds >= 1"))


def _sop(value: Any) -> Any:
    """A SOP: a file name in sop_dir, or inline steps."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise vol.Invalid("expected a SOP file name or a list of steps")
        return text
    return STEPS_SCHEMA(value.get("steps") if isinstance(value, dict) else value)


def _type_defaults(config: dict[str, Any]) -> dict[str, Any]:
    config.setdefault(CONF_NAME, config[CONF_ID].replace("_", " ").capitalize())
    config.setdefault(CONF_ESCALATE_AFTER, config[CONF_SLA_ACK])
    return config


TYPE_SCHEMA: Final = vol.All(
    vol.Schema({
        vol.Required(CONF_ID): cv.slug,
        vol.Optional(CONF_NAME): cv.string,
        vol.Optional(CONF_SEVERITY, default=Severity.MAJOR.value): vol.In(
            _SEVERITIES, msg=f"expected one of {', '.join(_SEVERITIES)}"),
        vol.Optional(CONF_SLA_ACK, default=DEFAULT_SLA_ACK): _seconds,
        vol.Optional(CONF_SLA_RESOLVE, default=DEFAULT_SLA_RESOLVE): _seconds,
        vol.Optional(CONF_ESCALATE_AFTER): _seconds,
        vol.Optional(CONF_SOP): _sop,
        vol.Optional(CONF_CENTRE): cv.slug,
        vol.Optional(CONF_SHARED, default=False): cv.boolean,
        # where the alarm is shown when neither its raiser nor its entities give a place
        vol.Optional(CONF_AREA_ID): cv.slug,
        vol.Inclusive(CONF_LATITUDE, "place", msg="latitude and longitude go together"): cv.latitude,
        vol.Inclusive(CONF_LONGITUDE, "place", msg="latitude and longitude go together"): cv.longitude,
        vol.Optional(CONF_RAISE_ON, default=list): cv.list_of(vol.Schema({
            vol.Required(CONF_EVENT_TYPE): cv.string,
            vol.Optional(CONF_EVENT_DATA, default=dict): dict,
        })),
    }),
    _type_defaults,
)


CONFIG_SCHEMA: Final = vol.All(
    lambda value: {} if value is None else value,
    vol.Schema({
        vol.Optional(CONF_SOP_DIR, default=DEFAULT_SOP_DIR): cv.string,
        vol.Optional(CONF_KEEP_CLOSED_DAYS, default=DEFAULT_KEEP_CLOSED_DAYS): vol.All(
            vol.Coerce(int), vol.Range(min=0, msg="expected days >= 0 (0 keeps closed alarms for ever)")),
        vol.Optional(CONF_TYPES, default=list): vol.All(cv.list_of(TYPE_SCHEMA), cv.unique(CONF_ID, "alarm type")),
    }),
)

_NOTE = vol.All(cv.string, vol.Length(min=1, max=4000))
_OPTIONAL_NOTE = vol.Any(None, vol.All(cv.string, vol.Length(max=4000)))

RAISE_SCHEMA: Final = vol.Schema({
    vol.Required("type"): cv.slug,
    vol.Optional("severity"): vol.In(_SEVERITIES, msg=f"expected one of {', '.join(_SEVERITIES)}"),
    vol.Optional("title"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Optional("message"): vol.All(cv.string, vol.Length(max=4000)),
    vol.Optional("source"): vol.All(cv.string, vol.Length(max=255)),
    vol.Optional("source_event"): vol.All(cv.string, vol.Length(max=64)),
    vol.Optional("entities", default=list): cv.entity_ids,
    vol.Inclusive("latitude", "location", msg="latitude and longitude go together"): cv.latitude,
    vol.Inclusive("longitude", "location", msg="latitude and longitude go together"): cv.longitude,
    vol.Optional("area_id"): cv.slug,
    vol.Optional("centre"): cv.slug,
    vol.Optional("shared"): cv.boolean,
    vol.Optional("dedup_key"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Optional("data", default=dict): dict,
})

ALARM_ID_SCHEMA: Final = vol.Schema({
    vol.Required("alarm_id"): cv.string,
    vol.Optional("note"): _OPTIONAL_NOTE,
})

ASSIGN_SCHEMA: Final = vol.Schema({
    vol.Required("alarm_id"): cv.string,
    vol.Required("assignee"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Optional("note"): _OPTIONAL_NOTE,
})

NOTE_SCHEMA: Final = vol.Schema({
    vol.Required("alarm_id"): cv.string,
    vol.Required("note"): _NOTE,
})


def _clear_target(value: dict[str, Any]) -> dict[str, Any]:
    if ("alarm_id" in value) == ("dedup_key" in value):
        raise vol.Invalid("give either alarm_id, or type and dedup_key (the source's own key)")
    if "dedup_key" in value and "type" not in value:
        raise vol.Invalid("dedup_key needs type", path=["type"])
    return value


CLEAR_SCHEMA: Final = vol.All(vol.Schema({
    vol.Optional("alarm_id"): cv.string,
    vol.Optional("type"): cv.slug,
    vol.Optional("dedup_key"): cv.string,
    vol.Optional("note"): _OPTIONAL_NOTE,
}), _clear_target)

STEP_SCHEMA: Final = vol.Schema({
    vol.Required("alarm_id"): cv.string,
    vol.Required("step_id"): cv.string,
    vol.Optional("note"): _OPTIONAL_NOTE,
})

SKIP_STEP_SCHEMA: Final = vol.Schema({
    vol.Required("alarm_id"): cv.string,
    vol.Required("step_id"): cv.string,
    vol.Required("reason"): _NOTE,
})

STATS_SCHEMA: Final = vol.Schema({
    vol.Optional("type"): cv.slug,
    vol.Optional("centre"): cv.slug,
    vol.Optional("since"): vol.Coerce(float),
})
