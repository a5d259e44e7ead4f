"""Functions, filters and tests available in templates: states(), is_state, distance(), float/int..."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from jinja2 import pass_context

from hub.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from hub.core import HubKey, State

from .dt import hub_tz
from .template_ha import HUB_FUNCTION_NAMES, PLAIN_FUNCTIONS, PLAIN_TESTS, make_hub_functions, no_default

if TYPE_CHECKING:
    from jinja2.runtime import Context

    from hub.core import Hub

__all__ = ["KNOWN_GLOBALS", "RenderInfo", "collecting", "hub_globals", "install_filters", "slugify", "track_entity"]

_SENTINEL: Any = object()
_GLOBALS: HubKey[dict[str, Any]] = HubKey("template_globals")
# Hub-bound functions are also stored under a key no template name can spell, for the filters.
_HIDDEN = "\x00"


class RenderInfo:
    """What one render read: entities, whole domains, every state, the clock."""

    __slots__ = ("all_states", "domains", "entities", "has_time")

    def __init__(self) -> None:
        self.entities: set[str] = set()
        self.domains: set[str] = set()
        self.all_states = False
        self.has_time = False

    def __repr__(self) -> str:
        return (f"<RenderInfo entities={sorted(self.entities)} domains={sorted(self.domains)} "
                f"all={self.all_states} time={self.has_time}>")


class _Collector:
    """The render info being collected, if any (renders never interleave: they are synchronous)."""

    __slots__ = ("info",)

    def __init__(self) -> None:
        self.info: RenderInfo | None = None


_COLLECTOR = _Collector()


class collecting:
    """`with collecting() as info:` records what renders inside read."""

    __slots__ = ("_info", "_previous")

    def __init__(self) -> None:
        self._info = RenderInfo()
        self._previous: RenderInfo | None = None

    def __enter__(self) -> RenderInfo:
        self._previous = _COLLECTOR.info
        _COLLECTOR.info = self._info
        return self._info

    def __exit__(self, *exc: object) -> None:
        _COLLECTOR.info = self._previous


def slugify(text: str) -> str:
    """Lower-case, underscores for anything that is not a letter or digit."""
    slug = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    return re.sub(r"_+", "_", slug) or "unnamed"


def track_entity(entity_id: str) -> None:
    """Note that the current render read `entity_id`."""
    info = _COLLECTOR.info
    if info is not None:
        info.entities.add(entity_id)


def _track_time() -> None:
    info = _COLLECTOR.info
    if info is not None:
        info.has_time = True


# --------------------------------------------------------------------------- conversions


def _no_default(name: str, value: Any) -> ValueError:
    return no_default(name, value)


def forgiving_float(value: Any, default: Any = _SENTINEL) -> Any:
    """float(value), or `default` when it cannot convert (an error when there is no default)."""
    try:
        return float(value)
    except (ValueError, TypeError):
        if default is _SENTINEL:
            raise _no_default("float", value) from None
        return default


def forgiving_int(value: Any, default: Any = _SENTINEL, base: int = 10) -> Any:
    """int(value) (also from '3.7' or 3.7), or `default` when it cannot convert."""
    try:
        if isinstance(value, str | bytes) and base != 10:
            return int(value, base)
        try:
            return int(value)
        except (ValueError, TypeError):
            return int(float(value))
    except (ValueError, TypeError, OverflowError):
        if default is _SENTINEL:
            raise _no_default("int", value) from None
        return default


def forgiving_bool(value: Any, default: Any = _SENTINEL) -> Any:
    """Truthiness as people write it: on/off, yes/no, true/false, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on", "enable"):
            return True
        if lowered in ("0", "false", "no", "off", "disable"):
            return False
    if default is _SENTINEL:
        raise _no_default("bool", value)
    return default


def is_number(value: Any) -> bool:
    """Whether `value` is (or parses as) a finite number."""
    if isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (ValueError, TypeError):
        return False
    return math.isfinite(number)


