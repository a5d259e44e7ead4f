"""Dates and times as the hub's configuration sees them: its local time zone."""

from __future__ import annotations

import logging
import re
from datetime import UTC, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["hub_tz", "parse_time_period"]

_LOGGER = logging.getLogger(__name__)

_TZ_CACHE: dict[str, tzinfo] = {}
_PERIOD_RE = re.compile(r"^(-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")
_PERIOD_KEYS = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0, "milliseconds": 0.001}


def hub_tz(hub: Hub) -> tzinfo:
    """The hub's local time zone (`hub.config.time_zone`), UTC when none is configured."""
    config = getattr(hub, "config", None)
    value = getattr(config, "time_zone", None) if config is not None else None
    if value is None:
        return UTC
    if isinstance(value, tzinfo):
        return value
    cached = _TZ_CACHE.get(value)
    if cached is None:
        try:
            cached = ZoneInfo(str(value))
        except (KeyError, ValueError):
            _LOGGER.warning("Unknown time zone %s; using UTC", value)
            cached = UTC
        _TZ_CACHE[value] = cached
    return cached


def parse_time_period(value: Any) -> timedelta:
    """Parse 'HH:MM:SS', 'HH:MM', seconds (number or numeric string), a dict of units or a timedelta.

    Raises ValueError with a readable message.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a time period, got {value!r}")
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    if isinstance(value, dict):
        unknown = [key for key in value if key not in _PERIOD_KEYS]
        if unknown:
            raise ValueError(f"unknown time period unit {unknown[0]!r} (use {', '.join(_PERIOD_KEYS)})")
        if not value:
            raise ValueError("expected at least one of days, hours, minutes, seconds, milliseconds")
        total = 0.0
        for key, factor in _PERIOD_KEYS.items():
            if key in value:
                try:
                    total += float(value[key]) * factor
                except (TypeError, ValueError):
                    raise ValueError(f"{key}: expected a number, got {value[key]!r}") from None
        return timedelta(seconds=total)
    if isinstance(value, str):
        text = value.strip()
        try:
            return timedelta(seconds=float(text))
        except ValueError:
            pass
        match = _PERIOD_RE.match(text)
        if match is None:
            raise ValueError(f"expected a time period like 'HH:MM:SS', 'HH:MM' or seconds, got {value!r}")
        sign, first, second, third = match.groups()
        if first is None:  # HH:MM
            seconds = int(second) * 3600 + float(third) * 60
        else:
            seconds = int(first) * 3600 + int(second) * 60 + float(third)
        return timedelta(seconds=-seconds if sign else seconds)
    raise ValueError(f"expected a time period, got {type(value).__name__}")
