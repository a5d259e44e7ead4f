"""What the ANPR integration writes to the recorder database: reads (batched, hashed unless a hit) and
hits with the operator's verdict; acceptance rates per camera and list; retention purges."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.core import Hub
from hub.exceptions import HubError, ServiceValidationError

from .models import AnprHit, AnprRead

__all__ = ["Hit", "HitLog", "ReadLog"]

_LOGGER = logging.getLogger(__name__)

STATUS_PENDING = "pending"
STATUS_ACCEPTED = "accepted"
STATUS_REJECTED = "rejected"


async def _async_db(hub: Hub, fn: Any) -> Any:
    """Run `fn(session)` in the recorder; None when there is no running recorder."""
    from hub.recorder import get_recorder

    try:
        recorder = get_recorder(hub)
    except HubError:
        return None
    if not recorder.is_running:
        return None
    return await recorder.async_db_job(fn)


@dataclass(slots=True)
class Hit:
    """A hotlist hit as the operator reviews it."""

    hit_id: str
    ts: float
    camera: str
    list_id: str
    entry_plate: str
    plate: str
    confidence: float
    distance: float
    status: str = STATUS_PENDING
    review_reason: str | None = None
    reviewed_by: str | None = None
    reviewed_ts: float | None = None
    crop_path: str | None = None
    frame_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"hit_id": self.hit_id, "ts": self.ts, "camera": self.camera, "list": self.list_id,
                "status": self.status, "reason": self.review_reason, "reviewed_by": self.reviewed_by}


@dataclass(slots=True)
class _Tally:
    accepted: int = 0
    rejected: int = 0
    pending: int = 0

    def as_dict(self) -> dict[str, Any]:
        reviewed = self.accepted + self.rejected
        rate = round(self.accepted / reviewed, 4) if reviewed else None
        return {"accepted": self.accepted, "rejected": self.rejected, "pending": self.pending,
                "acceptance_rate": rate}


@dataclass(slots=True)
class HitLog:
    """Recent hits in memory (for review), every hit in the database; tallies per camera and list."""

    hub: Hub
    hits: dict[str, Hit] = field(default_factory=dict)
    by_camera: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_list: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    max_in_memory: int = 5000

    def _count(self, hit: Hit, status: str, delta: int) -> None:
        for tally in (self.by_camera[hit.camera], self.by_list[hit.list_id]):
            setattr(tally, status, getattr(tally, status) + delta)

    async def async_load(self) -> None:
        """Tallies from the database (every hit kept under retention)."""
        def _load(session: Session) -> list[tuple[str, str, str, int]]:
            rows = session.execute(select(AnprHit.camera, AnprHit.list_id, AnprHit.status, func.count())
                                   .group_by(AnprHit.camera, AnprHit.list_id, AnprHit.status))
            return [(c, lst, s, int(n)) for c, lst, s, n in rows]

        try:
            rows = await _async_db(self.hub, _load) or []
        except HubError as err:
            _LOGGER.warning("anpr: cannot load hit statistics: %s", err)
            rows = []
        for camera, list_id, status, count in rows:
            if status in (STATUS_ACCEPTED, STATUS_REJECTED, STATUS_PENDING):
                setattr(self.by_camera[camera], status, getattr(self.by_camera[camera], status) + count)
                setattr(self.by_list[list_id], status, getattr(self.by_list[list_id], status) + count)

    async def async_add(self, hit: Hit) -> None:
        """Record a new hit (pending)."""
        self.hits[hit.hit_id] = hit
        self._count(hit, STATUS_PENDING, 1)
        while len(self.hits) > self.max_in_memory:
            self.hits.pop(next(iter(self.hits)))

        def _save(session: Session) -> None:
            session.add(AnprHit(hit_id=hit.hit_id, ts=hit.ts, camera=hit.camera, list_id=hit.list_id,
                                entry_plate=hit.entry_plate, plate=hit.plate, confidence=hit.confidence,
                                distance=hit.distance, status=hit.status, crop_path=hit.crop_path,
                                frame_path=hit.frame_path))

        try:
            await _async_db(self.hub, _save)
        except HubError as err:
            _LOGGER.warning("anpr: hit %s not stored: %s", hit.hit_id, err)

    async def async_review(self, hit_id: str, accepted: bool, reason: str | None, user: str | None) -> Hit:
        """The operator's verdict on a hit; a second verdict replaces the first."""
        hit = self.hits.get(hit_id)
        if hit is None:
            hit = await self._async_fetch(hit_id)
        if hit is None:
            raise ServiceValidationError(f"'hit_id': no hotlist hit {hit_id!r}")
        status = STATUS_ACCEPTED if accepted else STATUS_REJECTED
        self._count(hit, hit.status, -1)
        self._count(hit, status, 1)
        hit.status = status
        hit.review_reason = reason
        hit.reviewed_by = user
        hit.reviewed_ts = self.hub.clock.time()

        def _save(session: Session) -> None:
            row = session.get(AnprHit, hit_id)
            if row is not None:
                row.status = status
                row.review_reason = reason
                row.reviewed_by = user
                row.reviewed_ts = hit.reviewed_ts

        await _async_db(self.hub, _save)
        return hit

    async def async_get(self, hit_id: str) -> Hit | None:
        """A hit by id (memory, else the database), or None."""
        return self.hits.get(hit_id) or await self._async_fetch(hit_id)

    async def _async_fetch(self, hit_id: str) -> Hit | None:
        def _get(session: Session) -> Hit | None:
            row = session.get(AnprHit, hit_id)
            if row is None:
                return None
            return Hit(row.hit_id, row.ts, row.camera, row.list_id, row.entry_plate, row.plate, row.confidence,
                       row.distance, row.status, row.review_reason, row.reviewed_by, row.reviewed_ts,
                       row.crop_path, row.frame_path)

        hit: Hit | None = await _async_db(self.hub, _get)
        if hit is not None:
            self.hits[hit_id] = hit
        return hit

    def stats(self) -> dict[str, Any]:
        """Acceptance per camera and per list."""
        return {"by_camera": {k: v.as_dict() for k, v in sorted(self.by_camera.items())},
                "by_list": {k: v.as_dict() for k, v in sorted(self.by_list.items())}}

    async def async_purge(self, older_than_ts: float) -> int:
        """Delete hits older than the retention."""
        for hit_id in [h for h, hit in self.hits.items() if hit.ts < older_than_ts]:
            self.hits.pop(hit_id)

        def _delete(session: Session) -> int:
            result: Any = session.execute(delete(AnprHit).where(AnprHit.ts < older_than_ts))
            return int(result.rowcount or 0)

        return int(await _async_db(self.hub, _delete) or 0)


