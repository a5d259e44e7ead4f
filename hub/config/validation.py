"""Validate configuration with voluptuous and turn every error into one readable line naming file:line."""

from __future__ import annotations

import copy
import difflib
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import voluptuous as vol

from ..exceptions import ConfigError
from ..helpers import config_validation as cv
from ..humanize import flatten as _flatten
from ..humanize import format_path, format_value
from ..humanize import key_text as _key_text
from ..humanize import real_path as _real_path
from .yaml_loader import Location, NodeDict, NodeList, get_location

__all__ = [
    "deprecated",
    "format_extra_key",
    "humanize_error",
    "validate",
]

_LOGGER = logging.getLogger(__name__)

_MSG_EXTRA = "extra keys not allowed"
_MSG_REQUIRED = "required key not provided"


def validate(schema: Any, value: Any, domain: str | None = None) -> Any:
    """Run `schema` on `value`; return the result, or raise ConfigError listing every problem with file:line.

    `schema` is a vol.Schema, a dict (wrapped in vol.Schema) or any validator callable. Errors are sorted by
    file and line.
    """
    validator: Callable[[Any], Any] = vol.Schema(schema) if isinstance(schema, dict) else schema
    try:
        return validator(value)
    except vol.Invalid as err:
        located = sorted(((_sort_key(value, error), humanize_error(value, error, domain, schema=schema))
                          for error in _flatten(err)), key=lambda item: item[0])
        errors = _unique(line for _, line in located)
        raise ConfigError(_summary(errors, domain), errors) from err


def humanize_error(value: Any, err: vol.Invalid, domain: str | None = None, *, schema: Any = None) -> str:
    """One line per error: `file:line: [domain] 'path': what was expected, got what`.

    `value` is the raw (loaded) configuration the schema was run on: the error path is walked through it to
    find the deepest file:line. Give `schema` to get "did you mean" suggestions for unknown keys.
    """
    if isinstance(err, vol.MultipleInvalid):
        return "\n".join(humanize_error(value, error, domain, schema=schema) for error in _flatten(err))
    path = _real_path(err)
    message = err.error_message
    if isinstance(err, vol.RequiredFieldInvalid) and path:
        where, text = path[:-1], f"missing required key {_key_text(path[-1])!r}"
        if message != _MSG_REQUIRED:
            text += f" ({message})"
        location, _, _ = _locate(value, where)
    elif message == _MSG_EXTRA and path:
        where = path[:-1]
        text = format_extra_key(path[-1], _allowed_keys(schema, where) if schema is not None else ())
        location, _, _ = _locate(value, path)
    else:
        where, text = path, message
        location, found, got = _locate(value, path)
        # An Inclusive/Exclusive group error is about the mapping as a whole: printing it would be noise.
        grouped = len(path) != len(err.path)
        if found and not grouped and ", got " not in text:
            shown = format_value(got)
            if shown not in text:  # a message that already quotes the value needs no "got"
                text += f", got {shown}"
    parts = []
    if location is not None:
        parts.append(f"{location[0]}:{location[1]}:")
    if domain:
        parts.append(f"[{domain}]")
    if where:
        parts.append(f"{format_path(where)!r}:")
    parts.append(text)
    return " ".join(parts)


def format_extra_key(key: Any, allowed: Iterable[str] = ()) -> str:
    """"unknown key 'prot' (did you mean 'port'?)" -- the suggestion only when one of `allowed` is close."""
    name = _key_text(key)
    close = difflib.get_close_matches(name, sorted(set(allowed)), n=1, cutoff=0.6)
    if close:
        return f"unknown key {name!r} (did you mean {close[0]!r}?)"
    return f"unknown key {name!r}"


def _sort_key(value: Any, err: vol.Invalid) -> tuple[int, str, int]:
    location, _, _ = _locate(value, _real_path(err))
    return (1, "", 0) if location is None else (0, location[0], location[1])


def _unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _summary(errors: list[str], domain: str | None) -> str:
    if len(errors) == 1:
        return f"Invalid configuration: {errors[0]}"
    what = f"for {domain} " if domain else ""
    lines = "\n".join(f"  {line}" for line in errors)
    return f"Invalid configuration {what}({len(errors)} errors):\n{lines}"


