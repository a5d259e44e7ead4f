"""Validators for the rule language that the shared `cv` module does not have: templates, periods, times.

Shared by the automation engine and integrations (MQTT triggers, template entities), so they live in the core."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time as time_sys
from datetime import timedelta
from typing import Any

import voluptuous as vol

from ..core import valid_entity_id
from ..exceptions import TemplateError
from . import config_validation as cv
from .dt import parse_time_period
from .template import Template, is_template_string

__all__ = [
    "WEEKDAYS",
    "number_or_entity",
    "optional_template",
    "plain",
    "script_variables",
    "service_name",
    "state_values",
    "template",
    "template_complex",
    "time_or_entity",
    "time_period",
    "time_period_or_template",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def plain(value: Any) -> Any:
    """A copy of loaded YAML without the location-carrying subclasses (smaller, picklable)."""
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def template(value: Any) -> Template:
    """A template string (compiled now: a syntax error is a configuration error)."""
    if isinstance(value, Template):
        return value
    if value is None or isinstance(value, list | dict):
        raise vol.Invalid("expected a template")
    try:
        return Template(str(value))
    except TemplateError as err:
        raise vol.Invalid(str(err)) from None


def optional_template(value: Any) -> Any:
    """A value that is a template when it is a string with Jinja syntax, else itself."""
    if isinstance(value, str) and is_template_string(value):
        return template(value)
    return plain(value)


def template_complex(value: Any) -> Any:
    """Nested lists and dicts whose template strings are compiled (keys too)."""
    if isinstance(value, list):
        return [template_complex(item) for item in value]
    if isinstance(value, dict):
        return {template_complex(key): template_complex(item) for key, item in value.items()}
    return optional_template(value)


def script_variables(value: Any) -> dict[str, Any]:
    """`variables:` a mapping of names to values or templates."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping of variable names to values")
    result: dict[str, Any] = {}
    for key, item in value.items():
        name = cv.string(key)
        if not name.isidentifier():
            raise vol.Invalid(f"variable name {name!r} is not a valid identifier", path=[key])
        result[name] = template_complex(item)
    return result


def time_period(value: Any) -> timedelta:
    """A signed duration: 'HH:MM:SS', '-00:45:00', seconds, {minutes: -45}."""
    try:
        return parse_time_period(plain(value))
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def time_period_or_template(value: Any) -> timedelta | Template:
    """A duration ('HH:MM:SS', seconds, {minutes: 5}) or a template that renders to one."""
    if isinstance(value, str) and is_template_string(value):
        return template(value)
    if isinstance(value, dict) and any(isinstance(v, str) and is_template_string(v) for v in value.values()):
        return template_complex(value)
    return time_period(value)


def positive_period_or_template(value: Any) -> timedelta | Template:
    """A duration that is not negative, or a template."""
    result = time_period_or_template(value)
    if isinstance(result, timedelta) and result.total_seconds() < 0:
        raise vol.Invalid("expected a positive time period")
    return result


def state_values(value: Any) -> list[str] | None:
    """`to:`/`from:` values: a string, a list of strings, or null (any)."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, dict | list) or item is None:
            raise vol.Invalid("expected a state string or a list of them")
        if isinstance(item, bool):
            item = "on" if item else "off"  # YAML 1.1 reads an unquoted on/off as a boolean
        result.append(str(item))
    return result


def number_or_entity(value: Any) -> float | str:
    """`above:`/`below:` a number or the entity id of a numeric sensor."""
    if isinstance(value, str) and valid_entity_id(value.strip().lower()) and "." in value:
        return value.strip().lower()
    if isinstance(value, bool):
        raise vol.Invalid("expected a number or an entity id")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise vol.Invalid("expected a number or an entity id") from None


def time_or_entity(value: Any) -> time_sys | str:
    """A time of day 'HH:MM[:SS]' or the entity id of something holding a time or timestamp."""
    if isinstance(value, str) and "." in value and valid_entity_id(value.strip().lower()):
        return value.strip().lower()
    if isinstance(value, int) and not isinstance(value, bool):
        raise vol.Invalid("expected a time 'HH:MM:SS'; quote it so YAML does not read it as a number")
    return cv.time(value)


def service_name(value: Any) -> str | Template:
    """`domain.service` (or a template that renders to it)."""
    if isinstance(value, str) and is_template_string(value):
        return template(value)
    text = cv.string(value).strip().lower()
    domain, dot, service = text.partition(".")
    if not dot or not domain or not service or not valid_entity_id(text):
        raise vol.Invalid("expected an action 'domain.service', e.g. 'panel.show_message'")
    return text


def weekdays(value: Any) -> list[str]:
    """A weekday or list of weekdays (mon..sun)."""
    result = []
    for item in cv.ensure_list(value):
        text = str(item).strip().lower()[:3]
        if text not in WEEKDAYS:
            raise vol.Invalid(f"expected weekdays from {', '.join(WEEKDAYS)}")
        result.append(text)
    return result


def has_at_least_one_key(*keys: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """At least one of `keys` must be given."""

    def validate(value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value, dict) or not any(key in value for key in keys):
            raise vol.Invalid(f"expected at least one of {', '.join(map(repr, keys))}")
        return value

    return validate


def at_most_one_of(*keys: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """At most one of `keys` may be given."""

    def validate(value: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in keys if key in value]
        if len(given) > 1:
            raise vol.Invalid(f"{given[0]!r} and {given[1]!r} cannot be used together", path=[given[1]])
        return value

    return validate
