"""Exporting evidence: an alarm or a time window into a signed zip under <config>/evidence, audited."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audit import ACTION_EXPORT, audit_record
from ..core import Context
from ..exceptions import HubError, ServiceValidationError
from ..helpers.ids import uuid7_str
from ..recorder import get_recorder
from .bundle import BundleFile, canonical_json, iso, write_bundle
from .collect import Collected, Scope, collect, find_images
from .const import (
    ALARM_FILE,
    ALARM_MARGIN,
    AUDIENCE_CASE,
    AUDIT_TARGET_PREFIX,
    EVENTS_FILE,
    EXPORT_DIR,
    STATES_FILE,
)
from .keys import fingerprint, load_or_create_key
from .providers import async_get_alarm, find_image_redactor, has_alarm_providers

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["EVENT_EVIDENCE_EXPORTED", "ExportResult", "alarm_scope", "async_export", "build_export"]

_LOGGER = logging.getLogger(__name__)

EVENT_EVIDENCE_EXPORTED = "evidence_exported"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Where the zip is and what it holds."""

    name: str
    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The service's answer."""
        counts = self.manifest.get("counts", {})
        return {"name": self.name, "path": str(self.path), "url": f"/api/evidence/{self.name}",
                "sha256": self.sha256, "size": self.size, "export_id": self.manifest["export_id"],
                "public_key_sha256": self.manifest["signature"]["public_key_sha256"], **counts}


def _name(now: float, export_id: str) -> str:
    return f"evidence_{datetime.fromtimestamp(now, UTC).strftime('%Y%m%dT%H%M%SZ')}_{export_id[-8:]}.zip"


def alarm_scope(alarm: Mapping[str, Any], now: float, entity_ids: Sequence[str] = ()) -> Scope:
    """The window of an alarm (from a little before it was raised to a little after it ended), its entities,
    and every context its timeline names."""
    ended = [alarm.get(key) for key in ("closed_ts", "resolved_ts", "cleared_ts")]
    end = max((float(ts) for ts in ended if ts is not None), default=now)
    contexts = {entry.get("context_id") for entry in alarm.get("timeline") or ()} | {alarm.get("source_context_id")}
    return Scope(float(alarm["raised_ts"]) - ALARM_MARGIN, min(now, end + ALARM_MARGIN),
                 tuple(dict.fromkeys([*(alarm.get("entities") or ()), *entity_ids])), str(alarm["alarm_id"]),
                 frozenset(c for c in contexts if isinstance(c, str)))


def blur_images(config_dir: Path, images: Sequence[BundleFile]) -> tuple[list[BundleFile], dict[str, int]]:
    """The images with faces and plates blurred by the integration that offers it (`find_image_redactor`;
    blocking: OpenCV). An image that cannot be read is left out rather than exported unblurred; with no
    redactor at all the export is refused."""
    redact = find_image_redactor(config_dir)
    if redact is None:
        raise HubError("blurring was asked for, but no integration offers it (the face integration blurs faces "
                       "and plates); nothing was exported")
    out: list[BundleFile] = []
    counts = {"faces": 0, "plates": 0, "withheld": 0}
    for image in images:
        try:
            data, faces, plates = redact(image.data)
        except ValueError:
            counts["withheld"] += 1
            continue
        counts["faces"] += faces
        counts["plates"] += plates
        out.append(replace(image, data=data))
    return out, counts


def build_export(config_dir: Path, collected: Collected, scope: Scope, *, alarm: Mapping[str, Any] | None,
                 reason: str, case_reference: str, exporter: Mapping[str, Any], hub_info: Mapping[str, Any],
                 now: float, allowed_dirs: Sequence[str] = (),
                 extra_files: Sequence[BundleFile] = (), blur: bool = False,
                 audience: str = AUDIENCE_CASE) -> ExportResult:
    """Gather the images (faces and plates blurred when `blur`), write and sign the zip (blocking). `extra_files`:
    what the caller adds (a plate search's reads and their images, say); their images count with the others."""
    key = load_or_create_key(config_dir)
    export_id = uuid7_str(now)
    images = find_images(collected.events, config_dir, allowed_dirs)
    blurred: dict[str, int] | None = None
    if blur:
        images, blurred = blur_images(config_dir, images)
    files = [BundleFile(EVENTS_FILE, canonical_json(collected.events), "events", "application/json")]
    if collected.states:
        files.append(BundleFile(STATES_FILE, canonical_json(collected.states), "states", "application/json",
                                source=", ".join(sorted(collected.states))))
    if alarm is not None:
        files.append(BundleFile(ALARM_FILE, canonical_json(alarm), "alarm", "application/json",
                                source=str(alarm.get("alarm_id")), time_ts=alarm.get("raised_ts")))
    files.extend(images)
    files.extend(extra_files)
    images = [*images, *(item for item in extra_files if item.kind == "image")]
    fields = {
        "export_id": export_id,
        "created": iso(now),
        "hub": dict(hub_info),
        "exporter": dict(exporter),
        "reason": reason,
        "case_reference": case_reference,
        "scope": {"alarm_id": scope.alarm_id, "entity_ids": list(scope.entity_ids)},
        "time_range": {"start": iso(scope.start_ts), "end": iso(scope.end_ts), "start_ts": scope.start_ts,
                       "end_ts": scope.end_ts},
        "source_devices": sorted(collected.sources | {image.source for image in images if image.source}),
        "counts": {"events": len(collected.events), "states": sum(map(len, collected.states.values())),
                   "images": len(images)},
        "truncated": collected.truncated,
        "audience": audience,
        "blurred": blurred,
    }
    folder = config_dir / EXPORT_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = _name(now, export_id)
    path = folder / name
    manifest = write_bundle(path, files, fields, key, now)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ExportResult(name, path, digest, os.path.getsize(path), manifest)