def _plain_key(key: Any) -> Any:
    return key.schema if isinstance(key, vol.Marker) else key


def _locate(value: Any, path: list[Hashable]) -> tuple[Location | None, bool, Any]:
    """Walk `path` through the loaded data: (deepest file:line, whether the path exists, the value there)."""
    location = get_location(value)
    current = value
    for raw_key in path:
        key = _plain_key(raw_key)
        key_location: Location | None = None
        if isinstance(current, dict):
            try:
                if key not in current:
                    return location, False, None
            except TypeError:  # an unhashable key in the path
                return location, False, None
            if isinstance(current, NodeDict):
                key_location = current.key_location(key)
            child = current[key]
        elif (isinstance(current, list) and isinstance(key, int) and not isinstance(key, bool)
              and 0 <= key < len(current)):
            if isinstance(current, NodeList):
                key_location = current.item_location(key)
            child = current[key]
        else:
            return location, False, None
        # The child's own location wins: it may sit in an included file, deeper than the key that names it.
        location = get_location(child) or key_location or location
        current = child
    return location, True, current


def _allowed_keys(schema: Any, path: list[Hashable]) -> set[str]:
    """String keys the schema accepts at `path`, found by walking dict and list schemas (best effort)."""
    nodes = [schema]
    for raw_key in path:
        key = _plain_key(raw_key)
        following: list[Any] = []
        for node in _expand(nodes):
            if isinstance(node, dict):
                following.extend(sub for schema_key, sub in node.items() if _key_matches(schema_key, key))
            elif isinstance(node, list | tuple) and isinstance(key, int):
                following.extend(node)
        nodes = following
    keys: set[str] = set()
    for node in _expand(nodes):
        if isinstance(node, dict):
            keys.update(str(_plain_key(k)) for k in node if isinstance(_plain_key(k), str))
    return keys


def _expand(nodes: list[Any]) -> list[Any]:
    """Unwrap vol.Schema, vol.All, vol.Any and friends into the dict and list schemas inside them."""
    result: list[Any] = []
    seen: set[int] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, vol.Schema):
            stack.append(node.schema)
        elif isinstance(node, cv.ListOf):
            stack.append([node.schema])
        elif isinstance(getattr(node, "validators", None), list | tuple):
            stack.extend(node.validators)
        else:
            result.append(node)
    return result


def _key_matches(schema_key: Any, key: Any) -> bool:
    plain = _plain_key(schema_key)
    if isinstance(plain, type):
        return isinstance(key, plain)
    try:
        return bool(plain == key)
    except Exception:  # a schema key with an odd __eq__ never matches
        return False


def deprecated(key: str, replacement_key: str | None = None) -> Callable[[Any], Any]:
    """Warn (naming file:line) when `key` is used; move its value to `replacement_key` when one is given.

    Put it before the schema: `vol.All(deprecated("old", "new"), vol.Schema({...}))`.
    """

    def validate(config: Any) -> Any:
        if not isinstance(config, dict) or key not in config:
            return config
        loc = get_location(config, key)
        where = f"{loc[0]}:{loc[1]}: " if loc else ""
        if replacement_key is None:
            _LOGGER.warning("%soption %r is deprecated and ignored; remove it", where, key)
        else:
            _LOGGER.warning("%soption %r is deprecated; use %r instead", where, key, replacement_key)
            if replacement_key in config and config[replacement_key] != config[key]:
                raise vol.Invalid(f"both {key!r} (deprecated) and {replacement_key!r} are given; keep only "
                                  f"{replacement_key!r}", path=[key])
        result = copy.copy(config)  # keeps a NodeDict's file and lines
        value = result.pop(key)
        if isinstance(result, NodeDict):
            locs = dict(result._key_locs or {})
            if replacement_key is not None and loc is not None:
                locs[replacement_key] = loc
            result._key_locs = locs
        if replacement_key is not None:
            result[replacement_key] = value
        return result

    return validate