def iif(value: Any, if_true: Any = True, if_false: Any = False, if_none: Any = _SENTINEL) -> Any:
    """Immediate if: `if_true` when `value` is truthy, `if_false` otherwise (`if_none` for None)."""
    if value is None and if_none is not _SENTINEL:
        return if_none
    if isinstance(value, str):
        try:
            value = forgiving_bool(value)
        except ValueError:
            value = bool(value)
    return if_true if value else if_false


def _to_datetime(value: Any, naive_tz: tzinfo | None = UTC) -> datetime | None:
    """A datetime from a datetime, State, timestamp or ISO string; one without a zone gets `naive_tz`."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None or naive_tz is None else value.replace(tzinfo=naive_tz)
    if isinstance(value, State):
        return value.last_changed
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return _to_datetime(float(value))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return _to_datetime(parsed, naive_tz)
    return None


def as_timestamp(value: Any, default: Any = _SENTINEL, naive_tz: tzinfo | None = UTC) -> Any:
    """Seconds since the epoch of a datetime, ISO string or State (its last_changed)."""
    parsed = _to_datetime(value, naive_tz)
    if parsed is None:
        if default is _SENTINEL:
            raise _no_default("as_timestamp", value)
        return default
    return parsed.timestamp()


def as_datetime(value: Any, default: Any = _SENTINEL) -> Any:
    """A datetime from an ISO string or a timestamp (a string without a zone gives a naive one, as in HA)."""
    parsed = _to_datetime(value, None)
    if parsed is None:
        if default is _SENTINEL:
            raise _no_default("as_datetime", value)
        return default
    return parsed


def _to_json(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    return json.dumps(value, indent=indent, sort_keys=sort_keys, default=str)


def _regex_match(value: Any, pattern: str = "", ignorecase: bool = False) -> bool:
    return re.match(pattern, str(value), re.IGNORECASE if ignorecase else 0) is not None


def _regex_search(value: Any, pattern: str = "", ignorecase: bool = False) -> bool:
    return re.search(pattern, str(value), re.IGNORECASE if ignorecase else 0) is not None


def _regex_replace(value: Any, find: str = "", replace: str = "", ignorecase: bool = False) -> str:
    return re.sub(find, replace, str(value), flags=re.IGNORECASE if ignorecase else 0)


def _multiply(value: Any, amount: float, default: Any = _SENTINEL) -> Any:
    try:
        return float(value) * amount
    except (ValueError, TypeError):
        if default is _SENTINEL:
            raise _no_default("multiply", value) from None
        return default


# --------------------------------------------------------------------------- geography

_EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def state_location(state: State | None) -> tuple[float, float] | None:
    """(latitude, longitude) of a state that has both attributes."""
    if state is None:
        return None
    lat, lon = state.attributes.get("latitude"), state.attributes.get("longitude")
    try:
        return float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- hub-bound globals


class DomainStates:
    """`states.sensor`: the states of one domain; `states.sensor.t` is sensor.t's State."""

    __slots__ = ("_domain", "_hub")

    def __init__(self, hub: Hub, domain: str) -> None:
        self._hub = hub
        self._domain = domain

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        entity_id = f"{self._domain}.{name}"
        track_entity(entity_id)
        return self._hub.states.get(entity_id)

    def __iter__(self) -> Iterator[State]:
        info = _COLLECTOR.info
        if info is not None:
            info.domains.add(self._domain)
        return iter(sorted(self._hub.states.async_all(self._domain), key=lambda s: s.entity_id))

    def __len__(self) -> int:
        return len(self._hub.states.async_entity_ids(self._domain))

    def __repr__(self) -> str:
        return f"<template DomainStates({self._domain})>"


def _rounded(state: State, with_unit: bool) -> str:
    """A numeric state rounded to the entity's display precision (as Home Assistant's `rounded=True`)."""
    precision = state.attributes.get("display_precision", state.attributes.get("suggested_display_precision"))
    text = state.state
    if precision is not None and is_number(text):
        text = f"{float(text):.{int(precision)}f}"
    unit = state.attributes.get("unit_of_measurement") if with_unit else None
    return f"{text} {unit}" if unit else text


