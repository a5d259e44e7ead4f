"""Retention of closed alarms: deleted with their timelines `keep_closed_days` after closing.

The first purge runs a minute after start (not in the way of start-up), then every
`PURGE_INTERVAL`. Alarms that are not closed are never deleted, however old. The audit log,
which records every operator action on an alarm, is kept apart and never purged here.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.exceptions import HubError
from hub.helpers.event import async_call_later, async_track_time_interval

from .const import PURGE_INTERVAL
from .store import AlarmStore

__all__ = ["async_purge_closed_alarms", "async_track_retention"]

_LOGGER = logging.getLogger(__name__)

FIRST_PURGE_DELAY: Final = 60.0
DAY: Final = 86400.0


async def async_purge_closed_alarms(hub: Hub, store: AlarmStore, keep_days: int) -> int:
    """Delete alarms closed more than `keep_days` ago; returns how many (0 when the database is down)."""
    before = hub.clock.time() - keep_days * DAY
    try:
        count = await store.async_purge_closed(before)
    except HubError as err:
        _LOGGER.warning("Closed alarms not purged (will try again): %s", err)
        return 0
    if count:
        _LOGGER.info("Purged %d alarms closed more than %d days ago", count, keep_days)
    return count


@callback
def async_track_retention(hub: Hub, store: AlarmStore, keep_days: int) -> CALLBACK_TYPE:
    """Purge closed alarms a minute from now and every PURGE_INTERVAL; returns the remover."""

    @callback
    def _purge(_now: datetime) -> None:
        hub.async_create_task(async_purge_closed_alarms(hub, store, keep_days), "alarm retention purge")

    removers = [async_call_later(hub, FIRST_PURGE_DELAY, _purge),
                async_track_time_interval(hub, _purge, PURGE_INTERVAL)]

    @callback
    def remove() -> None:
        while removers:
            removers.pop()()

    return remove
