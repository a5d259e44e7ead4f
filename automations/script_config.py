"""Schemas of action steps (service call, event, delay, waits, choose, if, repeat, parallel, stop...)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv
from hub.helpers.template import Template, is_template_string
from hub.helpers.validators import (
    optional_template,
    positive_period_or_template,
    script_variables,
    service_name,
    template,
    template_complex,
)

from .conditions import validate_condition
from .triggers import validate_trigger

__all__ = ["ACTION_TYPES", "action_type", "validate_action", "validate_sequence"]

_BASE: dict[Any, Any] = {
    vol.Optional("alias"): cv.string,
    vol.Optional("enabled", default=True): cv.boolean,
    vol.Optional("continue_on_error", default=False): cv.boolean,
}


def validate_sequence(value: Any) -> list[dict[str, Any]]:
    """A list of actions (a single action is a list of one); every bad step is reported."""
    return cv.list_of(validate_action)(value)


def _conditions(value: Any) -> list[dict[str, Any]]:
    return cv.list_of(validate_condition)(value)


def _triggers(value: Any) -> list[dict[str, Any]]:
    return cv.list_of(validate_trigger)(value)


def _entity_ids(value: Any) -> str | Template | list[str | Template]:
    """`entity_id:` as entity ids (one, a list or 'a.b, c.d') or templates; literal ids stay plain strings."""
    if isinstance(value, str) and is_template_string(value):
        return template(value)
    if isinstance(value, list):
        return [template(item) if isinstance(item, str) and is_template_string(item) else cv.entity_id(item)
                for item in value]
    ids = cv.entity_ids(value)
    return ids[0] if len(ids) == 1 and isinstance(value, str) else list(ids)


_TARGET_SCHEMA = vol.Schema({
    vol.Optional("entity_id"): _entity_ids,
    vol.Optional("area_id"): vol.All(cv.ensure_list, [optional_template]),
    vol.Optional("device_id"): vol.All(cv.ensure_list, [optional_template]),
})


def _target(value: Any) -> dict[str, Any] | Template:
    if isinstance(value, str) and is_template_string(value):
        return template(value)  # renders to a mapping
    if isinstance(value, str):
        return {"entity_id": _entity_ids(value)}
    return _TARGET_SCHEMA(value)


def _service(value: dict[str, Any]) -> dict[str, Any]:
    names = [key for key in ("action", "service", "service_template") if key in value]
    if len(names) > 1:
        raise vol.Invalid(f"give only one of {', '.join(map(repr, names))}", path=[names[1]])
    data_keys = [key for key in ("data", "data_template") if key in value]
    if len(data_keys) > 1:
        raise vol.Invalid("give 'data' only ('data_template' is its old name)", path=[data_keys[1]])
    normal = {("action" if key in ("service", "service_template") else
               "data" if key == "data_template" else key): item for key, item in value.items()}
    return _SERVICE_SCHEMA(normal)


_SERVICE_SCHEMA = vol.Schema({
    **_BASE,
    vol.Required("action"): service_name,
    vol.Optional("target"): _target,
    vol.Optional("data"): vol.All(vol.Any(dict, template), template_complex),
    vol.Optional("entity_id"): _entity_ids,
    vol.Optional("response_variable"): cv.string,
})


def _event(value: dict[str, Any]) -> dict[str, Any]:
    if "event_data_template" in value:
        if "event_data" in value:
            raise vol.Invalid("give 'event_data' only ('event_data_template' is its old name)",
                              path=["event_data_template"])
        value = {("event_data" if k == "event_data_template" else k): v for k, v in value.items()}
    return _EVENT_SCHEMA(value)


_EVENT_SCHEMA = vol.Schema({
    **_BASE,
    vol.Required("event"): vol.All(cv.string, optional_template),
    vol.Optional("event_data"): vol.All(dict, template_complex),
})

_WAIT: dict[Any, Any] = {
    vol.Optional("timeout"): positive_period_or_template,
    vol.Optional("continue_on_timeout", default=True): cv.boolean,
}


def _choose_option(value: Any) -> dict[str, Any]:
    return _OPTION_SCHEMA(value)


_OPTION_SCHEMA = vol.Schema({
    vol.Optional("alias"): cv.string,
    vol.Required("conditions"): _conditions,
    vol.Required("sequence"): validate_sequence,
})


def _repeat(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping with count, while, until or for_each, and sequence")
    kinds = [key for key in ("count", "while", "until", "for_each") if key in value]
    if len(kinds) != 1:
        raise vol.Invalid("a repeat needs exactly one of count, while, until, for_each")
    return _REPEAT_SCHEMA(value)


_REPEAT_SCHEMA = vol.Schema({
    vol.Optional("count"): vol.Any(template, vol.All(vol.Coerce(int), vol.Range(min=0))),
    vol.Optional("while"): _conditions,
    vol.Optional("until"): _conditions,
    vol.Optional("for_each"): vol.Any(template, list),
    vol.Required("sequence"): validate_sequence,
})


def _parallel_branch(value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and "sequence" in value and len(set(value) - {"alias", "enabled",
                                                                          "continue_on_error"}) == 1:
        return _SEQUENCE_SCHEMA(value)
    return {"sequence": [validate_action(value)], "enabled": True, "continue_on_error": False}


_SEQUENCE_SCHEMA = vol.Schema({**_BASE, vol.Required("sequence"): validate_sequence})

_SCHEMAS: dict[str, Any] = {
    "delay": vol.Schema({**_BASE, vol.Required("delay"): positive_period_or_template}),
    "wait_template": vol.Schema({**_BASE, **_WAIT, vol.Required("wait_template"): template}),
    "wait_for_trigger": vol.Schema({**_BASE, **_WAIT, vol.Required("wait_for_trigger"): _triggers}),
    "choose": vol.Schema({
        **_BASE,
        vol.Required("choose"): vol.All(cv.ensure_list, cv.list_of(_choose_option)),
        vol.Optional("default"): validate_sequence,
    }),
    "if": vol.Schema({
        **_BASE,
        vol.Required("if"): _conditions,
        vol.Required("then"): validate_sequence,
        vol.Optional("else"): validate_sequence,
    }),
    "repeat": vol.Schema({**_BASE, vol.Required("repeat"): _repeat}),
    "parallel": vol.Schema({**_BASE, vol.Required("parallel"): vol.All(cv.ensure_list,
                                                                       cv.list_of(_parallel_branch))}),
    "sequence": _SEQUENCE_SCHEMA,
    "variables": vol.Schema({**_BASE, vol.Required("variables"): script_variables}),
    "stop": vol.Schema({
        **_BASE,
        vol.Required("stop"): vol.Any(None, cv.string),
        vol.Optional("error", default=False): cv.boolean,
        vol.Optional("response_variable"): cv.string,
    }),
}

ACTION_TYPES = ("action", *_SCHEMAS, "event", "condition")


def action_type(value: dict[str, Any]) -> str | None:
    """Which kind of step a mapping is, from its keys."""
    for key in ("delay", "wait_template", "wait_for_trigger", "condition", "choose", "if", "repeat",
                "parallel", "variables", "stop", "event"):
        if key in value:
            return key
    if any(key in value for key in ("and", "or", "not")):
        return "condition"  # `- or: [...]` written directly as a step, as Home Assistant allows
    if "sequence" in value:
        return "sequence"
    if "action" in value or "service" in value or "service_template" in value:
        return "action"
    return None


def validate_action(value: Any) -> dict[str, Any]:
    """One step, recognised by its keys, validated by its schema. The result carries `type`."""
    if isinstance(value, str) and is_template_string(value):
        value = {"condition": value}  # `- "{{ ... }}"`: a template condition as a step
    if not isinstance(value, dict):
        raise vol.Invalid("expected an action (a mapping such as 'action: panel.show_message')")
    if "metadata" in value:  # Home Assistant's editor writes `metadata: {}` on every step
        if not isinstance(value["metadata"], dict):
            raise vol.Invalid("expected a mapping", path=["metadata"])
        value = {key: item for key, item in value.items() if key != "metadata"}
    kind = action_type(value)
    if kind is None:
        raise vol.Invalid("unknown action: expected one of 'action: domain.service', "
                          + ", ".join(k for k in ACTION_TYPES if k != "action"))
    if kind == "action":
        result = _service(value)
    elif kind == "event":
        result = _event(value)
    elif kind == "condition":
        rest = {k: v for k, v in value.items() if k != "continue_on_error"}
        result = validate_condition(rest)
        result["continue_on_error"] = cv.boolean(value.get("continue_on_error", False))
    else:
        result = _SCHEMAS[kind](value)
    result["type"] = kind
    return result

