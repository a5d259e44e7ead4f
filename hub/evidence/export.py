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
    KIND_VIDEO,
    STATES_FILE,
)
from .keys import fingerprint, load_or_create_key
from .providers import (
    ClipRequest,
    ClipSet,
    ImageRedactor,
    async_collect_clips,
    async_get_alarm,
    find_image_redactor,
    find_video_redactor,
    has_alarm_providers,
)

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["EVENT_EVIDENCE_EXPORTED", "ExportResult", "alarm_scope", "async_export", "build_export", "export_name"]

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


def export_name(now: float, export_id: str) -> str:
    """The zip's file name."""
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


def _redact(redact: ImageRedactor | None, items: Sequence[BundleFile],
            counts: dict[str, int]) -> list[BundleFile]:
    if redact is None:
        raise HubError("blurring was asked for, but no integration offers it (the face integration blurs faces "
                       "and plates); nothing was exported")
    out: list[BundleFile] = []
    for item in items:
        try:
            data, faces, plates = redact(item.data)
        except ValueError:
            counts["withheld"] += 1
            continue
        counts["faces"] += faces
        counts["plates"] += plates
        out.append(replace(item, data=data))
    return out


def blur_images(config_dir: Path, images: Sequence[BundleFile]) -> tuple[list[BundleFile], dict[str, int]]:
    """The images with faces and plates blurred by the integration that offers it (`find_image_redactor`;
    blocking: OpenCV). An image that cannot be read is left out rather than exported unblurred; with no
    redactor at all the export is refused."""
    counts = {"faces": 0, "plates": 0, "withheld": 0}
    return _redact(find_image_redactor(config_dir), images, counts), counts


def blur_videos(config_dir: Path, videos: Sequence[BundleFile],
                counts: dict[str, int]) -> list[BundleFile]:
    """Video segments with faces and plates blurred (`find_video_redactor`: decoded and re-encoded, only for
    redacted exports; blocking). A segment that cannot be decoded is withheld, never exported unblurred."""
    if not videos:
        return []
    return _redact(find_video_redactor(config_dir), videos, counts)


def _video_manifest(clips: Sequence[Mapping[str, Any]], files: Sequence[BundleFile],
                    redacted: bool) -> list[dict[str, Any]]:
    """The manifest's `video` entries with each segment's sha256 in the zip (withheld when it is not there)."""
    digests = {item.path: hashlib.sha256(item.data).hexdigest() for item in files if item.kind == KIND_VIDEO}
    out = []
    for clip in clips:
        segments = []
        for segment in clip.get("segments", ()):
            digest = digests.get(segment["path"])
            segments.append({**segment, "sha256": digest, "redacted": redacted} if digest is not None
                            else {**segment, "sha256": None, "withheld": True})
        out.append({**clip, "segments": segments})
    return out


def build_export(config_dir: Path, collected: Collected, scope: Scope, *, alarm: Mapping[str, Any] | None,
                 reason: str, case_reference: str, exporter: Mapping[str, Any], hub_info: Mapping[str, Any],
                 now: float, allowed_dirs: Sequence[str] = (),
                 extra_files: Sequence[BundleFile] = (), blur: bool = False,
                 audience: str = AUDIENCE_CASE, export_id: str | None = None,
                 clips: Sequence[ClipSet] = ()) -> ExportResult:
    """Gather the images (faces and plates blurred when `blur`), write and sign the zip (blocking). `extra_files`:
    what the caller adds (a plate search's reads and their images, say); their images count with the others.
    `clips`: recorded video (its segments go in as they were recorded, or blurred when `blur`; the manifest's
    `video` names each segment's camera, time and sha256)."""
    key = load_or_create_key(config_dir)
    export_id = export_id or uuid7_str(now)
    images = find_images(collected.events, config_dir, allowed_dirs)
    videos = [item for clip in clips for item in clip.files]
    blurred: dict[str, int] | None = None
    if blur:
        images, blurred = blur_images(config_dir, images)
        videos = blur_videos(config_dir, videos, blurred)
    files = [BundleFile(EVENTS_FILE, canonical_json(collected.events), "events", "application/json")]
    if collected.states:
        files.append(BundleFile(STATES_FILE, canonical_json(collected.states), "states", "application/json",
                                source=", ".join(sorted(collected.states))))
    if alarm is not None:
        files.append(BundleFile(ALARM_FILE, canonical_json(alarm), "alarm", "application/json",
                                source=str(alarm.get("alarm_id")), time_ts=alarm.get("raised_ts")))
    files.extend(images)
    files.extend(videos)
    files.extend(extra_files)
    images = [*images, *(item for item in extra_files if item.kind == "image")]
    video = _video_manifest([entry for clip in clips for entry in clip.clips], videos, blur)
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
        "source_devices": sorted(collected.sources | {item.source for item in [*images, *videos] if item.source}),
        "counts": {"events": len(collected.events), "states": sum(map(len, collected.states.values())),
                   "images": len(images), "video_segments": len(videos)},
        "video": video,
        "truncated": collected.truncated,
        "audience": audience,
        "blurred": blurred,
    }
    folder = config_dir / EXPORT_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / export_name(now, export_id)
    manifest = write_bundle(path, files, fields, key, now)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ExportResult(path.name, path, digest, os.path.getsize(path), manifest)


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
    export_id = uuid7_str(now)
    clips = await async_collect_clips(hub, ClipRequest(export_name(now, export_id), scope.start_ts, scope.end_ts,
                                                       scope.entity_ids, reason, case_reference, context))
    try:
        result = await hub.async_add_executor_job(partial(
            build_export, hub.config_dir, collected, scope, alarm=alarm, reason=reason,
            case_reference=case_reference, exporter=exporter, hub_info=hub_info, now=now,
            allowed_dirs=config.allowlist_external_dirs if config else (), extra_files=extra_files, blur=blur,
            audience=audience, export_id=export_id, clips=clips))
    except BaseException as err:
        for clip in clips:  # the locks were for this export only
            if clip.release is not None:
                await clip.release()
        if isinstance(err, OSError):
            raise HubError(f"Evidence export failed: {err}") from err
        raise
    counts = result.manifest["counts"]
    video = [{"camera": clip.get("entity_id"), "start": clip.get("start"), "end": clip.get("end"),
              "segments": len(clip.get("segments", ()))} for clip in result.manifest["video"]]
    audit_record(hub, ACTION_EXPORT, context=context, target=f"{AUDIT_TARGET_PREFIX}{result.name}",
                 data={"reason": reason, "case_reference": case_reference, "alarm_id": alarm_id,
                       "start": iso(scope.start_ts), "end": iso(scope.end_ts), "entity_ids": list(scope.entity_ids),
                       "sha256": result.sha256, "audience": audience, "blurred": blur, "video": video, **counts})
    hub.bus.async_fire(EVENT_EVIDENCE_EXPORTED, {"name": result.name, "case_reference": case_reference,
                                                 "alarm_id": alarm_id, "sha256": result.sha256, **counts},
                       context=context)
    _LOGGER.info("Evidence %s exported (%d events, %d images) for case %s", result.name, counts["events"],
                 counts["images"], case_reference)
    return result


def public_key_fingerprint(config_dir: Path) -> str:
    """The fingerprint of the hub's signing key (made if needed): what the operator publishes. Blocking."""
    return fingerprint(load_or_create_key(config_dir).public_key())
