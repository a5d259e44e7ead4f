"""Home Assistant's template functions, filters and tests, with its names, arguments and results.

Plain ones (statistics, regex, bitwise, strptime, math, type tests) need no hub; the hub-bound ones
(`timestamp_custom` in the site's time zone, `relative_time` on the hub clock, `expand`, `closest`,
the area/device/integration lookups) are made once per hub by `make_hub_functions`. Both kinds are
globals and filters, as in Home Assistant. Errors without a `default` read as Home Assistant's.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import statistics
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.const import ATTR_ENTITY_ID, ATTR_FRIENDLY_NAME
from hub.core import State, valid_entity_id

from .dt import hub_tz, parse_time_period

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = [
    "HUB_FUNCTION_NAMES",
    "PLAIN_FUNCTIONS",
    "PLAIN_TESTS",
    "get_age",
    "make_hub_functions",
    "no_default",
]

_SENTINEL: Any = object()
DATE_STR_FORMAT = "%Y-%m-%d %H:%M:%S"


def no_default(name: str, value: Any) -> ValueError:
    """Home Assistant's error for a conversion that failed without a `default`."""
    return ValueError(f"Template error: {name} got invalid input {value!r} when rendering template "
                      "but no default was specified")


# --------------------------------------------------------------------------- plain functions


def _values(name: str, args: tuple[Any, ...]) -> list[Any]:
    if len(args) == 1 and isinstance(args[0], Iterable) and not isinstance(args[0], str):
        return list(args[0])
    if not args:
        raise TypeError(f"{name} expected at least 1 argument, got 0")
    return list(args)


