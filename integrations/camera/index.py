"""The segment index in the recorder database: blocking functions run by `recorder.async_db_job`.

Each takes the recorder's session (inside its transaction). Nothing here touches files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from .models import CameraGapRow, CameraLockRow, CameraSegmentRow

__all__ = [
    "STATUS_CORRUPT",
    "STATUS_OK",
    "SegmentInfo",
    "active_locks",
    "add_lock",
    "add_segments",
    "close_gaps",
    "delete_segments",
    "expired_segments",
    "get_segment",
    "oldest_unlocked",
    "open_gap",
    "query_range",
    "release_lock",
    "total_bytes",
]

STATUS_OK = "ok"
STATUS_CORRUPT = "corrupt"


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """One indexed segment (detached from the session)."""

    segment_id: int
    camera: str
    start_ts: float
    end_ts: float
    path: str
    bytes: int
    keyframe: bool
    sha256: str
    status: str

    @classmethod
    def from_row(cls, row: CameraSegmentRow) -> SegmentInfo:
        """Copy a row."""
        return cls(row.segment_id, row.camera, row.start_ts, row.end_ts, row.path, row.bytes, row.keyframe,
                   row.sha256, row.status)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (the REST API's shape; the path stays private)."""
        return {"id": self.segment_id, "camera": self.camera, "start": self.start_ts, "end": self.end_ts,
                "bytes": self.bytes, "keyframe": self.keyframe, "sha256": self.sha256, "status": self.status}


def add_segments(session: Session, infos: Sequence[dict[str, Any]]) -> list[int]:
    """Index finished segments (one flush: the rows go in as one batched insert); their ids, in order."""
    rows = [CameraSegmentRow(**info) for info in infos]
    session.add_all(rows)
    session.flush()
    return [row.segment_id for row in rows]


def open_gap(session: Session, camera: str, start_ts: float, reason: str) -> int:
    """Record the start of a gap (unless one is open already); returns the open gap's id."""
    existing = session.scalars(select(CameraGapRow).where(CameraGapRow.camera == camera,
                                                          CameraGapRow.end_ts.is_(None))).first()
    if existing is not None:
        return existing.gap_id
    row = CameraGapRow(camera=camera, start_ts=start_ts, end_ts=None, reason=reason[:500])
    session.add(row)
    session.flush()
    return row.gap_id


def close_gaps(session: Session, camera: str, end_ts: float) -> int:
    """Close the camera's open gap at `end_ts` (recording resumed; never before the gap's start)."""
    rows = session.scalars(select(CameraGapRow).where(CameraGapRow.camera == camera,
                                                      CameraGapRow.end_ts.is_(None))).all()
    for row in rows:
        row.end_ts = max(end_ts, row.start_ts)
    return len(rows)


def query_range(session: Session, camera: str, start_ts: float, end_ts: float,
                limit: int = 5000) -> tuple[list[SegmentInfo], list[dict[str, Any]]]:
    """Segments and gaps of a camera overlapping [start, end], oldest first."""
    segments = session.scalars(
        select(CameraSegmentRow).where(CameraSegmentRow.camera == camera, CameraSegmentRow.end_ts > start_ts,
                                       CameraSegmentRow.start_ts < end_ts)
        .order_by(CameraSegmentRow.start_ts).limit(limit)).all()
    gaps = session.scalars(
        select(CameraGapRow).where(CameraGapRow.camera == camera, CameraGapRow.start_ts < end_ts,
                                   or_(CameraGapRow.end_ts.is_(None), CameraGapRow.end_ts > start_ts))
        .order_by(CameraGapRow.start_ts)).all()
    return ([SegmentInfo.from_row(row) for row in segments],
            [{"start": gap.start_ts, "end": gap.end_ts, "reason": gap.reason} for gap in gaps])


def get_segment(session: Session, segment_id: int) -> SegmentInfo | None:
    """One segment by id."""
    row = session.get(CameraSegmentRow, segment_id)
    return SegmentInfo.from_row(row) if row is not None else None


def _unlocked() -> Any:
    """SQL condition: no active lock of the segment's camera overlaps it."""
    locks = select(CameraLockRow.lock_id).where(
        CameraLockRow.camera == CameraSegmentRow.camera, CameraLockRow.released_ts.is_(None),
        CameraLockRow.start_ts < CameraSegmentRow.end_ts, CameraLockRow.end_ts > CameraSegmentRow.start_ts)
    return ~locks.exists()


def expired_segments(session: Session, camera: str, before_ts: float, limit: int = 1000) -> list[SegmentInfo]:
    """Unlocked segments of a camera that ended before `before_ts`, oldest first."""
    rows = session.scalars(select(CameraSegmentRow).where(
        CameraSegmentRow.camera == camera, CameraSegmentRow.end_ts < before_ts, _unlocked())
        .order_by(CameraSegmentRow.start_ts).limit(limit)).all()
    return [SegmentInfo.from_row(row) for row in rows]


def oldest_unlocked(session: Session, limit: int) -> list[SegmentInfo]:
    """The oldest unlocked segments of every camera (the watermark's victims)."""
    rows = session.scalars(select(CameraSegmentRow).where(_unlocked())
                           .order_by(CameraSegmentRow.start_ts).limit(limit)).all()
    return [SegmentInfo.from_row(row) for row in rows]


def total_bytes(session: Session) -> int:
    """Bytes of every indexed segment."""
    return int(session.scalar(select(func.coalesce(func.sum(CameraSegmentRow.bytes), 0))) or 0)


def delete_segments(session: Session, segment_ids: Sequence[int]) -> int:
    """Remove segments from the index (after their files are gone); how many."""
    if not segment_ids:
        return 0
    result = session.execute(delete(CameraSegmentRow).where(CameraSegmentRow.segment_id.in_(list(segment_ids))))
    return int(getattr(result, "rowcount", 0) or 0)


def add_lock(session: Session, camera: str, start_ts: float, end_ts: float, reference: str,
             user_id: str | None, now: float) -> int:
    """An evidence lock; returns its id."""
    row = CameraLockRow(camera=camera, start_ts=start_ts, end_ts=end_ts, reference=reference[:255],
                        user_id=user_id, created_ts=now, released_ts=None)
    session.add(row)
    session.flush()
    return row.lock_id


def release_lock(session: Session, lock_id: int, now: float) -> dict[str, Any] | None:
    """Release an active lock; its data, or None when there is no such active lock."""
    row = session.scalars(select(CameraLockRow).where(and_(CameraLockRow.lock_id == lock_id,
                                                           CameraLockRow.released_ts.is_(None)))).first()
    if row is None:
        return None
    row.released_ts = now
    return {"lock_id": row.lock_id, "camera": row.camera, "start": row.start_ts, "end": row.end_ts,
            "reference": row.reference}


def active_locks(session: Session, prefix: str) -> list[dict[str, Any]]:
    """Active locks whose reference starts with `prefix` (id, camera, reference)."""
    rows = session.scalars(select(CameraLockRow).where(CameraLockRow.released_ts.is_(None),
                                                       CameraLockRow.reference.startswith(prefix, autoescape=True))
                           .order_by(CameraLockRow.lock_id)).all()
    return [{"lock_id": row.lock_id, "camera": row.camera, "reference": row.reference} for row in rows]
