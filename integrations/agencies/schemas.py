"""Schemas of the bodies agencies push to /api/webhook/{id}: named ones, or a small inline field list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

__all__ = ["BODY_SCHEMAS", "body_schema", "inline_body_schema"]


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected non-empty text")
    return value


# The Ministry of the Interior pushes changes to the hotlist of wanted vehicles.
HOTLIST_SCHEMA = vol.Schema({
    vol.Required("action"): vol.In(["add", "remove", "replace"]),
    vol.Optional("list", default="hotlist"): _text,
    vol.Required("entries"): [vol.Schema({
        vol.Required("plate"): _text,
        vol.Optional("reason"): str,
        vol.Optional("case"): str,
        vol.Optional("expires"): str,
    })],
    vol.Optional("reference"): str,
})

# The fire brigade reports the course of an incident ("fire under control").
FIRE_STATUS_SCHEMA = vol.Schema({
    vol.Required("incident_id"): _text,
    vol.Required("status"): vol.In(["received", "dispatched", "en_route", "on_scene", "under_control",
                                    "extinguished", "closed"]),
    vol.Optional("alarm_id"): _text,
    vol.Optional("time"): str,
    vol.Optional("message"): str,
    vol.Optional("units"): [str],
    vol.Optional("location"): vol.Schema({vol.Required("lat"): vol.Coerce(float),
                                          vol.Required("lon"): vol.Coerce(float)}),
})

ANY_OBJECT_SCHEMA = vol.Schema({}, extra=vol.ALLOW_EXTRA)

BODY_SCHEMAS: Mapping[str, vol.Schema] = {
    "any": ANY_OBJECT_SCHEMA,
    "hotlist": HOTLIST_SCHEMA,
    "fire_status": FIRE_STATUS_SCHEMA,
}

_TYPES: Mapping[str, Any] = {
    "str": str,
    "int": int,
    "float": vol.Any(int, float),
    "bool": bool,
    "list": list,
    "dict": dict,
    "any": object,
}


def inline_body_schema(fields: Mapping[str, str]) -> vol.Schema:
    """A schema from `{field: type}` (types: str int float bool list dict any; `field?` is optional)."""
    spec: dict[Any, Any] = {}
    for name, type_name in fields.items():
        if type_name not in _TYPES:
            raise vol.Invalid(f"unknown type {type_name!r} for {name!r}; use one of {', '.join(_TYPES)}")
        key = vol.Optional(name[:-1]) if name.endswith("?") else vol.Required(name)
        spec[key] = _TYPES[type_name]
    return vol.Schema(spec)


def body_schema(value: Any) -> Callable[[Any], Any]:
    """Config validator: a schema name or an inline `{field: type}` mapping -> the schema."""
    if isinstance(value, str):
        if value not in BODY_SCHEMAS:
            raise vol.Invalid(f"unknown body schema {value!r}; use one of {', '.join(BODY_SCHEMAS)} "
                              "or a mapping of field: type")
        return BODY_SCHEMAS[value]
    if isinstance(value, Mapping):
        return inline_body_schema({str(k): str(v) for k, v in value.items()})
    raise vol.Invalid("expected a schema name or a mapping of field: type")
