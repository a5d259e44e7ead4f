"""The camera integration's tables: recorded segments, recording gaps and evidence locks.

Created by `integrations/camera/migrations/r0500_camera.py` (the integration's own revision folder).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Double, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = ["CameraGapRow", "CameraLockRow", "CameraSegmentRow"]


class CameraSegmentRow(Base):
    """One finished fragmented-MP4 segment on disk; `path` is relative to the storage folder."""

    __tablename__ = "camera_segments"
    __table_args__ = (Index("ix_camera_segments_camera_start_ts", "camera", "start_ts"),)

    segment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(64))
    start_ts: Mapped[float] = mapped_column(Double)
    end_ts: Mapped[float] = mapped_column(Double)
    path: Mapped[str] = mapped_column(String(512), unique=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    keyframe: Mapped[bool] = mapped_column(Boolean)  # starts with a keyframe (plays on its own)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # ok | corrupt | deleted


class CameraGapRow(Base):
    """A time without recording while the camera was meant to record; `end_ts` None while it lasts."""

    __tablename__ = "camera_gaps"
    __table_args__ = (Index("ix_camera_gaps_camera_start_ts", "camera", "start_ts"),)

    gap_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(64))
    start_ts: Mapped[float] = mapped_column(Double)
    end_ts: Mapped[float | None] = mapped_column(Double)
    reason: Mapped[str] = mapped_column(Text)


class CameraLockRow(Base):
    """An evidence lock: segments of `camera` overlapping [start, end] are kept until it is released."""

    __tablename__ = "camera_locks"
    __table_args__ = (Index("ix_camera_locks_camera", "camera"),)

    lock_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(64))
    start_ts: Mapped[float] = mapped_column(Double)
    end_ts: Mapped[float] = mapped_column(Double)
    reference: Mapped[str] = mapped_column(String(255))  # "alarm:<id>", "export:<id>", free text
    user_id: Mapped[str | None] = mapped_column(String)
    created_ts: Mapped[float] = mapped_column(Double)
    released_ts: Mapped[float | None] = mapped_column(Double)
