"""Dates and times as the hub's configuration sees them: its local time zone."""

from __future__ import annotations

import logging
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["hub_tz"]

_LOGGER = logging.getLogger(__name__)

_TZ_CACHE: dict[str, tzinfo] = {}


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