def _statistic(name: str, func: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    def compute(*args: Any, default: Any = _SENTINEL) -> Any:
        try:
            return func(_values(name, args))
        except (TypeError, ValueError, statistics.StatisticsError):
            if default is _SENTINEL:
                raise no_default(name, args[0] if len(args) == 1 else args) from None
            return default

    compute.__name__ = name
    return compute


def _flags(ignorecase: bool) -> int:
    return re.IGNORECASE if ignorecase else 0


def regex_findall(value: Any, find: str = "", ignorecase: bool = False) -> list[Any]:
    """Every match of `find` in `value`."""
    return re.findall(find, str(value), _flags(ignorecase))


def regex_findall_index(value: Any, find: str = "", index: int = 0, ignorecase: bool = False) -> Any:
    """The `index`th match of `find` in `value`."""
    return regex_findall(value, find, ignorecase)[index]


def strptime(string: Any, fmt: str, default: Any = _SENTINEL) -> Any:
    """A datetime parsed with a strftime format (naive unless the format has %z)."""
    try:
        return datetime.strptime(str(string), fmt)
    except (ValueError, TypeError):
        if default is _SENTINEL:
            raise no_default("strptime", string) from None
        return default


def as_timedelta(value: Any) -> timedelta | None:
    """'00:10:00', seconds or an ISO-like period as a timedelta (None when it is not one)."""
    try:
        return parse_time_period(value)
    except ValueError:
        return None


def _bitwise(name: str, func: Callable[[int, int], int]) -> Callable[[Any, Any], int]:
    def compute(first: Any, second: Any) -> int:
        return func(int(first), int(second))

    compute.__name__ = name
    return compute


def _base64_encode(value: Any) -> str:
    data = value if isinstance(value, bytes) else str(value).encode()
    return base64.b64encode(data).decode()


def _base64_decode(value: Any, encoding: str | None = "utf-8") -> Any:
    decoded = base64.b64decode(value)
    return decoded.decode(encoding) if encoding else decoded


def _math(name: str, func: Callable[..., float]) -> Callable[..., Any]:
    def compute(value: Any, *args: Any, default: Any = _SENTINEL) -> Any:
        try:
            return func(float(value), *args)
        except (ValueError, TypeError):
            if default is _SENTINEL:
                raise no_default(name, value) from None
            return default

    compute.__name__ = name
    return compute


def _log(value: Any, base: float = math.e, default: Any = _SENTINEL) -> Any:
    try:
        return math.log(float(value), float(base))
    except (ValueError, TypeError):
        if default is _SENTINEL:
            raise no_default("log", value) from None
        return default


def _flatten(value: Iterable[Any], levels: int | None = None) -> list[Any]:
    """Nested lists as one list (`levels` deep, all when None)."""
    result: list[Any] = []
    for item in value:
        if isinstance(item, list | tuple) and (levels is None or levels > 0):
            result.extend(_flatten(item, None if levels is None else levels - 1))
        else:
            result.append(item)
    return result


def _combine(*dicts: Any, recursive: bool = False) -> dict[Any, Any]:
    """Later mappings win; with `recursive`, nested mappings are combined too."""
    result: dict[Any, Any] = {}
    for item in dicts:
        for key, value in dict(item).items():
            if recursive and isinstance(value, dict) and isinstance(result.get(key), dict):
                value = _combine(result[key], value, recursive=True)
            result[key] = value
    return result


def _hash(name: str) -> Callable[[Any], str]:
    def digest(value: Any) -> str:
        return hashlib.new(name, str(value).encode()).hexdigest()

    digest.__name__ = name
    return digest


PLAIN_FUNCTIONS: dict[str, Any] = {
    "average": _statistic("average", statistics.fmean),
    "median": _statistic("median", statistics.median),
    "statistical_mode": _statistic("statistical_mode", statistics.mode),
    "regex_findall": regex_findall,
    "regex_findall_index": regex_findall_index,
    "strptime": strptime,
    "as_timedelta": as_timedelta,
    "bitwise_and": _bitwise("bitwise_and", lambda a, b: a & b),
    "bitwise_or": _bitwise("bitwise_or", lambda a, b: a | b),
    "bitwise_xor": _bitwise("bitwise_xor", lambda a, b: a ^ b),
    "base64_encode": _base64_encode,
    "base64_decode": _base64_decode,
    "ord": ord,
    "zip": zip,
    "set": set,
    "tuple": tuple,
    "typeof": lambda value: type(value).__name__,
    "flatten": _flatten,
    "combine": _combine,
    "urlencode": lambda value: urllib.parse.urlencode(value),
    "md5": _hash("md5"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "sha512": _hash("sha512"),
    "log": _log,
    "sin": _math("sin", math.sin),
    "cos": _math("cos", math.cos),
    "tan": _math("tan", math.tan),
    "asin": _math("asin", math.asin),
    "acos": _math("acos", math.acos),
    "atan": _math("atan", math.atan),
    "sqrt": _math("sqrt", math.sqrt),
    "pi": math.pi,
    "e": math.e,
    "tau": math.tau,
    "inf": math.inf,
}

PLAIN_TESTS: dict[str, Any] = {
    "list": lambda value: isinstance(value, list),
    "set": lambda value: isinstance(value, set),
    "tuple": lambda value: isinstance(value, tuple),
    "datetime": lambda value: isinstance(value, datetime),
    "string_like": lambda value: isinstance(value, str | bytes | bytearray),
    "boolean": lambda value: isinstance(value, bool),
    "contains": lambda value, item: item in value,
}


# --------------------------------------------------------------------------- ages


def _timestring(seconds: float, precision: int) -> str:
    """'2 hours', or with precision 2 '2 hours 5 minutes' (Home Assistant's dt_util wording)."""
    if seconds == 0:
        return "0 seconds"
    units = ("year", "month", "day", "hour", "minute", "second")
    factors = (365 * 86400, 30 * 86400, 86400, 3600, 60, 1)
    parts: list[str] = []
    for unit, factor in zip(units, factors, strict=True):
        if seconds < factor:
            continue
        if len(parts) + 1 == precision:
            number = round(seconds / factor)
            parts.append(f"{number} {unit}" + ("" if number == 1 else "s"))
            return " ".join(parts)
        whole = int(seconds // factor)
        parts.append(f"{whole} {unit}" + ("" if whole == 1 else "s"))
        seconds -= whole * factor
    return " ".join(parts)


def get_age(now: datetime, then: datetime, precision: int = 1) -> str:
    """How long ago `then` was, in words."""
    return _timestring((now - then).total_seconds(), precision)


# --------------------------------------------------------------------------- hub-bound

HUB_FUNCTION_NAMES = (
    "timestamp_custom", "timestamp_local", "timestamp_utc", "relative_time", "time_since", "time_until",
    "expand", "closest", "entity_name", "area_entities", "area_name", "area_id", "area_devices",
    "device_entities", "device_attr", "is_device_attr", "device_id", "integration_entities",
)


def make_hub_functions(hub: Hub, resolve: Callable[[Any], State | None],
                       distance: Callable[..., float | None], track_time: Callable[[], None]
                       ) -> dict[str, Any]:
    """The hub-bound functions: `resolve` reads a State (tracking it), `distance` is the km function."""

    def _local(value: datetime) -> datetime:
        return value.astimezone(hub_tz(hub))

    def _aware(value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=hub_tz(hub))

    def _from_timestamp(name: str, value: Any, default: Any) -> datetime | None:
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (ValueError, TypeError, OverflowError, OSError):
            if default is _SENTINEL:
                raise no_default(name, value) from None
            return None

    def timestamp_custom(value: Any, format_string: str = DATE_STR_FORMAT, local: bool = True,
                         default: Any = _SENTINEL) -> Any:
        date = _from_timestamp("timestamp_custom", value, default)
        if date is None:
            return default
        return (_local(date) if local else date).strftime(format_string)

    def timestamp_local(value: Any, default: Any = _SENTINEL) -> Any:
        date = _from_timestamp("timestamp_local", value, default)
        return default if date is None else _local(date).isoformat()

    def timestamp_utc(value: Any, default: Any = _SENTINEL) -> Any:
        date = _from_timestamp("timestamp_utc", value, default)
        return default if date is None else date.isoformat()

    def relative_time(value: Any) -> Any:
        if not isinstance(value, datetime):
            return value
        track_time()
        now = hub.clock.now()
        value = _aware(value)
        return value if now < value else get_age(now, value)

    def time_since(value: Any, precision: int = 1) -> Any:
        return relative_time(value) if precision == 1 else _age(value, precision, future=False)

    def time_until(value: Any, precision: int = 1) -> Any:
        return _age(value, precision, future=True)

    def _age(value: Any, precision: int, future: bool) -> Any:
        if not isinstance(value, datetime):
            return value
        track_time()
        now = hub.clock.now()
        value = _aware(value)
        if (value < now) if future else (now < value):
            return value
        return _timestring(abs((value - now).total_seconds()), precision)

    def expand(*args: Any) -> list[State]:
        """States of entity ids, States and groups (their `entity_id` members), sorted, each once."""
        found: dict[str, State] = {}
        todo: list[Any] = []
        for arg in args:
            todo.extend(arg if isinstance(arg, Iterable) and not isinstance(arg, str | State) else [arg])
        seen: set[str] = set()
        while todo:
            item = todo.pop(0)
            state = resolve(item)
            if state is None or state.entity_id in seen:
                continue
            seen.add(state.entity_id)
            members = state.attributes.get(ATTR_ENTITY_ID)
            if isinstance(members, list | tuple) and state.domain == "group":
                todo.extend(members)
                continue
            found[state.entity_id] = state
        return sorted(found.values(), key=lambda s: s.entity_id)

    def closest(*args: Any) -> State | None:
        """The nearest located entity: to home, to (lat, lon), or to a given entity."""
        origin: tuple[Any, ...] = ()
        candidates: tuple[Any, ...] = args
        if len(args) >= 3 and _is_number(args[0]) and _is_number(args[1]):
            origin, candidates = (float(args[0]), float(args[1])), args[2:]
        elif len(args) >= 2:
            origin, candidates = (args[0],), args[1:]
        best: tuple[float, State] | None = None
        for state in expand(*candidates):
            km = distance(*origin, state)
            if km is not None and (best is None or km < best[0]):
                best = (km, state)
        return None if best is None else best[1]

    def _entries(name: str) -> Any:
        import importlib

        module = importlib.import_module(f"hub.helpers.{name}_registry")
        try:
            return module.async_get(hub)
        except LookupError:
            return None

    def entity_name(entity_id: Any) -> str | None:
        state = resolve(entity_id)
        registry = _entries("entity")
        entry = registry.async_get(str(entity_id)) if registry is not None else None
        if entry is not None and (entry.name or entry.original_name):
            return str(entry.name or entry.original_name)
        if state is not None:
            return str(state.attributes.get(ATTR_FRIENDLY_NAME) or state.object_id.replace("_", " "))
        return None

    def _area(lookup: Any) -> Any:
        areas = _entries("area")
        if areas is None or not isinstance(lookup, str):
            return None
        area = areas.async_get_area(lookup)
        if area is None:
            area = next((a for a in areas.async_list_areas() if a.name.lower() == lookup.lower()), None)
        if area is not None:
            return area
        area_of = None
        if valid_entity_id(lookup):
            entities = _entries("entity")
            entry = entities.async_get(lookup) if entities is not None else None
            area_of = entry.area_id if entry is not None else None
            if area_of is None and entry is not None and entry.device_id:
                lookup = entry.device_id
        if area_of is None:
            devices = _entries("device")
            device = devices.async_get(lookup) if devices is not None else None
            area_of = device.area_id if device is not None else None
        return areas.async_get_area(area_of) if area_of else None

    def area_name(lookup: Any) -> str | None:
        area = _area(lookup)
        return None if area is None else str(area.name)

    def area_id(lookup: Any) -> str | None:
        area = _area(lookup)
        return None if area is None else str(area.id)

    def area_devices(lookup: Any) -> list[str]:
        area, devices = _area(lookup), _entries("device")
        if area is None or devices is None:
            return []
        return [device.id for device in devices.async_devices_for_area(area.id)]

    def area_entities(lookup: Any) -> list[str]:
        area, entities = _area(lookup), _entries("entity")
        if area is None or entities is None:
            return []
        found = {entry.entity_id for entry in entities.async_entries_for_area(area.id)}
        for device in area_devices(area.id):
            found.update(entry.entity_id for entry in entities.async_entries_for_device(device)
                         if entry.area_id is None)
        return sorted(found)

    def device_entities(device: Any) -> list[str]:
        entities = _entries("entity")
        if entities is None:
            return []
        return sorted(entry.entity_id for entry in entities.async_entries_for_device(str(device)))

    def device_attr(device: Any, attr: str) -> Any:
        devices = _entries("device")
        entry = devices.async_get(str(device)) if devices is not None else None
        if entry is None and isinstance(device, str) and valid_entity_id(device):
            entry = devices.async_get(device_id(device) or "") if devices is not None else None
        return None if entry is None else getattr(entry, attr, None)

    def is_device_attr(device: Any, attr: str, value: Any) -> bool:
        return bool(device_attr(device, attr) == value)

    def device_id(entity_id: Any) -> str | None:
        entities = _entries("entity")
        entry = entities.async_get(str(entity_id)) if entities is not None else None
        return None if entry is None else entry.device_id

    def integration_entities(integration: Any) -> list[str]:
        entities = _entries("entity")
        if entities is None:
            return []
        return sorted(entry.entity_id for entry in entities.async_entries_for_platform(str(integration)))

    functions = {name: value for name, value in locals().items() if name in HUB_FUNCTION_NAMES}
    assert set(functions) == set(HUB_FUNCTION_NAMES)
    return functions


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