class AllStates:
    """`states('sensor.t')` gives the state string ('unknown' when absent); `states.sensor.t` the State."""

    __slots__ = ("_get", "_hub")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._get = hub.states.get

    def __call__(self, entity_id: str, rounded: bool = False, with_unit: bool = False) -> str:
        info = _COLLECTOR.info
        if info is not None:
            info.entities.add(entity_id)
        state = self._get(entity_id)
        if state is None:
            return STATE_UNKNOWN
        if rounded:
            return _rounded(state, with_unit)
        if with_unit:
            unit = state.attributes.get("unit_of_measurement")
            if unit:
                return f"{state.state} {unit}"
        return state.state

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return DomainStates(self._hub, name)

    def __iter__(self) -> Iterator[State]:
        info = _COLLECTOR.info
        if info is not None:
            info.all_states = True
        return iter(sorted(self._hub.states.async_all(), key=lambda s: s.entity_id))

    def __len__(self) -> int:
        return len(self._hub.states.async_entity_ids())

    def __repr__(self) -> str:
        return "<template AllStates>"


def _make_hub_functions(hub: Hub) -> dict[str, Any]:
    get = hub.states.get
    clock = hub.clock
    collector = _COLLECTOR

    def _resolve(entity: Any) -> State | None:
        if isinstance(entity, State):
            return entity
        if isinstance(entity, str):
            info = collector.info
            if info is not None:
                info.entities.add(entity)
            return get(entity)
        return None

    def is_state(entity_id: str, state: Any) -> bool:
        info = collector.info
        if info is not None:
            info.entities.add(entity_id)
        current = get(entity_id)
        if current is None:
            return False
        if isinstance(state, str):
            return current.state == state
        return current.state in state

    def state_attr(entity_id: str, name: str) -> Any:
        current = _resolve(entity_id)
        return None if current is None else current.attributes.get(name)

    def is_state_attr(entity_id: str, name: str, value: Any) -> bool:
        current = _resolve(entity_id)
        return current is not None and name in current.attributes and current.attributes[name] == value

    def has_value(entity_id: str) -> bool:
        current = _resolve(entity_id)
        return current is not None and current.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)

    def now() -> datetime:
        _track_time()
        return clock.now().astimezone(hub_tz(hub))

    def utcnow() -> datetime:
        _track_time()
        return clock.now()

    def today_at(value: str = "00:00") -> datetime:
        _track_time()
        local_now = clock.now().astimezone(hub_tz(hub))
        parsed = time.fromisoformat(value)
        return datetime.combine(local_now.date(), parsed, tzinfo=local_now.tzinfo)

    def as_local(value: datetime) -> datetime:
        tz = hub_tz(hub)
        return (value if value.tzinfo is not None else value.replace(tzinfo=tz)).astimezone(tz)

    def local_as_timestamp(value: Any, default: Any = _SENTINEL) -> Any:
        return as_timestamp(value, default, hub_tz(hub))  # a time without a zone is the site's local time

    def distance(*args: Any) -> float | None:
        """Kilometres between points: (lat, lon), entity ids or States; one point = from home."""
        points: list[tuple[float, float]] = []
        items = list(args)
        while items:
            item = items.pop(0)
            if isinstance(item, str | State) and not _is_number_text(item):
                location = state_location(_resolve(item))
                if location is None:
                    return None
                points.append(location)
                continue
            if not items:
                return None
            try:
                points.append((float(item), float(items.pop(0))))
            except (TypeError, ValueError):
                return None
        if len(points) == 1:
            config = getattr(hub, "config", None)
            home_lat = getattr(config, "latitude", None)
            home_lon = getattr(config, "longitude", None)
            if home_lat is None or home_lon is None:
                return None
            points.insert(0, (float(home_lat), float(home_lon)))
        if len(points) != 2:
            return None
        return haversine_km(*points[0], *points[1])

    return {
        **make_hub_functions(hub, _resolve, distance, _track_time),
        "states": AllStates(hub),
        "is_state": is_state,
        "state_attr": state_attr,
        "is_state_attr": is_state_attr,
        "has_value": has_value,
        "now": now,
        "utcnow": utcnow,
        "today_at": today_at,
        "as_local": as_local,
        "as_timestamp": local_as_timestamp,
        "distance": distance,
    }


