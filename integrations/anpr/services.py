"""ANPR services: hotlist add/remove/import, hit accept/reject (with a reason) and statistics, simulated
vehicles, retention purge."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.audit import audit_record
from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv

from .const import (
    DOMAIN,
    EVENT_HIT_REVIEWED,
    EVENT_READ_CORRECTED,
    SERVICE_HIT_ACCEPT,
    SERVICE_HIT_REJECT,
    SERVICE_HIT_STATS,
    SERVICE_HOTLIST_ADD,
    SERVICE_HOTLIST_IMPORT,
    SERVICE_HOTLIST_REMOVE,
    SERVICE_MODEL_PROMOTE,
    SERVICE_MODEL_ROLLBACK,
    SERVICE_MODEL_SHADOW,
    SERVICE_PLATE_SEARCH,
    SERVICE_PLATE_SEARCH_EXPORT,
    SERVICE_PURGE,
    SERVICE_READ_CORRECT,
    SERVICE_SIMULATE_VEHICLE,
)
from .formats import normalize
from .hotlist import parse_csv
from .learning import VERDICT_CONFIRMED, VERDICT_CORRECTED, ModelRefused, TrainingSample, candidate_model
from .records import Hit
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
PROMOTE_SCHEMA = vol.Schema({vol.Required("model"): cv.string, vol.Optional("reason"): cv.string})
ROLLBACK_SCHEMA = vol.Schema({vol.Optional("reason"): cv.string})
SHADOW_SCHEMA = vol.Schema({
    vol.Optional("model"): cv.string,
    vol.Optional("minutes", default=30): vol.All(vol.Coerce(float), vol.Range(min=0.05, max=7 * 24 * 60)),
    vol.Optional("stop", default=False): cv.boolean,
})
CORRECT_SCHEMA = vol.Schema({
    vol.Required("hit_id"): cv.string,
    vol.Required("plate"): cv.string,
    vol.Optional("reason"): cv.string,
})
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

    async def _learn(hit: Hit, plate: str, verdict: str, user: str | None) -> TrainingSample | None:
        """Keep the hit's crop with its label in the site's training set; None when the crop is gone."""
        if not hit.crop_path:
            return None
        sample = TrainingSample(hit.hit_id, hit.camera, plate, hit.plate, verdict, hit.ts, user, "")
        try:
            return await hub.async_add_executor_job(manager.training.add, sample, hub.path(hit.crop_path))
        except OSError as err:
            _LOGGER.warning("anpr: hit %s not added to the training set: %s", hit.hit_id, err.strerror or err)
            return None

    async def _review(call: ServiceCall, accepted: bool) -> dict[str, Any]:
        hit = await manager.hit_log.async_review(call.data["hit_id"], accepted, call.data.get("reason"),
                                                 call.context.user_id)
        manager.write_acceptance()
        hub.bus.async_fire(EVENT_HIT_REVIEWED, {**hit.as_dict()}, context=call.context)
        if accepted:  # the vehicle carries the listed plate: the crop reads the entry's plate
            await _learn(hit, hit.entry_plate, VERDICT_CONFIRMED, call.context.user_id)
        return hit.as_dict()

    async def _correct(call: ServiceCall) -> dict[str, Any]:
        plate = normalize(call.data["plate"])
        if not 2 <= len(plate) <= 10:
            raise ServiceValidationError(f"'plate': {call.data['plate']!r} is not a plate (2-10 letters and digits)")
        hit = await manager.hit_log.async_get(call.data["hit_id"])
        if hit is None:
            raise ServiceValidationError(f"'hit_id': no hotlist hit {call.data['hit_id']!r}")
        sample = await _learn(hit, plate, VERDICT_CORRECTED, call.context.user_id)
        data = {"hit_id": hit.hit_id, "camera": hit.camera, "plate": plate, "read": hit.plate,
                "reason": call.data.get("reason"), "training_sample": sample is not None}
        audit_record(hub, "anpr.read_correct", context=call.context, target=hit.hit_id, data=data)
        hub.bus.async_fire(EVENT_READ_CORRECTED, {**data, "corrected_by": call.context.user_id},
                           context=call.context)
        return data

    async def _accept(call: ServiceCall) -> dict[str, Any]:
        return await _review(call, True)

    async def _reject(call: ServiceCall) -> dict[str, Any]:
        return await _review(call, False)

    async def _stats(_call: ServiceCall) -> dict[str, Any]:
        return manager.hit_log.stats()

    def _check_model(relative: str, evaluated: bool = True) -> str:
        """A trained model under anpr_models/ that loads as a recogniser and, for a promotion, was
        evaluated as it is (blocking)."""
        try:
            return candidate_model(hub.config_dir, relative, evaluated=evaluated)
        except ModelRefused as err:
            raise ServiceValidationError(f"'model': {err}") from None

    async def _switch(call: ServiceCall, model: str | None, previous: str | None, action: str) -> dict[str, Any]:
        record = await hub.async_add_executor_job(manager.models.write, model, previous, manager.now(),
                                                  call.context.user_id)
        audit_record(hub, action, context=call.context, target=model or "committed model",
                     data={"previous": previous, "reason": call.data.get("reason")})
        await manager.async_switch_model(model)
        return record

    async def _promote(call: ServiceCall) -> dict[str, Any]:
        model = await hub.async_add_executor_job(_check_model, call.data["model"])
        current = await hub.async_add_executor_job(manager.models.current)
        return await _switch(call, model, current.get("model") if current else None, "anpr.model_promote")

    async def _rollback(call: ServiceCall) -> dict[str, Any]:
        current = await hub.async_add_executor_job(manager.models.current)
        if not current or not current.get("model"):
            raise ServiceValidationError("no promoted model to roll back from: the committed model is in use")
        return await _switch(call, current.get("previous"), current["model"], "anpr.model_rollback")

    async def _shadow(call: ServiceCall) -> dict[str, Any]:
        if call.data["stop"]:
            report = await manager.async_stop_shadow()
            if report is None:
                raise ServiceValidationError("no shadow reading runs")
            return report
        if "model" not in call.data:
            raise ServiceValidationError("'model': the candidate to read beside the model in use")
        model = await hub.async_add_executor_job(_check_model, call.data["model"], False)
        run = await manager.async_start_shadow(model, call.data["minutes"], call.context.user_id)
        audit_record(hub, "anpr.model_shadow", context=call.context, target=model,
                     data={"minutes": call.data["minutes"]})
        return {"model": model, "started": run.started, "until": run.until}

    async def _simulate(call: ServiceCall) -> None:
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
        register(DOMAIN, SERVICE_READ_CORRECT, _correct, CORRECT_SCHEMA, optional,
                 "Say what a hit's plate really reads (audited); the crop joins the site's training set"),
        register(DOMAIN, SERVICE_MODEL_PROMOTE, _promote, PROMOTE_SCHEMA, optional,
                 "Read with a trained recogniser from anpr_models/ (audited; the workers restart)"),
        register(DOMAIN, SERVICE_MODEL_ROLLBACK, _rollback, ROLLBACK_SCHEMA, optional,
                 "Go back to the recogniser in use before the last promotion (audited)"),
        register(DOMAIN, SERVICE_MODEL_SHADOW, _shadow, SHADOW_SCHEMA, optional,
                 "Read live traffic with a candidate recogniser beside the one in use for some minutes (compared "
                 "and reported beside the model, never used for hits); stop: end it now and report"),
        register(DOMAIN, SERVICE_PURGE, _purge, None, optional,
                 "Apply the retention settings now"),
        register(DOMAIN, SERVICE_PLATE_SEARCH, _search, SEARCH_SCHEMA, SupportsResponse.ONLY,
                 "Search stored reads by plate (exact, confusable or pattern), time and camera; the stated "
                 "purpose is audited before any result"),
        register(DOMAIN, SERVICE_PLATE_SEARCH_EXPORT, _export_search, EXPORT_SEARCH_SCHEMA, optional,
                 "Run a plate search (purpose audited) and export its reads and images as signed evidence "
                 "(supervisors and admins; case_reference required)"),
    ]

