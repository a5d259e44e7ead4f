"""Video clips in an incident: a camera's recordings between two times, kept as evidence.

Adding a clip needs the camera's playback grant (integrations/camera/access.py) and takes one of the camera
integration's evidence locks (reference `incident:<id>`), so retention keeps those segments; removing the clip
from the incident releases the lock (both audited by the camera integration). The report shows a still frame
decoded from the clip's first segment, the camera's name, the time range and every segment's sha256.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from hub.audit import audit_record
from hub.core import Context, Hub
from hub.exceptions import HubError, ServiceValidationError, Unauthorized
from hub.recorder import get_recorder

if TYPE_CHECKING:
    from integrations.camera.recorder import CameraStream

__all__ = ["CLIP_POST_ROLL", "CLIP_PRE_ROLL", "LOCK_PREFIX", "MAX_CLIP_SECONDS", "ClipEvidence", "alarm_clip_camera",
           "async_add_clip", "async_clip_evidence", "async_release_orphan_locks", "async_remove_clip", "clip_of",
           "clip_ref"]

_LOGGER = logging.getLogger(__name__)

LOCK_PREFIX: Final = "incident:"
MAX_CLIP_SECONDS: Final = 4 * 3600.0
CLIP_PRE_ROLL: Final = 30.0  # an alarm's clip: from this long before it was raised...
CLIP_POST_ROLL: Final = 90.0  # ...to this long after
KIND_CLIP: Final = "clip"


def clip_ref(camera_id: str, start: float, end: float, lock_id: int) -> str:
    """The clip item's reference (what the timeline and the report need), as compact JSON."""
    return json.dumps({"camera": camera_id, "start": round(start, 3), "end": round(end, 3), "lock": lock_id},
                      separators=(",", ":"))


def clip_of(ref: str | None) -> dict[str, Any] | None:
    """A clip item's reference read back; None when it is not one."""
    try:
        found = json.loads(ref or "")
    except ValueError:
        return None
    return found if isinstance(found, dict) and {"camera", "start", "end", "lock"} <= set(found) else None


def _cameras(hub: Hub) -> Any:
    try:
        from integrations.camera import DATA_KEY
    except ImportError:
        return None
    return hub.data.get(DATA_KEY)


def _camera(hub: Hub, camera: str) -> CameraStream:
    manager = _cameras(hub)
    if manager is None:
        raise ServiceValidationError("'camera': cameras are not set up on this hub")
    camera_id = camera.removeprefix("camera.")
    if camera_id not in manager.cameras:
        raise ServiceValidationError(f"'camera': no camera {camera!r}")
    found: CameraStream = manager.cameras[camera_id]
    return found


def _check_playback(hub: Hub, camera: CameraStream, context: Context, incident_id: str) -> None:
    from integrations.camera.access import VideoDenied, check_video_grant
    from integrations.camera.const import DOMAIN as CAMERA_DOMAIN
    from integrations.camera.const import GRANT_PLAYBACK

    try:
        check_video_grant(hub, context.user_id, camera, GRANT_PLAYBACK)
    except VideoDenied as err:
        audit_record(hub, "incident.add_clip", context=context, target=camera.entity_id, outcome="denied",
                     data={"incident_id": incident_id, "camera": camera.config.id, "reason": str(err)})
        raise Unauthorized(f"clip of camera {camera.config.id} refused: {err}", user_id=context.user_id,
                           permission=f"{CAMERA_DOMAIN}.{GRANT_PLAYBACK}") from None


def alarm_clip_camera(hub: Hub, alarm: dict[str, Any]) -> tuple[str, float, float]:
    """The camera an alarm names and the clip around it (pre- and post-roll); ServiceValidationError without."""
    manager = _cameras(hub)
    names = [str(e) for e in alarm.get("entities") or () if str(e).startswith("camera.")]
    known = [n for n in names if manager is not None and n.removeprefix("camera.") in manager.cameras]
    if not known:
        raise ServiceValidationError("'alarm_id': this alarm names no recorded camera")
    raised = float(alarm.get("raised_ts") or 0)
    return known[0], raised - CLIP_PRE_ROLL, raised + CLIP_POST_ROLL