@dataclass(slots=True)
class ReadLog:
    """Reads waiting to be written (flushed in one database job)."""

    hub: Hub
    pending: list[dict[str, Any]] = field(default_factory=list)
    written: int = 0

    def add(self, **row: Any) -> None:
        self.pending.append(row)

    async def async_flush(self) -> int:
        rows, self.pending = self.pending, []
        if not rows:
            return 0

        def _save(session: Session) -> None:
            session.add_all(AnprRead(**row) for row in rows)

        try:
            await _async_db(self.hub, _save)
        except HubError as err:
            _LOGGER.warning("anpr: %d reads not stored: %s", len(rows), err)
            return 0
        self.written += len(rows)
        return len(rows)

    async def async_purge(self, non_hits_before: float, hits_before: float) -> int:
        """Delete non-hit reads older than their retention, and hit reads older than theirs."""
        def _delete(session: Session) -> int:
            a: Any = session.execute(delete(AnprRead).where(AnprRead.hit.is_(False),
                                                            AnprRead.ts < non_hits_before))
            b: Any = session.execute(delete(AnprRead).where(AnprRead.hit.is_(True), AnprRead.ts < hits_before))
            return int((a.rowcount or 0) + (b.rowcount or 0))

        return int(await _async_db(self.hub, _delete) or 0)

    async def async_query(self, plate_hash: str) -> list[dict[str, Any]]:
        """Stored reads of one hashed plate (what an investigator can ask for, given the plate)."""
        def _get(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(select(AnprRead).where(AnprRead.plate_hash == plate_hash)
                                   .order_by(AnprRead.ts))
            return [{"ts": r.ts, "camera": r.camera, "plate": r.plate, "hit": r.hit, "direction": r.direction,
                     "lane": r.lane, "confidence": r.confidence} for r in rows]

        return list(await _async_db(self.hub, _get) or [])
