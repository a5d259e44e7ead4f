"""ANPR services: hotlist add/remove/import, hit accept/reject (with a reason) and statistics, simulated
vehicles, retention purge."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv

from .const import (
    DOMAIN,
    EVENT_HIT_REVIEWED,
    SERVICE_HIT_ACCEPT,
    SERVICE_HIT_REJECT,
    SERVICE_HIT_STATS,
    SERVICE_HOTLIST_ADD,
    SERVICE_HOTLIST_IMPORT,
    SERVICE_HOTLIST_REMOVE,
    SERVICE_PLATE_SEARCH,
    SERVICE_PLATE_SEARCH_EXPORT,
    SERVICE_PURGE,
    SERVICE_SIMULATE_VEHICLE,
)
from .hotlist import parse_csv
from .search import SEARCH_SCHEMA, async_search
from .search_export import EXPORT_SEARCH_SCHEMA, async_export_search

if TYPE_CHECKING:
    from .manager import AnprManager

__all__ = ["ADD_SCHEMA", "IMPORT_SCHEMA", "async_import_csv", "async_import_entries", "async_register_services"]

_LOGGER = logging.getLogger(__name__)

ADD_SCHEMA = vol.Schema({
    vol.Required("list"): cv.string,
    vol.Required("plate"): cv.string,
    vol.Optional("priority"): vol.All(vol.Coerce(int), vol.Range(min=1, max=9)),
    vol.Optional("reason"): cv.string,
    vol.Optional("source"): cv.string,
    vol.Optional("expires"): vol.Any(None, cv.string, vol.Coerce(float)),
    vol.Optional("ttl"): cv.time_period,
})
REMOVE_SCHEMA = vol.Schema({vol.Required("list"): cv.string, vol.Required("plate"): cv.string})
IMPORT_SCHEMA = vol.Schema({
    vol.Exclusive("path", "csv source"): cv.string,
    vol.Exclusive("csv", "csv source"): cv.string,
    vol.Exclusive("entries", "csv source"): vol.All(cv.ensure_list, [dict], vol.Length(min=1)),
    vol.Optional("list"): cv.string,
    vol.Optional("source"): cv.string,
})
REVIEW_SCHEMA = vol.Schema({vol.Required("hit_id"): cv.string, vol.Optional("reason"): cv.string})
REJECT_SCHEMA = vol.Schema({vol.Required("hit_id"): cv.string, vol.Required("reason"): cv.string})
SIMULATE_SCHEMA = vol.Schema({vol.Required("camera"): cv.string, vol.Required("plate"): cv.string})


async def async_import_csv(manager: AnprManager, text: str, *, default_list: str | None, source: str | None,
                           name: str) -> dict[str, int]:
    """Import CSV text into the hotlists (all or nothing); returns counts."""
    entries = parse_csv(text, manager.hotlists.lists, manager.now(), default_list=default_list, source=source,
                        name=name)
    if default_list is not None and default_list not in manager.hotlists.lists:
        raise ServiceValidationError(f"'list': no hotlist {default_list!r}")
    added, updated = await manager.hotlists.async_upsert(entries)
    manager.write_lists()
    _LOGGER.info("anpr: imported %d entries from %s (%d new, %d updated)", len(entries), name, added, updated)
    return {"added": added, "updated": updated}


async def async_import_entries(manager: AnprManager, items: list[dict[str, Any]], *, default_list: str | None,
                               source: str | None) -> dict[str, int]:
    """Import entry objects (plate, and list, priority, reason, source, expires or ttl) all or nothing."""
    entries = []
    for index, item in enumerate(items):
        data = {**({"list": default_list} if default_list else {}), **({"source": source} if source else {}), **item}
        try:
            entries.append(manager.hotlists.entry_from_data(ADD_SCHEMA(data)))
        except vol.Invalid as err:
            raise ServiceValidationError(f"'entries' item {index}: {err}") from None
        except ServiceValidationError as err:
            raise ServiceValidationError(f"'entries' item {index}: {err}") from None
    added, updated = await manager.hotlists.async_upsert(entries)
    manager.write_lists()
    return {"added": added, "updated": updated}


def _read_config_file(hub: Hub, relative: str) -> tuple[str, str]:
    base = hub.config_dir.resolve()
    path = (base / relative).resolve()
    if base not in path.parents:
        raise ServiceValidationError(f"'path': {relative!r} is outside the config dir")
    try:
        return path.read_text(encoding="utf-8-sig"), path.name
    except OSError as err:
        raise ServiceValidationError(f"'path': cannot read {relative}: {err.strerror or err}") from err


def async_register_services(hub: Hub, manager: AnprManager) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""

    async def _add(call: ServiceCall) -> dict[str, Any]:
        entry = manager.hotlists.entry_from_data(call.data)
        added, _updated = await manager.hotlists.async_upsert([entry])
        manager.write_lists()
        return {"added": bool(added), "entry": entry.as_dict()}

    async def _remove(call: ServiceCall) -> dict[str, Any]:
        if call.data["list"] not in manager.hotlists.lists:
            raise ServiceValidationError(f"'list': no hotlist {call.data['list']!r}")
        removed = await manager.hotlists.async_remove(call.data["list"], call.data["plate"])
        manager.write_lists()
        return {"removed": removed}

    async def _import(call: ServiceCall) -> dict[str, int]:
        if "entries" in call.data:
            return await async_import_entries(manager, call.data["entries"], default_list=call.data.get("list"),
                                              source=call.data.get("source"))
        if "csv" in call.data:
            text, name = call.data["csv"], "csv"
        elif "path" in call.data:
            text, name = await hub.async_add_executor_job(_read_config_file, hub, call.data["path"])
        else:
            raise ServiceValidationError("give 'path' (a CSV file in the config dir), 'csv' (its text) or "
                                         "'entries' (objects with 'plate')")
        return await async_import_csv(manager, text, default_list=call.data.get("list"),
                                      source=call.data.get("source"), name=name)

    async def _review(call: ServiceCall, accepted: bool) -> dict[str, Any]:
        hit = await manager.hit_log.async_review(call.data["hit_id"], accepted, call.data.get("reason"),
                                                 call.context.user_id)
        manager.write_acceptance()
        hub.bus.async_fire(EVENT_HIT_REVIEWED, {**hit.as_dict()}, context=call.context)
        return hit.as_dict()

    async def _accept(call: ServiceCall) -> dict[str, Any]:
        return await _review(call, True)

    async def _reject(call: ServiceCall) -> dict[str, Any]:
        return await _review(call, False)

    async def _stats(_call: ServiceCall) -> dict[str, Any]:
        return manager.hit_log.stats()

    async def _simulate(call: ServiceCall) -> None:
        from .formats import normalize

        manager.plant(call.data["camera"], normalize(call.data["plate"]))

    async def _purge(_call: ServiceCall) -> dict[str, int]:
        return await manager.async_purge()

    async def _search(call: ServiceCall) -> dict[str, Any]:
        return await async_search(hub, manager, dict(call.data), call.context)

    async def _export_search(call: ServiceCall) -> dict[str, Any]:
        return await async_export_search(hub, manager, dict(call.data), call.context)

    optional = SupportsResponse.OPTIONAL
    register = hub.services.async_register
    return [
        register(DOMAIN, SERVICE_HOTLIST_ADD, _add, ADD_SCHEMA, optional,
                 "Add or replace a plate on a hotlist (priority, reason, source, expires or ttl)"),
        register(DOMAIN, SERVICE_HOTLIST_REMOVE, _remove, REMOVE_SCHEMA, optional,
                 "Remove a plate from a hotlist"),
        register(DOMAIN, SERVICE_HOTLIST_IMPORT, _import, IMPORT_SCHEMA, optional,
                 "Import hotlist entries from CSV (a file in the config dir, or the text); all or nothing"),
        register(DOMAIN, SERVICE_HIT_ACCEPT, _accept, REVIEW_SCHEMA, optional,
                 "Accept a hotlist hit (the vehicle was the listed one)"),
        register(DOMAIN, SERVICE_HIT_REJECT, _reject, REJECT_SCHEMA, optional,
                 "Reject a hotlist hit, saying why (misread, wrong vehicle, list out of date...)"),
        register(DOMAIN, SERVICE_HIT_STATS, _stats, None, SupportsResponse.ONLY,
                 "Hit acceptance rates per camera and per list"),
        register(DOMAIN, SERVICE_SIMULATE_VEHICLE, _simulate, SIMULATE_SCHEMA, SupportsResponse.NONE,
                 "Send a vehicle with this plate past a simulated camera"),
        register(DOMAIN, SERVICE_PURGE, _purge, None, optional,
                 "Apply the retention settings now"),
        register(DOMAIN, SERVICE_PLATE_SEARCH, _search, SEARCH_SCHEMA, SupportsResponse.ONLY,
                 "Search stored reads by plate (exact, confusable or pattern), time and camera; the stated "
                 "purpose is audited before any result"),
        register(DOMAIN, SERVICE_PLATE_SEARCH_EXPORT, _export_search, EXPORT_SEARCH_SCHEMA, optional,
                 "Run a plate search (purpose audited) and export its reads and images as signed evidence "
                 "(supervisors and admins; case_reference required)"),
    ]

