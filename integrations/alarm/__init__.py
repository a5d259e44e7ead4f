"""Alarms and incidents for the control centres: state machine, SOPs, escalation, live queue, history.

Configuration::

    alarm:
      sop_dir: sops                      # SOP files, relative to the config dir
      keep_closed_days: 730              # closed alarms are deleted this long after closing (0: never)
      types:
        - id: fire
          name: Fire seen by a thermal tower
          severity: critical             # critical, major, minor, warning, info
          sla_ack_seconds: 60            # not acknowledged by then: operators re-notified...
          escalate_after_seconds: 60     # ... and this much later: escalated to the supervisor
          sla_resolve_seconds: 1800      # not resolved by then: escalated
          sop: fire.yaml                 # a file in sop_dir, or the steps inline
          centre: national_police        # owner when neither area, entities nor location decide
          shared: true                   # other centres see it too (read only)
          raise_on:                      # optional: raise on an event (automations can also call alarm.raise)
            - event_type: thermal_fire_detected

Services: alarm.raise, acknowledge, start, assign, resolve, close, clear, add_note, complete_step,
skip_step, stats. Events: alarm_raised, alarm_acknowledged, alarm_escalated, alarm_resolved,
alarm_closed and more (const.EVENT_KINDS); trigger platform `alarm`; websocket `alarm/subscribe`;
REST `GET /api/alarms`, `/api/alarms/{id}`. Alarms live in the recorder database (tables `alarms`
and `alarm_timeline`), so nothing is lost across a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.auth.hidden import async_register_hidden_counter
from hub.core import CALLBACK_TYPE, Event, Hub, HubKey, callback
from hub.evidence.providers import async_register_alarm_provider
from hub.exceptions import ConfigError, HubError
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from . import evidence
from .access import async_hidden_alarms
from .const import CONF_KEEP_CLOSED_DAYS, CONF_SOP, CONF_SOP_DIR, CONF_TYPES, DOMAIN
from .http import async_register_views
from .manager import DATA_MANAGER, AlarmManager, AlarmType, get_manager
from .model import Alarm
from .retention import async_track_retention
from .schema import CONFIG_SCHEMA
from .services import async_register_services
from .sop import SopStep, load_sop_file, steps_from_config
from .store import AlarmStore
from .websocket import AlarmFeed, async_register_websocket

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "Alarm", "AlarmManager", "AlarmType", "async_setup", "async_unload",
           "get_manager"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class AlarmData:
    """What setup created, so unload can undo it (what setup registered is on its setup handle)."""

    manager: AlarmManager
    feed: AlarmFeed
    store: AlarmStore | None


DATA_ALARM: HubKey[AlarmData] = HubKey(DOMAIN)


def _load_types(config_dir: Path, config: Mapping[str, Any]) -> dict[str, AlarmType]:
    """Build the alarm types, reading SOP files (blocking)."""
    sop_dir = config_dir / config[CONF_SOP_DIR]
    types: dict[str, AlarmType] = {}
    errors: list[str] = []
    for item in config[CONF_TYPES]:
        sop = item.get(CONF_SOP)
        steps: tuple[SopStep, ...] = ()
        try:
            if isinstance(sop, str):
                steps = load_sop_file(sop_dir / sop)
            elif sop is not None:
                steps = steps_from_config(sop)
        except ConfigError as err:
            errors.extend(f"alarm type {item['id']}: {line}" for line in err.errors)
            continue
        types[item["id"]] = AlarmType.from_config(item, steps)
    if errors:
        raise ConfigError("Invalid alarm SOPs", errors)
    return types


def _matches(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    return all(key in actual and actual[key] == value for key, value in expected.items())


def _raise_on(hub: Hub, manager: AlarmManager, kind: AlarmType) -> list[CALLBACK_TYPE]:
    """Listeners raising `kind` when its configured events fire (deduplicated per entity)."""
    removers = []
    for event_type, expected in kind.raise_on:
        @callback
        def on_event(event: Event, event_type: str = event_type, expected: Mapping[str, Any] = expected) -> None:
            data = event.data
            if expected and not _matches(expected, data):
                return
            raw = data.get("entity_id")
            entities = [raw] if isinstance(raw, str) else [str(e) for e in raw or ()]
            try:
                manager.async_raise(
                    kind.id, context=event.context.child(), source_event=event_type, entities=entities,
                    latitude=data.get("latitude"), longitude=data.get("longitude"), area_id=data.get("area_id"),
                    dedup_key=f"{event_type}:{','.join(entities)}" if entities else None,
                    message=data.get("message") if isinstance(data.get("message"), str) else None,
                )
            except HubError as err:
                _LOGGER.error("Cannot raise a %s alarm for %s: %s", kind.id, event_type, err)

        removers.append(hub.bus.async_listen(event_type, on_event))
    return removers


async def async_setup(hub: Hub, config: Any) -> bool:
    """Load the types and SOPs, bring back the active alarms, register services, views and commands."""
    conf = CONFIG_SCHEMA(config)  # validated by the loader already; validating again is harmless
    types = await hub.async_add_executor_job(_load_types, hub.config_dir, conf)
    from hub.recorder import DATA_RECORDER

    store: AlarmStore | None = None
    if DATA_RECORDER in hub.data:
        store = AlarmStore(hub)
    else:
        _LOGGER.warning("No recorder: alarms are kept in memory only and lost at a restart")
    manager = AlarmManager(hub, types, store)
    try:
        loaded = await manager.async_load()
    except HubError as err:
        _LOGGER.error("Cannot read stored alarms (starting with none): %s", err)
        loaded = 0
    feed = AlarmFeed(manager)
    data = AlarmData(manager, feed, store)
    hub.data[DATA_ALARM] = data
    hub.data[DATA_MANAGER] = manager
    on_unload = async_get_setup_handle(hub, DOMAIN).async_on_unload
    for remover in (*async_register_services(hub, manager), *async_register_websocket(hub, manager, feed)):
        on_unload(remover)
    on_unload(async_register_alarm_provider(hub, evidence))  # evidence exports ask us for alarms
    on_unload(async_register_hidden_counter(hub, "alarms", async_hidden_alarms))  # "12 not shared"
    for kind in types.values():
        for remover in _raise_on(hub, manager, kind):
            on_unload(remover)
    if store is not None and conf[CONF_KEEP_CLOSED_DAYS] > 0:
        on_unload(async_track_retention(hub, store, conf[CONF_KEEP_CLOSED_DAYS]))
    async_register_views(hub)
    _LOGGER.info("%d alarm types, %d active alarms", len(types), loaded)
    return True


async def async_unload(hub: Hub) -> bool:
    """Remove services, commands and listeners; disarm timers; write what is queued."""
    data = hub.data.pop(DATA_ALARM, None)
    hub.data.pop(DATA_MANAGER, None)
    if data is None:
        return True
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    data.feed.async_shutdown()
    data.manager.async_shutdown()
    if data.store is not None:
        data.store.async_shutdown()
        try:
            await data.store.async_flush()
        except HubError as err:
            _LOGGER.warning("Alarm changes not stored at unload: %s", err)
    return True
