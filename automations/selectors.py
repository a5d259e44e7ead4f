"""Home Assistant selectors as validators of blueprint inputs (`selector: {entity: {domain: light}}`).

The selectors that constrain a value (entity, number, boolean, text, select, time, date, datetime,
duration, target, action, condition, trigger...) check it; the others (icon, color, object,
template, area, device...) pass the value through, as they only shape Home Assistant's editor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv

__all__ = ["selector_validator"]

Validator = Callable[[Any], Any]


def _multiple(options: Mapping[str, Any], single: Validator) -> Validator:
    if options.get("multiple"):
        return vol.All(cv.ensure_list, [single])
    return single


def _entity(options: Mapping[str, Any]) -> Validator:
    domains: list[str] = []
    for item in cv.ensure_list(options.get("filter")) or [options]:
        domains.extend(cv.ensure_list(item.get("domain")) if isinstance(item, dict) else [])

    def validate(value: Any) -> str:
        entity_id = cv.entity_id(value)
        if domains and entity_id.partition(".")[0] not in domains:
            raise vol.Invalid(f"expected an entity of domain {' or '.join(domains)}, got {entity_id!r}")
        return entity_id

    return _multiple(options, validate)


def _number(options: Mapping[str, Any]) -> Validator:
    low, high = options.get("min"), options.get("max")

    def validate(value: Any) -> float | int:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise vol.Invalid(f"expected a number, got {value!r}") from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise vol.Invalid(f"expected a number between {low} and {high}, got {number:g}")
        return int(number) if number.is_integer() and isinstance(value, int) else number

    return validate


def _select(options: Mapping[str, Any]) -> Validator:
    allowed = [str(item["value"]) if isinstance(item, dict) else str(item)
               for item in cv.ensure_list(options.get("options"))]

    def validate(value: Any) -> str:
        text = cv.string(value)
        if allowed and text not in allowed and not options.get("custom_value"):
            raise vol.Invalid(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    return _multiple(options, validate)


def _time(_options: Mapping[str, Any]) -> Validator:
    def validate(value: Any) -> str:
        return cv.time(value).strftime("%H:%M:%S")

    return validate


def _date(_options: Mapping[str, Any]) -> Validator:
    def validate(value: Any) -> str:
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise vol.Invalid(f"expected a date YYYY-MM-DD, got {value!r}") from None

    return validate


def _datetime(_options: Mapping[str, Any]) -> Validator:
    def validate(value: Any) -> str:
        try:
            return dt.datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise vol.Invalid(f"expected a date and time, got {value!r}") from None

    return validate


def _duration(_options: Mapping[str, Any]) -> Validator:
    def validate(value: Any) -> Any:
        cv.time_period(value)  # checks it; the blueprint gets the value as written (a mapping, usually)
        return value

    return validate


_TARGET_KEYS = ("entity_id", "device_id", "area_id", "floor_id", "label_id")


def _target(_options: Mapping[str, Any]) -> Validator:
    def validate(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise vol.Invalid("expected a target: a mapping with entity_id, device_id or area_id")
        unknown = [key for key in value if key not in _TARGET_KEYS]
        if unknown:
            raise vol.Invalid(f"unknown target key {unknown[0]!r} (expected {', '.join(_TARGET_KEYS)})")
        if "entity_id" in value:
            return {**value, "entity_id": cv.entity_ids(value["entity_id"])}
        return dict(value)

    return validate


def _sequence(_options: Mapping[str, Any]) -> Validator:
    def validate(value: Any) -> list[Any]:
        items = cv.ensure_list(value)
        if not all(isinstance(item, dict | str) for item in items):
            raise vol.Invalid("expected a list of steps")
        return items

    return validate


def _boolean(_options: Mapping[str, Any]) -> Validator:
    return cv.boolean


def _text(options: Mapping[str, Any]) -> Validator:
    return _multiple(options, cv.string)


_SELECTORS: dict[str, Callable[[Mapping[str, Any]], Validator]] = {
    "entity": _entity,
    "number": _number,
    "boolean": _boolean,
    "text": _text,
    "select": _select,
    "time": _time,
    "date": _date,
    "datetime": _datetime,
    "duration": _duration,
    "target": _target,
    "action": _sequence,
    "condition": _sequence,
    "trigger": _sequence,
}


def selector_validator(selector: Any) -> Validator | None:
    """The validator of a `selector:` mapping ({type: options}); None for selectors that do not constrain."""
    if not isinstance(selector, dict) or len(selector) != 1:
        return None
    kind, options = next(iter(selector.items()))
    factory = _SELECTORS.get(str(kind))
    if factory is None:
        return None
    return factory(options if isinstance(options, dict) else {})