def _is_number_text(value: Any) -> bool:
    return isinstance(value, str) and is_number(value)


_PLAIN_GLOBALS: dict[str, Any] = {
    "float": forgiving_float,
    "int": forgiving_int,
    "bool": forgiving_bool,
    "iif": iif,
    "is_number": is_number,
    "as_timestamp": as_timestamp,
    "as_datetime": as_datetime,
    "timedelta": timedelta,
    "min": min,
    "max": max,
    "slugify": slugify,
    **PLAIN_FUNCTIONS,
}
_HUB_NAMES = ("states", "is_state", "state_attr", "is_state_attr", "has_value", "now", "utcnow", "today_at",
              "as_local", "as_timestamp", "distance", *HUB_FUNCTION_NAMES)
# Every name a template may call besides Jinja's own globals (checked when a template is compiled).
KNOWN_GLOBALS = frozenset({*_PLAIN_GLOBALS, *_HUB_NAMES})


def hub_globals(hub: Hub, base: dict[str, Any]) -> dict[str, Any]:
    """The names templates see for `hub` (built once per hub): Jinja's defaults plus ours."""
    globals_ = hub.data.get(_GLOBALS)
    if globals_ is None:
        globals_ = dict(base)
        globals_.update(_PLAIN_GLOBALS)
        functions = _make_hub_functions(hub)
        globals_.update(functions)
        globals_.update({_HIDDEN + name: value for name, value in functions.items()})
        hub.data[_GLOBALS] = globals_
    return globals_


# --------------------------------------------------------------------------- filters and tests


def _ctx_fn(name: str) -> Callable[..., Any]:
    """A filter that calls the hub-bound global `name` (the hub comes from the render context)."""

    @pass_context
    def _filter(context: Context, *args: Any, **kwargs: Any) -> Any:
        return context.resolve_or_missing(_HIDDEN + name)(*args, **kwargs)

    _filter.__name__ = name
    return _filter


def install_filters(filters: dict[str, Any], tests: dict[str, Any]) -> None:
    """Add our filters and tests to an environment's tables."""
    filters.update({
        "float": forgiving_float,
        "int": forgiving_int,
        "bool": forgiving_bool,
        "iif": iif,
        "is_number": is_number,
        "as_datetime": as_datetime,
        "to_json": _to_json,
        "from_json": json.loads,
        "regex_match": _regex_match,
        "regex_search": _regex_search,
        "regex_replace": _regex_replace,
        "multiply": _multiply,
        "slugify": slugify,
        "is_state": _ctx_fn("is_state"),
        "state_attr": _ctx_fn("state_attr"),
        "is_state_attr": _ctx_fn("is_state_attr"),
        "has_value": _ctx_fn("has_value"),
        "as_local": _ctx_fn("as_local"),
        "as_timestamp": _ctx_fn("as_timestamp"),
        "distance": _ctx_fn("distance"),
        "today_at": _ctx_fn("today_at"),
        **{name: value for name, value in PLAIN_FUNCTIONS.items() if callable(value)},
        **{name: _ctx_fn(name) for name in HUB_FUNCTION_NAMES},
    })
    tests.update({
        "is_number": is_number,
        "match": _regex_match,
        "search": _regex_search,
        "regex_match": _regex_match,
        "regex_search": _regex_search,
        "is_state": _ctx_fn("is_state"),
        "is_state_attr": _ctx_fn("is_state_attr"),
        "has_value": _ctx_fn("has_value"),
        **PLAIN_TESTS,
    })
