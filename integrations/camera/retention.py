"""Retention of recordings: per-camera days (at most 30), a disk high-watermark, evidence locks respected.

A pass deletes, per camera, unlocked segments older than its `retention_days`; then, while the
indexed bytes exceed `max_bytes` (or the disk's free space is under `min_free_bytes`), the oldest
unlocked segments of any camera until the total is under `low_watermark * max_bytes`. Locked
segments (an active lock overlapping them) are never deleted. Files go first, then their rows (a
crash in between leaves rows whose files are gone, which playback refuses by their hash and the
next pass removes); every pass that deleted something writes one audit entry.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from hub.audit import audit_record
from hub.exceptions import HubError
from hub.recorder import get_recorder

from . import index
from .index import SegmentInfo

if TYPE_CHECKING:
    from .manager import CameraManager

__all__ = ["Retention"]

_LOGGER = logging.getLogger(__name__)
_BATCH = 500


def _expired(session: Session, *, camera: str, before: float) -> list[SegmentInfo]:
    return index.expired_segments(session, camera, before, _BATCH)


def _enough(segments: list[SegmentInfo], excess: int) -> list[SegmentInfo]:
    """The oldest of `segments` whose bytes cover `excess` (all of them if they do not)."""
    chosen: list[SegmentInfo] = []
    freed = 0
    for segment in segments:
        if freed >= excess:
            break
        chosen.append(segment)
        freed += segment.bytes
    return chosen


class Retention:
    """Deletes what the law and the disk say must go."""

    def __init__(self, manager: CameraManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.bytes: int | None = None  # indexed bytes after the last pass
        self.deleted = 0
        self._running = False

    def over_watermark(self) -> bool:
        """Whether the last known total is above `max_bytes`."""
        limit = self.manager.config.get("max_bytes")
        return limit is not None and self.bytes is not None and self.bytes > limit

    def _remove_files(self, segments: Sequence[SegmentInfo]) -> list[int]:
        gone: list[int] = []
        for segment in segments:
            path = self.manager.storage / segment.path
            try:
                path.unlink(missing_ok=True)
            except OSError as err:
                _LOGGER.error("Cannot delete %s: %s", path, err)
                continue
            gone.append(segment.segment_id)
        return gone

    async def async_delete(self, segments: Sequence[SegmentInfo], why: str) -> int:
        """Delete segments' files, then their rows; how many went."""
        if not segments:
            return 0
        gone = await self.hub.async_add_executor_job(self._remove_files, list(segments))
        deleted = await get_recorder(self.hub).async_db_job(lambda s: index.delete_segments(s, gone))
        self.deleted += deleted
        _LOGGER.debug("Deleted %d recording segments (%s)", deleted, why)
        return deleted

    def _disk_short(self) -> bool:
        try:
            return shutil.disk_usage(self.manager.storage).free < self.manager.config["min_free_bytes"]
        except OSError:
            return False

    async def async_run(self) -> dict[str, Any]:
        """One pass; returns what it deleted and the bytes left."""
        if self._running:
            return {"skipped": True}
        self._running = True
        try:
            return await self._async_run()
        except HubError as err:
            _LOGGER.error("Recording retention pass failed: %s", err)
            return {"error": str(err)}
        finally:
            self._running = False

    async def _async_run(self) -> dict[str, Any]:
        recorder = get_recorder(self.hub)
        if self.manager.clips is not None:  # an export's zip gone: its segments are no longer evidence
            await self.manager.clips.async_release_orphans()
        now = self.hub.clock.time()
        expired = 0
        for camera in self.manager.cameras.values():
            before = now - camera.config.retention_days * 86400
            job = functools.partial(_expired, camera=camera.config.id, before=before)
            while batch := await recorder.async_db_job(job):
                deleted = await self.async_delete(batch, "retention days")
                expired += deleted
                if deleted < len(batch):
                    break
        limit = self.manager.config.get("max_bytes")
        total = await recorder.async_db_job(index.total_bytes)
        watermark = 0
        target = int(limit * self.manager.config["low_watermark"]) if limit is not None else None
        disk_short = await self.hub.async_add_executor_job(self._disk_short)
        if disk_short or (limit is not None and total > limit):
            while disk_short or (target is not None and total > target):
                victims = await recorder.async_db_job(lambda s: index.oldest_unlocked(s, 50))
                if target is not None and not disk_short:
                    victims = _enough(victims, total - target)
                if not victims:
                    _LOGGER.error("Video storage over its limit and every remaining segment is locked")
                    break
                deleted = await self.async_delete(victims, "disk watermark")
                if not deleted:
                    break
                watermark += deleted
                total = await recorder.async_db_job(index.total_bytes)
                if disk_short:
                    disk_short = await self.hub.async_add_executor_job(self._disk_short)
        self.bytes = total
        if expired or watermark:
            audit_record(self.hub, "camera.retention", target="camera",
                         data={"expired": expired, "watermark": watermark, "bytes_left": total})
        return {"expired": expired, "watermark": watermark, "bytes": total}
