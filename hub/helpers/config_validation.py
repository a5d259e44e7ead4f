"""Shared voluptuous validators for configuration and service schemas (import as `cv`)."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as time_sys
from typing import Any, TypeVar, overload
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from ..const import MATCH_ALL
from ..core import valid_entity_id

__all__ = [
    "ListOf",
    "boolean",
    "color_hex",
    "empty_config_schema",
    "ensure_list",
    "entity_domain",
    "entity_id",
    "entity_ids",
    "icon",
    "latitude",
    "list_of",
    "longitude",
    "match_all",
    "port",
    "positive_float",
    "positive_int",
    "slug",
    "slugify",
    "string",
    "time",
    "time_period",
    "time_zone",
    "timestamp",
    "unique",
    "url",
    "url_with_schemes",
]

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")

_TRUE = frozenset({"1", "true", "yes", "on", "enable"})
_FALSE = frozenset({"0", "false", "no", "off", "disable"})
_INT_RE = re.compile(r"^[-+]?\d+$")
_TIME_RE = re.compile(r"^(-)?(\d+):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?$")
_HEX_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SLUG_RE = re.compile(r"[^a-z0-9_]+")


def string(value: Any) -> str:
    """A string; numbers are turned into strings, None, lists and mappings are refused."""
    if isinstance(value, str):
        return value
    if value is None:
        raise vol.Invalid("expected a string, got nothing")
    if isinstance(value, list | dict | set | tuple):
        raise vol.Invalid("expected a string")
    return str(value)


def boolean(value: Any) -> bool:
    """true/false, yes/no, on/off, enable/disable, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    elif isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise vol.Invalid("expected boolean (true/false, yes/no, on/off)")


def _to_int(value: Any, message: str) -> int:
    if isinstance(value, bool):
        raise vol.Invalid(message)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(value.strip())
    raise vol.Invalid(message)


def _to_float(value: Any, message: str) -> float:
    if isinstance(value, bool):
        raise vol.Invalid(message)
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise vol.Invalid(message) from None
    if result != result or result in (float("inf"), float("-inf")):
        raise vol.Invalid(message)
    return result


def positive_int(value: Any) -> int:
    """An int >= 0."""
    message = "expected int >= 0"
    result = _to_int(value, message)
    if result < 0:
        raise vol.Invalid(message)
    return result


def port(value: Any) -> int:
    """A TCP/UDP port number."""
    message = "expected int between 1 and 65535"
    result = _to_int(value, message)
    if not 1 <= result <= 65535:
        raise vol.Invalid(message)
    return result


def positive_float(value: Any) -> float:
    """A finite float >= 0."""
    message = "expected float >= 0"
    result = _to_float(value, message)
    if result < 0:
        raise vol.Invalid(message)
    return result


def latitude(value: Any) -> float:
    """Degrees between -90 and 90."""
    message = "expected latitude between -90 and 90"
    result = _to_float(value, message)
    if not -90 <= result <= 90:
        raise vol.Invalid(message)
    return result


def longitude(value: Any) -> float:
    """Degrees between -180 and 180."""
    message = "expected longitude between -180 and 180"
    result = _to_float(value, message)
    if not -180 <= result <= 180:
        raise vol.Invalid(message)
    return result


def entity_id(value: Any) -> str:
    """A valid entity id `domain.object_id`, lower-cased."""
    if not isinstance(value, str):
        raise vol.Invalid("expected an entity id 'domain.object_id'")
    result = value.strip().lower()
    if not valid_entity_id(result):
        raise vol.Invalid("invalid entity id (expected 'domain.object_id': lower-case letters, digits, _)")
    return result


def entity_ids(value: Any) -> list[str]:
    """A list of entity ids, given as a list or a comma-separated string."""
    if value is None:
        raise vol.Invalid("expected entity ids, got nothing")
    if isinstance(value, str):
        value = [part for part in (item.strip() for item in value.split(",")) if part]
    return [entity_id(item) for item in ensure_list(value)]


def entity_domain(domain: str | list[str]) -> Callable[[Any], str]:
    """A validator for an entity id in `domain` (or one of several domains)."""
    domains = [domain] if isinstance(domain, str) else list(domain)

    def validate(value: Any) -> str:
        result = entity_id(value)
        if result.partition(".")[0] not in domains:
            raise vol.Invalid(f"expected an entity id in domain {' or '.join(map(repr, domains))}")
        return result

    return validate


def slugify(text: str, separator: str = "_") -> str:
    """Lower-case ASCII letters, digits and `separator`: 'Centro Norte' -> 'centro_norte'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slugged = _SLUG_RE.sub(separator, ascii_text.lower()).strip(separator)
    return re.sub(f"{re.escape(separator)}+", separator, slugged)


def slug(value: Any) -> str:
    """An identifier in lower-case letters, digits and _."""
    if value is None or isinstance(value, list | dict | bool):
        raise vol.Invalid("expected a slug (lower-case letters, digits and _)")
    text = str(value)
    suggestion = slugify(text)
    if text != suggestion or not text:
        hint = f" (try {suggestion!r})" if suggestion else ""
        raise vol.Invalid(f"expected a slug (lower-case letters, digits and _){hint}")
    return text


def _timedelta_from_string(value: str) -> timedelta:
    text = value.strip()
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        pass
    match = _TIME_RE.match(text)
    if not match:
        raise vol.Invalid("expected a time period: seconds, 'HH:MM', 'HH:MM:SS' or {hours, minutes, seconds}")
    negative, hours, minutes, seconds, fraction = match.groups()
    result = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0),
                       microseconds=int(((fraction or "") + "000000")[:6]))
    return -result if negative else result


_PERIOD_KEYS = ("days", "hours", "minutes", "seconds", "milliseconds")


def time_period(value: Any) -> timedelta:
    """A duration: seconds (number or numeric string), 'HH:MM[:SS[.fff]]', or {days, hours, minutes, seconds,
    milliseconds}."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or value is None:
        raise vol.Invalid("expected a time period: seconds, 'HH:MM:SS' or {hours, minutes, seconds}")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        return _timedelta_from_string(value)
    if isinstance(value, dict):
        unknown = [str(key) for key in value if key not in _PERIOD_KEYS]
        if unknown:
            raise vol.Invalid(f"unknown time period key {unknown[0]!r} (expected {', '.join(_PERIOD_KEYS)})")
        if not value:
            raise vol.Invalid("expected at least one of " + ", ".join(_PERIOD_KEYS))
        parts = {key: _to_float(part, f"expected a number for {key!r}") for key, part in value.items()}
        return timedelta(**parts)
    raise vol.Invalid("expected a time period: seconds, 'HH:MM:SS' or {hours, minutes, seconds}")