async def async_add_clip(hub: Hub, incidents: Any, incident_id: str, camera_name: str, start: float, end: float,
                         context: Context, note: str | None = None) -> dict[str, Any]:
    """Lock the camera's recordings in [start, end] for the incident and add the clip to its timeline."""
    if not 0 < end - start <= MAX_CLIP_SECONDS:
        raise ServiceValidationError(f"'end': must be after 'start', by at most {MAX_CLIP_SECONDS / 3600:g} h")
    camera = _camera(hub, camera_name)
    _check_playback(hub, camera, context, incident_id)
    incident = await incidents.async_get(incident_id)
    if incident is None:
        raise ServiceValidationError(f"'incident_id': no incident {incident_id!r}")
    if incident["status"] == "closed":
        raise ServiceValidationError(f"'incident_id': incident {incident_id!r} is closed; reopen it first")
    manager = _cameras(hub)
    lock_id = await manager.async_lock(camera.config.id, start, end, f"{LOCK_PREFIX}{incident_id}", context)
    text = f"{camera.config.name}" + (f" · {note}" if note else "")
    try:
        return dict(await incidents.async_add_item(incident_id, KIND_CLIP, context,
                                                   ref=clip_ref(camera.config.id, start, end, lock_id), text=text))
    except BaseException:
        await manager.async_unlock(lock_id, context, why="the clip could not be added to the incident")
        raise


async def async_remove_clip(hub: Hub, incidents: Any, incident_id: str, item_id: int,
                            context: Context) -> dict[str, Any]:
    """Take a clip out of the incident and release its evidence lock (the lock's release is audited)."""
    incident = await incidents.async_get(incident_id)
    item = next((i for i in (incident or {}).get("timeline", ()) if i["item_id"] == item_id
                 and i["kind"] == KIND_CLIP), None)
    clip = clip_of(item["ref"]) if item is not None else None
    if item is None or clip is None:
        raise ServiceValidationError(f"'item_id': incident {incident_id!r} has no clip {item_id}")
    result = dict(await incidents.async_remove_item(incident_id, item_id, context,
                                                    text=f"{item.get('text') or clip['camera']}"))
    manager = _cameras(hub)
    if manager is not None:
        try:
            await manager.async_unlock(int(clip["lock"]), context, why=f"removed from incident {incident_id}")
        except ServiceValidationError:  # released already (by hand through camera.unlock_recording)
            pass
    return result


async def async_release_orphan_locks(hub: Hub, incidents: Any, why: str = "the incident was deleted") -> int:
    """Release (audited) the evidence locks of incidents that no longer exist (deleted or purged from the
    database); how many. Runs at set-up, once the incidents' ids are loaded."""
    from integrations.camera import index

    manager = _cameras(hub)
    if manager is None:
        return 0
    locks = await get_recorder(hub).async_db_job(partial(index.active_locks, prefix=LOCK_PREFIX))
    released = 0
    for lock in locks:
        incident_id = str(lock["reference"])[len(LOCK_PREFIX):]
        if incident_id in incidents.known_ids():
            continue
        try:
            await manager.async_unlock(int(lock["lock_id"]), Context(), why=why)
        except ServiceValidationError:
            continue
        released += 1
    return released


@dataclass(slots=True)
class ClipEvidence:
    """What the report shows of one clip."""

    camera_name: str
    start: float
    end: float
    sha256: list[str] = field(default_factory=list)
    still_jpeg: bytes | None = None
    playback_path: str = ""


def _still(path: Any) -> bytes | None:
    """One frame of a segment file as JPEG (ffmpeg, blocking), or None."""
    from integrations.camera.stream import snapshot_jpeg

    try:
        return snapshot_jpeg(str(path), timeout=15.0, width=640)
    except OSError as err:
        _LOGGER.warning("no still frame from segment %s: %s", path, err)
        return None


async def async_clip_evidence(hub: Hub, incident: dict[str, Any]) -> dict[int, ClipEvidence]:
    """Per clip item id: the camera's name, the range, the sha256 of each recorded segment in it, and a still
    frame decoded from the first one (ffmpeg in the executor)."""
    from integrations.camera import index
    from integrations.camera.index import STATUS_OK

    manager = _cameras(hub)
    found: dict[int, ClipEvidence] = {}
    for item in incident.get("timeline", ()):
        clip = clip_of(item["ref"]) if item["kind"] == KIND_CLIP else None
        if clip is None:
            continue
        camera_id, start, end = str(clip["camera"]), float(clip["start"]), float(clip["end"])
        camera = manager.cameras.get(camera_id) if manager is not None else None
        evidence = ClipEvidence(camera.config.name if camera is not None else camera_id, start, end)
        found[item["item_id"]] = evidence
        if manager is None:
            continue
        try:
            segments, _gaps = await get_recorder(hub).async_db_job(partial(index.query_range, camera=camera_id,
                                                                           start_ts=start, end_ts=end))
        except HubError:
            continue
        playable = [segment for segment in segments if segment.status == STATUS_OK]
        evidence.sha256 = [segment.sha256 for segment in playable]
        if playable:
            evidence.still_jpeg = await hub.async_add_executor_job(_still, manager.storage / playable[0].path)
    return found
