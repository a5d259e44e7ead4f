"""The recorder: events and state changes written in batches to SQLite or PostgreSQL, off the loop.

Public API (see docs/contracts.md): `await async_setup_recorder(hub, conf)` once at start-up;
`get_recorder(hub)` anywhere after. On the Recorder: `async_flush()`, `async_db_job(fn)` (runs
`fn(session)` in the recorder thread), `async_get_history(entity_ids, start, end=None,
include_start_state=True)`, `async_get_events(event_types=None, start=None, end=None,
context_id=None, limit=1000)`, `async_purge(keep_days=None)`, `stats()`. Service
`recorder.purge` (optional `keep_days`). Adding a table: see hub/recorder/migration.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import voluptuous as vol

from ..const import EVENT_HUB_FINAL_WRITE
from ..core import Hub, HubKey, ServiceCall, SupportsResponse, callback
from ..exceptions import ConfigError, HubError
from ..helpers.event import TimePattern, async_track_time_pattern
from .config import CONFIG_SCHEMA, RecorderFilter
from .const import (
    ATTR_KEEP_DAYS,
    AUTO_PURGE_HOUR,
    AUTO_PURGE_MINUTE,
    DOMAIN,
    SERVICE_PURGE,
)
from .core import Recorder
from .purge import PurgeResult

__all__ = [
    "CONFIG_SCHEMA",
    "DATA_RECORDER",
    "PurgeResult",
    "Recorder",
    "RecorderFilter",
    "async_setup_recorder",
    "get_recorder",
]

_LOGGER = logging.getLogger(__name__)

DATA_RECORDER: HubKey[Recorder] = HubKey(DOMAIN)

PURGE_SCHEMA = vol.Schema({vol.Optional(ATTR_KEEP_DAYS): vol.All(vol.Coerce(int), vol.Range(min=0))})


def get_recorder(hub: Hub) -> Recorder:
    """The hub's recorder; raises HubError when it was not set up."""
    recorder: Recorder | None = hub.data.get(DATA_RECORDER)
    if recorder is None:
        raise HubError("The recorder is not set up")
    return recorder


def _validate(config: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        validated: dict[str, Any] = CONFIG_SCHEMA(dict(config or {}))
    except vol.Invalid as err:
        path = ".".join(str(part) for part in err.path)
        where = f"recorder.{path}" if path else "recorder"
        raise ConfigError(f"Invalid config for {where}: {err.msg}") from err
    return validated


async def async_setup_recorder(hub: Hub, config: Mapping[str, Any] | None = None) -> Recorder:
    """Start the recorder with the value under `recorder:` (None for defaults); returns it.

    An unreachable database is logged and retried in the background: the hub keeps running.
    """
    if DATA_RECORDER in hub.data:
        raise HubError("The recorder is already set up")
    conf = _validate(config)
    recorder = Recorder(hub, conf)
    hub.data[DATA_RECORDER] = recorder

    async def _async_final_write(_event: Any) -> None:
        await recorder.async_stop()

    recorder.add_remover(hub.bus.async_listen_once(EVENT_HUB_FINAL_WRITE, _async_final_write))

    async def _async_purge_service(call: ServiceCall) -> dict[str, Any]:
        result = await recorder.async_purge(call.data.get(ATTR_KEEP_DAYS))
        return {"states": result.states, "events": result.events, "by_domain": dict(result.by_domain)}

    recorder.add_remover(hub.services.async_register(
        DOMAIN, SERVICE_PURGE, _async_purge_service, PURGE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
        description="Delete recorded states and events older than keep_days (per-domain limits still apply)",
    ))

    if recorder.auto_purge:

        @callback
        def _async_nightly_purge(_now: datetime) -> None:
            if recorder.is_running:
                hub.async_create_task(_async_run_purge(recorder), "recorder nightly purge")

        nightly = TimePattern(hours=AUTO_PURGE_HOUR, minutes=AUTO_PURGE_MINUTE, seconds=0)
        recorder.add_remover(async_track_time_pattern(hub, _async_nightly_purge, nightly))

    await recorder.async_start()
    return recorder


async def _async_run_purge(recorder: Recorder) -> None:
    try:
        await recorder.async_purge()
    except HubError as err:
        _LOGGER.warning("Nightly purge skipped: %s", err)