def timestamp(value: Any) -> float:
    """A moment: epoch seconds, or an ISO 8601 date and time (UTC unless it gives its offset) -> epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise vol.Invalid(f"{value!r} is not an epoch or an ISO date and time") from None
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).timestamp()


def time(value: Any) -> time_sys:
    """A time of day 'HH:MM' or 'HH:MM:SS' -> datetime.time."""
    if isinstance(value, time_sys):
        return value
    message = "expected a time of day 'HH:MM' or 'HH:MM:SS'"
    if not isinstance(value, str):
        raise vol.Invalid(message)
    match = _TIME_RE.match(value.strip())
    if not match or match.group(1) or match.group(5):
        raise vol.Invalid(message)
    hours, minutes, seconds = int(match.group(2)), int(match.group(3)), int(match.group(4) or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise vol.Invalid(message)
    return time_sys(hours, minutes, seconds)


def time_zone(value: Any) -> str:
    """An IANA time zone name such as 'Africa/Ceuta'."""
    message = "invalid time zone (expected an IANA name such as 'Africa/Ceuta' or 'UTC')"
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid(message)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(message) from None
    return value


@overload
def ensure_list(value: None) -> list[Any]: ...


@overload
def ensure_list(value: list[_T]) -> list[_T]: ...


@overload
def ensure_list(value: list[_T] | _T) -> list[_T]: ...


def ensure_list(value: _T | list[_T] | None) -> list[_T] | list[Any]:
    """Wrap a single value in a list; None is an empty list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


class ListOf:
    """Validate every item of a list (a single value becomes a list) and report the errors of all items.

    A plain `[schema]` in voluptuous stops at the first bad item; configuration should show them all.
    """

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._compiled = vol.Schema(schema)

    def __call__(self, value: Any) -> list[Any]:
        result: list[Any] = []
        errors: list[vol.Invalid] = []
        for index, item in enumerate(ensure_list(value)):
            try:
                result.append(self._compiled(item))
            except vol.MultipleInvalid as err:
                err.prepend([index])
                errors.extend(err.errors)
            except vol.Invalid as err:
                err.prepend([index])
                errors.append(err)
        if errors:
            raise vol.MultipleInvalid(errors)
        return result

    def __repr__(self) -> str:
        return f"ListOf({self.schema!r})"


def list_of(schema: Any) -> ListOf:
    """A validator for a list of `schema` items that reports every bad item, not just the first."""
    return ListOf(schema)


def url_with_schemes(*schemes: str) -> Callable[[Any], str]:
    """A validator for a URL whose scheme is one of `schemes` and that names a host."""
    allowed = ", ".join(f"{scheme}://" for scheme in schemes)

    def validate(value: Any) -> str:
        text = string(value).strip()
        parsed = urlparse(text)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise vol.Invalid(f"expected a URL ({allowed})")
        return text

    return validate


url = url_with_schemes("http", "https")
url.__doc__ = "An http:// or https:// URL."


def unique(key: str, what: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """A validator for a list of mappings whose `key` values differ (\"duplicate <what> 'x'\" at the second)."""

    def validate(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[Any] = set()
        for index, item in enumerate(items):
            if item[key] in seen:
                raise vol.Invalid(f"duplicate {what} {item[key]!r}", path=[index, key])
            seen.add(item[key])
        return items

    return validate


def color_hex(value: Any) -> str:
    """A colour '#rrggbb' (or '#rgb'), returned lower-case."""
    if not isinstance(value, str) or not _HEX_COLOR_RE.match(value.strip()):
        raise vol.Invalid("expected a hex colour '#rrggbb'")
    return value.strip().lower()


def icon(value: Any) -> str:
    """An icon name 'prefix:name', e.g. 'mdi:fire'."""
    text = string(value)
    prefix, sep, name = text.partition(":")
    if not sep or not prefix or not name:
        raise vol.Invalid("expected an icon 'prefix:name', e.g. 'mdi:fire'")
    return text


def match_all(value: Any) -> str:
    """Exactly '*'."""
    if value != MATCH_ALL:
        raise vol.Invalid(f"expected {MATCH_ALL!r}")
    return MATCH_ALL


def empty_config_schema(domain: str) -> Callable[[Any], dict[str, Any]]:
    """A CONFIG_SCHEMA for an integration that takes no options: `domain:` alone or `domain: {}`."""

    def validate(value: Any) -> dict[str, Any]:
        if value is None or value == {}:
            return {}
        raise vol.Invalid(f"{domain} takes no options; write `{domain}:` on its own")

    return validate
