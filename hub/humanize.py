"""The one voluptuous error humanizer: paths, values and messages in the same words everywhere.

`humanize_invalid` is the short form (`devices[2].port: expected int; name: required key not provided`) for
data that has no file behind it: HTTP bodies, websocket messages, service calls. Configuration errors
(hub.config.validation.humanize_error) build on the same pieces and add file:line and "did you mean".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import voluptuous as vol
from voluptuous.schema_builder import VirtualPathComponent

__all__ = ["MAX_VALUE_LENGTH", "flatten", "format_path", "format_value", "humanize_invalid", "key_text",
           "real_path"]

MAX_VALUE_LENGTH = 60


def humanize_invalid(err: vol.Invalid) -> str:
    """`path: message; ...` for every error inside `err` (nested MultipleInvalid included)."""
    parts = []
    for error in flatten(err):
        path = real_path(error)
        parts.append(f"{format_path(path)}: {error.msg}" if path else error.msg)
    return "; ".join(parts)


def flatten(err: vol.Invalid) -> list[vol.Invalid]:
    """The single errors inside `err`."""
    if isinstance(err, vol.MultipleInvalid):
        return [leaf for error in err.errors for leaf in flatten(error)]
    return [err]


def real_path(err: vol.Invalid) -> list[Hashable]:
    """The error path without voluptuous' virtual components (the `<group>` of Inclusive/Exclusive keys)."""
    return [key for key in err.path if not isinstance(key, VirtualPathComponent)]


def key_text(key: Any) -> str:
    """A schema key as text (the name inside vol.Required/vol.Optional)."""
    if isinstance(key, vol.Marker):
        key = key.schema
    return str(key)


def format_path(path: Iterable[Hashable]) -> str:
    """['devices', 2, 'port'] -> 'devices[2].port'."""
    text = ""
    for key in path:
        if isinstance(key, int) and not isinstance(key, bool):
            text += f"[{key}]"
        else:
            text += f".{key_text(key)}" if text else key_text(key)
    return text


def format_value(value: Any) -> str:
    """repr() of a value, never a secret, cut to MAX_VALUE_LENGTH characters."""
    if getattr(value, "__secret__", False):
        return "<secret>"
    if isinstance(value, str):
        text = repr(str(value))
    elif isinstance(value, dict):
        text = repr(dict(value))
    elif isinstance(value, list):
        text = repr(list(value))
    else:
        text = repr(value)
    if len(text) > MAX_VALUE_LENGTH:
        text = text[: MAX_VALUE_LENGTH - 3] + "..."
    return text
