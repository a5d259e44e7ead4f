"""What analytics (ANPR, faces, ...) get from the camera integration, on the hub side.

- `async_frame_request(hub, "camera.x", fps=2)`: which stream of a `camera.*` entity to decode (its sub stream
  unless told otherwise), with credentials, at which rate and size: a picklable `FrameRequest` for a worker
  (integrations.camera.frames decodes it there). It waits, with the one Backoff, while the camera integration
  or the simulator's RTSP server is not up yet.
- `async_lock_evidence` / `async_release_evidence`: an analytic's find (an ANPR hotlist hit, a face match) locks
  the camera's recorded segments around it through the camera's evidence locks (audited), under a reference
  the analytic owns ("face:<authorisation>:<match>", "anpr:<hit>"); releasing every lock under a reference
  prefix can also delete the segments that no other lock keeps (a lapsed or refused face authorisation).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit import audit_record
from hub.core import Context, Hub
from hub.exceptions import HubError
from hub.helpers.backoff import Backoff
from hub.recorder import get_recorder

from . import index
from .const import DOMAIN, STREAM_SUB
from .frames import FrameRequest
from .index import SegmentInfo
from .manager import CameraManager
from .models import CameraLockRow

__all__ = ["async_frame_request", "async_lock_evidence", "async_release_evidence", "camera_manager",
           "frame_request"]

_LOGGER = logging.getLogger(__name__)


def camera_manager(hub: Hub) -> CameraManager | None:
    """The camera integration's manager, or None when it is not set up."""
    from . import DATA_KEY

    return hub.data.get(DATA_KEY)


def frame_request(hub: Hub, entity_id: str, *, fps: float, width: int | None = 640, stream: str = STREAM_SUB,
                  stall_after: float | None = None) -> FrameRequest:
    """The stream an analytic decodes (OSError while it cannot be resolved yet; LookupError: no such camera)."""
    manager = camera_manager(hub)
    if manager is None:
        raise OSError("the camera integration is not set up")
    camera_id = entity_id.removeprefix(f"{DOMAIN}.")
    camera = manager.cameras.get(camera_id)
    if camera is None:
        raise LookupError(f"no camera {entity_id!r} (configured: {', '.join(sorted(manager.cameras))})")
    config = camera.config
    used = stream if stream == "main" or config.sub else "main"
    return FrameRequest(camera=config.id, url=config.url(used, manager.resolve_sim), fps=fps, width=width,
                        stream=used, area=config.area,
                        stall_after=stall_after if stall_after is not None else config.unavailable_after,
                        retry_initial=manager.config["restart_initial"],
                        retry_maximum=manager.config["restart_maximum"])


async def async_frame_request(hub: Hub, entity_id: str, *, fps: float, width: int | None = 640,
                              stream: str = STREAM_SUB, stall_after: float | None = None,
                              backoff: Backoff | None = None) -> FrameRequest:
    """`frame_request`, waiting (with backoff) while the camera integration or the simulated stream is not up.

    LookupError at once for a camera that is not configured."""
    backoff = backoff or Backoff(0.5, 30.0)
    while True:
        try:
            return frame_request(hub, entity_id, fps=fps, width=width, stream=stream, stall_after=stall_after)
        except OSError as err:
            delay = backoff.delay()
            _LOGGER.debug("frames for %s not available yet (%s); again in %.1f s", entity_id, err, delay)
            await asyncio.sleep(delay)


async def async_lock_evidence(hub: Hub, entity_id: str, start: float, end: float, reference: str,
                              context: Context | None = None) -> int | None:
    """Keep a camera's recordings in [start, end] until released (audited by the camera integration).

    None (logged) when there is no such camera or the lock could not be written: the analytic's own record
    stands either way."""
    manager = camera_manager(hub)
    camera_id = entity_id.removeprefix(f"{DOMAIN}.")
    if manager is None or camera_id not in manager.cameras:
        _LOGGER.debug("no camera %s to lock recordings of (%s)", entity_id, reference)
        return None
    try:
        return await manager.async_lock(camera_id, start, end, reference, context)
    except HubError as err:
        _LOGGER.error("camera %s: recordings of %s not locked: %s", camera_id, reference, err)
        return None


def _locks(session: Session, prefix: str) -> list[int]:
    return list(session.scalars(select(CameraLockRow.lock_id).where(
        CameraLockRow.reference.startswith(prefix, autoescape=True), CameraLockRow.released_ts.is_(None))))


def _unkept(session: Session, windows: list[dict[str, Any]]) -> list[SegmentInfo]:
    """Segments of the windows that no active lock keeps any more."""
    found: dict[int, SegmentInfo] = {}
    for window in windows:
        segments, _gaps = index.query_range(session, window["camera"], window["start"], window["end"])
        locks = session.scalars(select(CameraLockRow).where(CameraLockRow.camera == window["camera"],
                                                            CameraLockRow.released_ts.is_(None))).all()
        for segment in segments:
            if not any(lock.start_ts < segment.end_ts and lock.end_ts > segment.start_ts for lock in locks):
                found[segment.segment_id] = segment
    return sorted(found.values(), key=lambda s: s.start_ts)


async def async_release_evidence(hub: Hub, prefix: str, context: Context | None, *, delete: bool = False,
                                 why: str = "") -> dict[str, int]:
    """Release every active lock whose reference starts with `prefix` (each audited); with `delete`, also delete
    the recorded segments of their windows that no other active lock keeps (one audit entry). Counts."""
    manager = camera_manager(hub)
    if manager is None:
        return {"locks_released": 0, "segments_deleted": 0}
    recorder = get_recorder(hub)
    try:
        lock_ids: list[int] = await recorder.async_db_job(lambda s: _locks(s, prefix))
    except HubError as err:
        _LOGGER.error("camera evidence locks %s* not released: %s", prefix, err)
        return {"locks_released": 0, "segments_deleted": 0}
    windows = []
    for lock_id in lock_ids:
        try:
            windows.append(await manager.async_unlock(lock_id, context))
        except HubError as err:  # released meanwhile by someone else
            _LOGGER.debug("lock %s not released: %s", lock_id, err)
    deleted = 0
    if delete and windows:
        try:
            segments: list[SegmentInfo] = await recorder.async_db_job(lambda s: _unkept(s, windows))
            deleted = await manager.retention.async_delete(segments, why or f"released {prefix}")
        except HubError as err:
            _LOGGER.error("recordings of the released locks %s* not deleted: %s", prefix, err)
        audit_record(hub, "camera.evidence_deleted", context=context, target="camera",
                     data={"reference": prefix, "why": why, "locks": len(windows), "segments": deleted,
                           "cameras": sorted({w["camera"] for w in windows})})
    return {"locks_released": len(windows), "segments_deleted": deleted}