def _check_reason(reason: Any, case_reference: Any) -> tuple[str, str]:
    if not isinstance(reason, str) or not reason.strip():
        raise ServiceValidationError("An evidence export needs a reason", path=["reason"])
    if not isinstance(case_reference, str) or not case_reference.strip():
        raise ServiceValidationError("An evidence export needs a case reference", path=["case_reference"])
    return reason.strip(), case_reference.strip()


async def _async_alarm(hub: Hub, alarm_id: str) -> dict[str, Any]:
    if not has_alarm_providers(hub):
        raise ServiceValidationError("Alarms are not set up here: export a time window instead", path=["alarm_id"])
    alarm = await async_get_alarm(hub, alarm_id)
    if alarm is None:
        raise ServiceValidationError(f"No alarm {alarm_id!r}", path=["alarm_id"])
    return alarm


async def async_export(hub: Hub, *, reason: str, case_reference: str, context: Context,
                       alarm_id: str | None = None, start: float | None = None, end: float | None = None,
                       entity_ids: Sequence[str] = (), extra_files: Sequence[BundleFile] = (),
                       blur: bool = False, audience: str = AUDIENCE_CASE) -> ExportResult:
    """Export an alarm (with its window, entities and contexts) or a window (of some entities), sign it, audit it.
    `extra_files` go into the zip as they are (the caller has checked who may export them)."""
    reason, case_reference = _check_reason(reason, case_reference)
    now = hub.clock.time()
    alarm: dict[str, Any] | None = None
    if alarm_id is not None:
        alarm = await _async_alarm(hub, alarm_id)
        scope = alarm_scope(alarm, now, entity_ids)
    else:
        if start is None or end is None:
            raise ServiceValidationError("Give an alarm_id, or start and end", path=["start"])
        if end <= start:
            raise ServiceValidationError("end must be after start", path=["end"])
        scope = Scope(float(start), float(end), tuple(dict.fromkeys(entity_ids)))
    recorder = get_recorder(hub)  # HubError without one
    await recorder.async_flush()
    collected = await recorder.async_db_job(partial(collect, scope=scope))
    config = hub.config
    hub_info = {"name": config.name if config else None, "site": config.site if config else None}
    exporter = {"user_id": context.user_id, "centre": context.centre, "context_id": context.id}
    try:
        result = await hub.async_add_executor_job(partial(
            build_export, hub.config_dir, collected, scope, alarm=alarm, reason=reason,
            case_reference=case_reference, exporter=exporter, hub_info=hub_info, now=now,
            allowed_dirs=config.allowlist_external_dirs if config else (), extra_files=extra_files, blur=blur,
            audience=audience))
    except OSError as err:
        raise HubError(f"Evidence export failed: {err}") from err
    counts = result.manifest["counts"]
    audit_record(hub, ACTION_EXPORT, context=context, target=f"{AUDIT_TARGET_PREFIX}{result.name}",
                 data={"reason": reason, "case_reference": case_reference, "alarm_id": alarm_id,
                       "start": iso(scope.start_ts), "end": iso(scope.end_ts), "entity_ids": list(scope.entity_ids),
                       "sha256": result.sha256, "audience": audience, "blurred": blur, **counts})
    hub.bus.async_fire(EVENT_EVIDENCE_EXPORTED, {"name": result.name, "case_reference": case_reference,
                                                 "alarm_id": alarm_id, "sha256": result.sha256, **counts},
                       context=context)
    _LOGGER.info("Evidence %s exported (%d events, %d images) for case %s", result.name, counts["events"],
                 counts["images"], case_reference)
    return result


def public_key_fingerprint(config_dir: Path) -> str:
    """The fingerprint of the hub's signing key (made if needed): what the operator publishes. Blocking."""
    return fingerprint(load_or_create_key(config_dir).public_key())
