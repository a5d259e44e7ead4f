"""Constants of the recorder: configuration keys, defaults and tuning limits."""

from __future__ import annotations

from typing import Final

__all__ = [
    "CONF_AUTO_PURGE",
    "CONF_COMMIT_INTERVAL",
    "CONF_DB_URL",
    "CONF_DOMAINS",
    "CONF_ENTITIES",
    "CONF_ENTITY_GLOBS",
    "CONF_EVENT_TYPES",
    "CONF_EXCLUDE",
    "CONF_INCLUDE",
    "CONF_MAX_QUEUE",
    "CONF_PURGE_KEEP_DAYS",
    "CONF_PURGE_KEEP_DAYS_BY_DOMAIN",
    "DEFAULT_COMMIT_INTERVAL",
    "DEFAULT_DB_FILE",
    "DEFAULT_KEEP_DAYS",
    "DEFAULT_KEEP_DAYS_BY_DOMAIN",
    "DEFAULT_MAX_QUEUE",
    "DOMAIN",
    "SERVICE_PURGE",
]

DOMAIN: Final = "recorder"

CONF_DB_URL: Final = "db_url"
CONF_COMMIT_INTERVAL: Final = "commit_interval"
CONF_MAX_QUEUE: Final = "max_queue"
CONF_PURGE_KEEP_DAYS: Final = "purge_keep_days"
CONF_PURGE_KEEP_DAYS_BY_DOMAIN: Final = "purge_keep_days_by_domain"
CONF_AUTO_PURGE: Final = "auto_purge"
CONF_INCLUDE: Final = "include"
CONF_EXCLUDE: Final = "exclude"
CONF_DOMAINS: Final = "domains"
CONF_ENTITIES: Final = "entities"
CONF_ENTITY_GLOBS: Final = "entity_globs"
CONF_EVENT_TYPES: Final = "event_types"

DEFAULT_DB_FILE: Final = "hacho.db"
DEFAULT_COMMIT_INTERVAL: Final = 1.0
DEFAULT_MAX_QUEUE: Final = 200_000
DEFAULT_KEEP_DAYS: Final = 30
# Plate reads and video-derived data have legal retention limits shorter than the default.
DEFAULT_KEEP_DAYS_BY_DOMAIN: Final[dict[str, int]] = {"anpr": 7}

SERVICE_PURGE: Final = "purge"
ATTR_KEEP_DAYS: Final = "keep_days"

# Nightly auto purge at 04:12 UTC: after the night's quietest hour, away from round-hour jobs.
AUTO_PURGE_HOUR: Final = 4
AUTO_PURGE_MINUTE: Final = 12

# Tuning of the writer thread.
DRAIN_INTERVAL: Final = 0.1  # s between queue drains: spreads the conversion work, keeps the queue short
MAX_PENDING_ROWS: Final = 50_000  # write early when this many rows wait for the next commit
# Rows handled between voluntary GIL releases (time.sleep(0)) in the thread: without them the loop
# waits a whole switch interval (5 ms) for the GIL each time it wakes while the thread converts.
YIELD_EVERY: Final = 500
# Events queued before the loop wakes the thread early: a burst is converted while it arrives, so
# fewer Event objects are alive at once (each is work for the garbage collector's full passes).
WAKE_EVERY: Final = 250
PURGE_BATCH_SIZE: Final = 5_000  # rows deleted per statement and commit
MAX_RECONNECT_BACKOFF: Final = 30.0  # s
FIRST_CONNECT_TIMEOUT: Final = 30.0  # s setup waits for the first connection attempt
QUERY_IN_CHUNK: Final = 500  # ids per IN (...) clause

ORIGIN_LOCAL: Final = 0
ORIGIN_REMOTE: Final = 1
