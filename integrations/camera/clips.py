"""Recorded video as evidence: the camera integration's clip provider for `evidence.export` (hub.evidence).

An export whose scope names cameras (an alarm's linked cameras, or `entity_id: camera.*` with a start and
an end) asks `async_collect_clips`: the caller's export grant is checked per camera (VIDEO_GRANTS and the
camera's centre), each camera's recordings in the window are locked as evidence (`evidence:<zip name>`,
audited like every lock), and the segments go into the zip as they were recorded, each checked first against
its indexed sha256 (an altered or missing file is withheld and named in the manifest, never exported). The
locks last as long as the export exists: the retention pass releases, with an audit entry, the lock of an
export whose zip is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from hub.audit import audit_record
from hub.core import CALLBACK_TYPE, Context, Event, Hub, callback
from hub.evidence.bundle import BundleFile, iso
from hub.evidence.const import EXPORT_DIR, KIND_VIDEO, VIDEO_DIR, VIDEO_MEDIA_TYPE
from hub.evidence.export import EVENT_EVIDENCE_EXPORTED
from hub.evidence.providers import ClipRequest, ClipSet
from hub.exceptions import HubError, ServiceValidationError, Unauthorized
from hub.recorder import get_recorder

from . import index
from .access import VideoDenied, check_video_grant
from .const import DOMAIN, EVENT_SEGMENT_CORRUPT, GRANT_EXPORT
from .index import STATUS_OK, SegmentInfo

if TYPE_CHECKING:
    from .manager import CameraManager
    from .recorder import CameraStream

__all__ = ["LOCK_PREFIX", "MAX_EXPORT_BYTES", "ClipExporter"]

_LOGGER = logging.getLogger(__name__)

LOCK_PREFIX: Final = "evidence:"  # + the zip's name
MAX_EXPORT_BYTES: Final = 1024**3  # of video in one export (held in memory while the zip is written)


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


def _read_segments(storage: Path, camera_id: str, entity_id: str, segments: Sequence[SegmentInfo],
                   budget: int) -> tuple[list[tuple[BundleFile, SegmentInfo]], list[dict[str, Any]], int]:
    """Read and check the segments (blocking): files for the zip with their index rows, the withheld ones,
    the bytes read."""
    files: list[tuple[BundleFile, SegmentInfo]] = []
    withheld: list[dict[str, Any]] = []
    total = 0
    for info in segments:
        try:
            data = (storage / info.path).read_bytes()
        except OSError:
            withheld.append({"segment_id": info.segment_id, "start": iso(info.start_ts), "why": "missing"})
            continue
        if hashlib.sha256(data).hexdigest() != info.sha256:
            withheld.append({"segment_id": info.segment_id, "start": iso(info.start_ts),
                             "why": "does not match its recorded sha256"})
            continue
        total += len(data)
        if total > budget:
            raise ServiceValidationError(f"the video of this export is over {MAX_EXPORT_BYTES // 1024**2} MiB: "
                                         "export a shorter window or fewer cameras")
        files.append((BundleFile(f"{VIDEO_DIR}/{camera_id}/{_stamp(info.start_ts)}_{info.segment_id}.mp4", data,
                                 KIND_VIDEO, VIDEO_MEDIA_TYPE, entity_id, info.start_ts), info))
    return files, withheld, total


class ClipExporter:
    """The clip provider of one camera manager (registered with hub.evidence while the integration runs)."""

    def __init__(self, manager: CameraManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        self._pending: set[str] = set()  # exports being written: their locks are not orphans yet

    @callback
    def async_listen(self) -> CALLBACK_TYPE:
        """Follow finished exports; returns the remover."""
        @callback
        def _exported(event: Event) -> None:
            self._pending.discard(str(event.data.get("name")))

        return self.hub.bus.async_listen(EVENT_EVIDENCE_EXPORTED, _exported)

    def _cameras(self, entity_ids: Sequence[str]) -> list[CameraStream]:
        found = []
        for entity_id in dict.fromkeys(entity_ids):
            domain, _, camera_id = entity_id.partition(".")
            camera = self.manager.cameras.get(camera_id) if domain == DOMAIN else None
            if camera is not None:
                found.append(camera)
        return found

    def _check(self, camera: CameraStream, request: ClipRequest) -> None:
        try:
            check_video_grant(self.hub, request.context.user_id, camera, GRANT_EXPORT)
        except VideoDenied as err:
            audit_record(self.hub, "camera.export", context=request.context, target=camera.entity_id,
                         outcome="denied", data={"camera": camera.config.id, "reason": str(err)})
            raise Unauthorized(f"export of camera {camera.config.id} refused: {err}", user_id=request.context.user_id,
                               permission=f"{DOMAIN}.{GRANT_EXPORT}") from None

    async def async_collect_clips(self, hub: Hub, request: ClipRequest) -> ClipSet | None:
        """Lock and read the recordings of the request's cameras in its window (None: it names no camera)."""
        cameras = self._cameras(request.entity_ids)
        if not cameras:
            return None
        for camera in cameras:
            self._check(camera, request)
        locks: list[int] = []

        async def release() -> None:
            self._pending.discard(request.export_name)
            for lock_id in locks:
                with contextlib.suppress(HubError):
                    await self.manager.async_unlock(lock_id, request.context, why="the evidence export failed")

        clips = ClipSet(release=release)
        self._pending.add(request.export_name)
        budget = MAX_EXPORT_BYTES
        try:
            for camera in cameras:
                budget -= await self._async_clip(camera, request, clips, locks, budget)
        except BaseException:
            await release()
            raise
        return clips

    async def _async_clip(self, camera: CameraStream, request: ClipRequest, clips: ClipSet, locks: list[int],
                          budget: int) -> int:
        camera_id = camera.config.id
        start, end = request.start_ts, request.end_ts
        locks.append(await self.manager.async_lock(camera_id, start, end, f"{LOCK_PREFIX}{request.export_name}",
                                                   request.context))
        segments, gaps = await get_recorder(self.hub).async_db_job(
            lambda s: index.query_range(s, camera_id, start, end))
        playable = [segment for segment in segments if segment.status == STATUS_OK]
        files, withheld, size = await self.hub.async_add_executor_job(
            _read_segments, self.manager.storage, camera_id, camera.entity_id, playable, budget)
        for item in withheld:
            _LOGGER.warning("camera %s: segment %s withheld from export %s: %s", camera_id, item["segment_id"],
                            request.export_name, item["why"])
            self.hub.bus.async_fire(EVENT_SEGMENT_CORRUPT, {"camera": camera_id, "segment_id": item["segment_id"],
                                                            "reason": item["why"]})
        clips.files.extend(item for item, _info in files)
        clips.clips.append({
            "camera": camera_id, "entity_id": camera.entity_id, "name": camera.config.name,
            "start": iso(start), "end": iso(end), "start_ts": start, "end_ts": end,
            "segments": [{"path": item.path, "segment_id": info.segment_id, "start": iso(info.start_ts),
                          "end": iso(info.end_ts), "start_ts": info.start_ts, "end_ts": info.end_ts,
                          "bytes": info.bytes, "keyframe": info.keyframe, "recorded_sha256": info.sha256}
                         for item, info in files],
            "gaps": [{**gap, "start": iso(gap["start"]), "end": iso(gap["end"])} for gap in gaps],
            "withheld": withheld,
        })
        return size

    async def async_release_orphans(self) -> int:
        """Release (audited) the evidence locks of exports whose zip is gone; how many."""
        locks = await get_recorder(self.hub).async_db_job(lambda s: index.active_locks(s, LOCK_PREFIX))
        folder = self.hub.path(EXPORT_DIR)

        def _gone() -> list[int]:
            return [lock["lock_id"] for lock in locks
                    if (name := lock["reference"][len(LOCK_PREFIX):]) not in self._pending
                    and not (folder / Path(name).name).is_file()]

        released = 0
        for lock_id in await self.hub.async_add_executor_job(_gone):
            with contextlib.suppress(ServiceValidationError):
                await self.manager.async_unlock(lock_id, Context(), why="the evidence export was deleted")
                released += 1
        return released
