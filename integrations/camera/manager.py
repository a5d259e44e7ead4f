"""The camera manager: streams, segment indexing, gaps, storage checks, snapshots, evidence locks.

Files are hashed and their MP4 boxes walked in one read, then moved, in executors; index rows are written
in the recorder thread. Segments finished at about the same time go through both as one batch. A segment
is indexed only once its file is final under `<storage>/<camera>/<YYYY-MM-DD>/`; a failure on the way
(full disk, vanished file) leaves the index as it was and says so, so the index never names a file that
was not completely written.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.audit import audit_record
from hub.core import CALLBACK_TYPE, Context, Event, Hub, callback
from hub.exceptions import HubError, ServiceValidationError
from hub.helpers.event import async_track_time_interval
from hub.recorder import get_recorder

from . import index
from .clips import ClipExporter
from .config import CameraConfig
from .const import (
    DATA_SIM_STREAMS,
    EVENT_ALARM_RAISED,
    EVENT_LOCK_CHANGED,
    EVENT_SEGMENT_CORRUPT,
    EVENT_STORAGE_FULL,
    MODE_OFF,
)
from .entity import CameraEntity
from .index import STATUS_CORRUPT, STATUS_OK, SegmentInfo
from .ptz import OnvifPtz
from .recorder import CameraStream, IncomingSegment
from .retention import Retention
from .stream import HASH_BUFFER, check_segment, fetch_snapshot, sha256_file, snapshot_jpeg

__all__ = ["CameraManager"]

_LOGGER = logging.getLogger(__name__)
CORRUPT_DIR = "corrupt"
CONTIGUOUS = 0.1  # seconds between segments still played as one range
INDEX_BATCH_WAIT = 0.25  # seconds a finished segment waits for others to share its executor job and transaction
INDEX_BATCH_MAX = 256  # segments in one batch at most
_Queued = tuple[CameraStream, IncomingSegment, "asyncio.Future[SegmentInfo | None]"]


def _final_path(storage: Path, segment: IncomingSegment, corrupt: bool) -> Path:
    day = datetime.fromtimestamp(segment.start_ts, UTC)
    folder = CORRUPT_DIR if corrupt else day.strftime("%Y-%m-%d")
    return storage / segment.camera / folder / f"{day.strftime('%H%M%S.%f')[:10]}-{segment.path.name}"


class CameraManager:
    """Every configured camera and its recordings."""

    def __init__(self, hub: Hub, config: dict[str, Any]) -> None:
        self.hub = hub
        self.config = config
        storage = Path(config["storage_dir"])
        self.storage = storage if storage.is_absolute() else hub.path(str(storage))
        self.cameras: dict[str, CameraStream] = {}
        for conf in config["cameras"]:
            camera = CameraConfig.from_config(conf)
            self.cameras[camera.id] = CameraStream(self, camera)
        self.ptz: dict[str, OnvifPtz] = {camera.config.id: OnvifPtz(camera.config.id, camera.config.onvif)
                                          for camera in self.cameras.values() if camera.config.onvif is not None}
        self.retention = Retention(self)
        self.entities: dict[str, CameraEntity] = {}
        self.clips: ClipExporter | None = None  # set by the integration's setup (evidence exports of clips)
        self.stopping = False
        self.storage_full = False
        self._removers: list[CALLBACK_TYPE] = []
        self._queued: list[_Queued] = []  # finished segments waiting for the indexer
        self._indexer: asyncio.Task[None] | None = None

    async def async_start(self) -> None:
        """Create the folders, start every recorder, the watchdog and the retention timer."""
        await self.hub.async_add_executor_job(self._make_folders)
        for camera in self.cameras.values():
            camera.start()
        self._removers.append(async_track_time_interval(self.hub, self._watchdog, 1.0))
        self._removers.append(async_track_time_interval(self.hub, self._retention_tick,
                                                        self.config["retention_interval"]))
        if self.config["alarm_lock"]["enabled"]:
            self._removers.append(self.hub.bus.async_listen(EVENT_ALARM_RAISED, self._async_alarm_raised))

    def _make_folders(self) -> None:
        for camera in self.cameras.values():
            camera.incoming.mkdir(parents=True, exist_ok=True)

    async def async_stop(self) -> None:
        """Stop the recorders (each finishes and lists its last segment) and the timers."""
        self.stopping = True
        while self._removers:
            self._removers.pop()()
        for camera in self.cameras.values():
            await camera.async_stop()
        if self._indexer is not None:  # the last segments the recorders listed
            await asyncio.shield(self._indexer)
        for ptz in self.ptz.values():
            await ptz.async_close()

    async def async_read_presets(self) -> None:
        """Read every ONVIF camera's presets (each bounded by its timeout); an unreachable device is logged and
        read again at its first goto_preset, never failing the hub's start."""

        async def _read(camera_id: str, ptz: OnvifPtz) -> None:
            try:
                await ptz.async_connect()
            except HubError as err:
                _LOGGER.warning("%s (presets read again at the first goto_preset)", err)
                return
            entity = self.entities.get(camera_id)
            if entity is not None and entity.hub is not None:
                entity.async_write_state()

        for camera_id, ptz in self.ptz.items():
            self.hub.async_create_background_task(_read(camera_id, ptz), f"camera {camera_id} ONVIF presets")

    async def async_goto_preset(self, camera_id: str, preset: str, context: Context) -> dict[str, Any]:
        """Move a camera to a preset: through ONVIF where it has an `onvif:` block (the device's presets),
        else the configured presets only recorded on the entity."""
        camera = self.camera(camera_id)
        ptz = self.ptz.get(camera.config.id)
        if ptz is not None:
            presets = await ptz.async_connect()  # DeviceUnavailable when the device does not answer
            if preset not in presets and preset not in presets.values():
                known = ", ".join(presets) or "none"
                raise ServiceValidationError(f"camera.goto_preset: camera {camera.config.id} has no preset "
                                             f"{preset!r} on its ONVIF device (presets: {known})", path=["preset"])
            token = await ptz.async_goto(preset)
            result: dict[str, Any] = {"id": preset, "token": token, "onvif": True}
        else:
            if preset not in camera.config.presets:
                known = ", ".join(camera.config.presets) or "none"
                raise ServiceValidationError(f"camera.goto_preset: camera {camera.config.id} has no preset "
                                             f"{preset!r} (presets: {known})", path=["preset"])
            result = dict(camera.config.presets[preset])
        entity = self.entities.get(camera.config.id)
        if entity is not None:
            entity.preset = preset
            entity.async_set_context(context)
            entity.async_write_state()
        return {"entity_id": camera.entity_id, **result}

    def resolve_sim(self, stream_id: str) -> str:
        """The rtsp:// URL of a simulated stream (sim://<id>); OSError while the simulator serves none."""
        streams = self.hub.data.get(DATA_SIM_STREAMS)
        if streams is None:
            raise OSError(f"sim://{stream_id}: the simulator serves no cameras (yet)")
        return streams(stream_id)

    def camera(self, camera_id: str) -> CameraStream:
        """A configured camera; ServiceValidationError naming it otherwise."""
        camera_id = camera_id.removeprefix("camera.")
        camera = self.cameras.get(camera_id)
        if camera is None:
            raise ServiceValidationError(f"no camera {camera_id!r} (configured: {', '.join(sorted(self.cameras))})")
        return camera

    @callback
    def _watchdog(self, _now: datetime) -> None:
        now = self.hub.clock.time()
        for camera in self.cameras.values():
            camera.watchdog(now)

    @callback
    def _retention_tick(self, _now: datetime) -> None:
        self.hub.async_create_task(self.retention.async_run(), "camera retention")

    # ------------------------------------------------------------------ segments

    @callback
    def queue_segment(self, camera: CameraStream, segment: IncomingSegment) -> asyncio.Future[SegmentInfo | None]:
        """Queue a segment ffmpeg finished for checking, hashing, moving and indexing; its future gets the
        indexed segment (None when it was not indexed: gone, or the disk or the database failed).

        Segments finished within `INDEX_BATCH_WAIT` of each other (cameras cut their segments at about
        the same time) share one executor job (one read each: hash and walk), one free-space read and
        one database transaction.
        """
        future: asyncio.Future[SegmentInfo | None] = self.hub.loop.create_future()
        self._queued.append((camera, segment, future))
        if self._indexer is None:
            self._indexer = self.hub.async_create_task(self._async_index_queued(), "camera index")
        return future

    async def async_index_segment(self, camera: CameraStream, segment: IncomingSegment) -> SegmentInfo | None:
        """Check, hash, move and index a segment ffmpeg finished; event mode drops what no window keeps."""
        return await self.queue_segment(camera, segment)

    async def _async_index_queued(self) -> None:
        try:
            while self._queued:
                if not self.stopping:
                    await asyncio.sleep(INDEX_BATCH_WAIT)
                batch, self._queued = self._queued[:INDEX_BATCH_MAX], self._queued[INDEX_BATCH_MAX:]
                try:
                    await self._async_index_batch(batch)
                except Exception:  # a failed batch must not stop the indexing of the next ones
                    _LOGGER.exception("camera: %d segments not indexed", len(batch))
                finally:
                    for _camera, _segment, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._indexer = None

    def _finish_segments(self, segments: list[IncomingSegment]) -> tuple[list[dict[str, Any] | OSError | None],
                                                                           int | None]:
        """Check, hash and move segments (blocking, one executor job per batch), then read the disk's free
        space once. Per segment: its row, None when the file is gone, or the OSError that stopped it."""
        buffer = bytearray(HASH_BUFFER)
        folders: set[Path] = set()
        results: list[dict[str, Any] | OSError | None] = []
        for segment in segments:
            try:
                results.append(self._finish_segment(segment, buffer, folders))
            except OSError as err:
                results.append(err)
        return results, self._free_bytes()

    def _finish_segment(self, segment: IncomingSegment, buffer: bytearray, folders: set[Path]) -> dict[str, Any] | None:
        try:
            check = check_segment(segment.path, buffer)
        except FileNotFoundError:
            return None
        target = _final_path(self.storage, segment, corrupt=not check.ok)
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        segment.path.replace(target)
        return {"camera": segment.camera, "start_ts": segment.start_ts, "end_ts": segment.end_ts,
                "path": str(target.relative_to(self.storage)), "bytes": check.size, "keyframe": check.keyframe,
                "sha256": check.sha256, "status": STATUS_OK if check.ok else STATUS_CORRUPT, "error": check.error}

    async def _async_index_batch(self, batch: list[_Queued]) -> None:
        results, free = await self.hub.async_add_executor_job(self._finish_segments, [item[1] for item in batch])
        rows: list[tuple[_Queued, dict[str, Any], str, bool]] = []
        for item, result in zip(batch, results, strict=True):
            camera, segment, _future = item
            if isinstance(result, OSError):
                self.check_error(str(result), result.errno)
                _LOGGER.error("camera %s: segment %s not indexed: %s", segment.camera, segment.path.name, result)
            elif result is not None:
                error = result.pop("error")
                rows.append((item, result, error, result["status"] == STATUS_OK and camera.closes_gap(segment)))
        ids = await self._async_add_rows([(info, closes) for _item, info, _error, closes in rows])
        cameras: dict[str, CameraStream] = {}
        for ((camera, segment, future), info, error, _closes), segment_id in zip(rows, ids, strict=True):
            if segment_id is None:
                continue
            stored = SegmentInfo(segment_id=segment_id, **info)
            if stored.status == STATUS_CORRUPT:
                camera.corrupt += 1
                _LOGGER.warning("camera %s: segment %s is corrupt (%s); indexed as corrupt, never served",
                                segment.camera, stored.path, error)
                self.hub.bus.async_fire(EVENT_SEGMENT_CORRUPT, {"camera": segment.camera,
                                                                "segment_id": segment_id, "reason": error})
            else:
                camera.segment_indexed(stored)
            cameras[camera.config.id] = camera
            if not future.done():  # its waiter may have been cancelled
                future.set_result(stored)
        if cameras:
            await self._async_after_segments(list(cameras.values()), free)

    async def _async_add_rows(self, rows: list[tuple[dict[str, Any], bool]]) -> list[int | None]:
        """Index rows in one transaction (closing the camera's open gap after a row that `closes` it); when
        that fails, row by row, so that one bad row costs only itself. The ids, None for a row not indexed."""
        if not rows:
            return []
        recorder = get_recorder(self.hub)

        def _add(session: Any, chunk: list[tuple[dict[str, Any], bool]]) -> list[int]:
            ids = index.add_segments(session, [info for info, _closes in chunk])
            for info, closes in chunk:
                if closes:
                    index.close_gaps(session, info["camera"], info["start_ts"])
            return ids

        try:
            return list(await recorder.async_db_job(functools.partial(_add, chunk=rows)))
        except HubError as err:  # the database is unavailable: no row would go in
            for info, _closes in rows:
                _LOGGER.error("camera %s: segment %s not indexed: %s", info["camera"], info["path"], err)
            return [None] * len(rows)
        except Exception:
            if len(rows) == 1:
                _LOGGER.exception("camera %s: segment %s not indexed", rows[0][0]["camera"], rows[0][0]["path"])
                return [None]
        ids: list[int | None] = []
        for row in rows:
            ids.extend(await self._async_add_rows([row]))
        return ids

    async def _async_after_segments(self, cameras: list[CameraStream], free: int | None) -> None:
        now = self.hub.clock.time()
        for camera in cameras:
            drops = camera.event_drops(now)
            if drops:
                await self.retention.async_delete(drops, "event mode: outside every event window")
        full = free is not None and free < self.config["min_free_bytes"]
        if full:
            self.check_error("", errno.ENOSPC)
        elif self.storage_full:
            self.storage_full = False
        if full or self.retention.over_watermark():
            await self.retention.async_run()

    def _free_bytes(self) -> int | None:
        try:
            return shutil.disk_usage(self.storage).free
        except OSError:
            return None

    @callback
    def check_error(self, message: str, code: int | None = None) -> None:
        """Raise `camera_storage_full` (once until space returns) for a full disk."""
        if code != errno.ENOSPC and "No space left" not in message:
            return
        if self.storage_full:
            return
        self.storage_full = True
        _LOGGER.error("Video storage %s is full: oldest unlocked recordings are being deleted", self.storage)
        self.hub.bus.async_fire(EVENT_STORAGE_FULL, {"storage": str(self.storage)})

    async def _async_alarm_raised(self, event: Event) -> None:
        """An alarm naming our cameras: lock their recordings around it as evidence (and, in event mode,
        keep recording them)."""
        entities = event.data.get("entities") or []
        raised = float(event.data.get("raised_ts") or self.hub.clock.time())
        window = self.config["alarm_lock"]
        for entity_id in entities:
            camera = self.cameras.get(str(entity_id).removeprefix("camera.")) \
                if str(entity_id).startswith("camera.") else None
            if camera is None or camera.config.mode == MODE_OFF:
                continue
            camera.add_window(raised, raised + window["after"])
            try:
                await self.async_lock(camera.config.id, raised - window["before"], raised + window["after"],
                                      f"alarm:{event.data.get('alarm_id')}", event.context)
            except HubError as err:
                _LOGGER.error("camera %s: recordings of alarm %s not locked: %s", camera.config.id,
                              event.data.get("alarm_id"), err)

    async def async_open_gap(self, camera: CameraStream, start: float, reason: str) -> None:
        """Record the start of a recording gap."""
        try:
            await get_recorder(self.hub).async_db_job(lambda s: index.open_gap(s, camera.config.id, start, reason))
        except HubError as err:
            _LOGGER.error("camera %s: gap not recorded: %s", camera.config.id, err)

    async def async_query(self, camera_id: str, start: float, end: float) -> dict[str, Any]:
        """Segments, gaps and contiguous ranges of a camera between start and end."""
        segments, gaps = await get_recorder(self.hub).async_db_job(
            lambda s: index.query_range(s, camera_id, start, end))
        ranges: list[list[float]] = []
        gap_starts = [gap["start"] for gap in gaps]
        for seg in segments:
            if seg.status != STATUS_OK:
                continue
            if ranges and seg.start_ts - ranges[-1][1] <= CONTIGUOUS and not any(
                    ranges[-1][1] - CONTIGUOUS <= start <= seg.start_ts for start in gap_starts):
                ranges[-1][1] = max(ranges[-1][1], seg.end_ts)
            else:
                ranges.append([seg.start_ts, seg.end_ts])
        return {"camera": camera_id, "start": start, "end": end, "ranges": ranges,
                "segments": [seg.as_dict() for seg in segments], "gaps": gaps}

    async def async_segment_file(self, camera_id: str, segment_id: int) -> tuple[SegmentInfo, Path]:
        """A segment's file, verified against its indexed sha256. LookupError: unknown; ValueError: corrupt."""
        info = await get_recorder(self.hub).async_db_job(lambda s: index.get_segment(s, segment_id))
        if info is None or info.camera != camera_id:
            raise LookupError(f"no segment {segment_id} of camera {camera_id!r}")
        path = self.storage / info.path
        if info.status != STATUS_OK:
            raise ValueError(f"segment {segment_id} is corrupt and is not served")

        def _verify() -> str | None:
            try:
                return sha256_file(path)[0]
            except OSError:
                return None

        digest = await self.hub.async_add_executor_job(_verify)
        if digest != info.sha256:
            self.hub.bus.async_fire(EVENT_SEGMENT_CORRUPT, {"camera": camera_id, "segment_id": segment_id,
                                                            "reason": "missing" if digest is None else
                                                            "sha256 mismatch"})
            raise ValueError(f"segment {segment_id} does not match its recorded sha256 (missing or altered); "
                             "it is not served")
        return info, path

    # ------------------------------------------------------------------ services

    async def async_snapshot(self, camera_id: str, stream: str = "main", width: int | None = None) -> bytes:
        """One JPEG: the camera's `snapshot_url` answer when it has one (scaled by ffmpeg only for `width`),
        else a frame of the stream (ffmpeg in an executor). HubError when it fails."""
        camera = self.camera(camera_id)
        cfg = camera.config
        try:
            if cfg.snapshot_url:  # the camera's own JPEG: nothing to decode, and the stream may lack one
                jpeg = await fetch_snapshot(cfg.snapshot_url, cfg.username, cfg.password, cfg.unavailable_after)
                if not width:
                    return jpeg
                return await self.hub.async_add_executor_job(snapshot_jpeg, "", cfg.unavailable_after, width,
                                                              jpeg)
            url = cfg.url(stream, self.resolve_sim)
            return await self.hub.async_add_executor_job(snapshot_jpeg, url, cfg.unavailable_after, width)
        except OSError as err:
            raise HubError(f"camera {camera.config.id}: {err}") from err

    async def async_lock(self, camera_id: str, start: float, end: float, reference: str,
                         context: Context | None) -> int:
        """Keep a camera's recordings in [start, end] until released (audited)."""
        camera = self.camera(camera_id)
        if end <= start:
            raise ServiceValidationError("end must be after start")
        user_id = context.user_id if context is not None else None
        now = self.hub.clock.time()
        lock_id = await get_recorder(self.hub).async_db_job(
            lambda s: index.add_lock(s, camera.config.id, start, end, reference, user_id, now))
        data = {"lock_id": lock_id, "camera": camera.config.id, "start": start, "end": end, "reference": reference}
        audit_record(self.hub, "camera.lock", context=context, target=camera.entity_id, data=data)
        self.hub.bus.async_fire(EVENT_LOCK_CHANGED, {**data, "locked": True}, context=context)
        return lock_id

    async def async_unlock(self, lock_id: int, context: Context | None, why: str | None = None) -> dict[str, Any]:
        """Release an evidence lock (audited, with `why` when the hub releases it itself);
        ServiceValidationError when there is no such active lock."""
        now = self.hub.clock.time()
        released = await get_recorder(self.hub).async_db_job(lambda s: index.release_lock(s, lock_id, now))
        if released is None:
            raise ServiceValidationError(f"lock_id: no active lock {lock_id}")
        audit_record(self.hub, "camera.unlock", context=context, target=f"camera.{released['camera']}",
                     data={**released, "why": why} if why else released)
        self.hub.bus.async_fire(EVENT_LOCK_CHANGED, {**released, "locked": False}, context=context)
        return released

    def record_clip(self, camera_id: str, duration: float) -> dict[str, Any]:
        """Mark [now, now + duration] as wanted (event mode keeps it with its pre/post roll)."""
        camera = self.camera(camera_id)
        if camera.config.mode == MODE_OFF:
            raise ServiceValidationError(f"camera {camera.config.id}: recording is off (record.mode: off)")
        now = self.hub.clock.time()
        camera.add_window(now, now + duration)
        return {"camera": camera.config.id, "start": now - camera.config.pre_roll,
                "end": now + duration + camera.config.post_roll, "mode": camera.config.mode}
