"""ANPR tables in the recorder database (revision r0100_anpr): hotlist entries, reads and hits."""

from __future__ import annotations

from sqlalchemy import Boolean, Double, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = ["AnprHit", "AnprHotlistEntry", "AnprRead"]


class AnprHotlistEntry(Base):
    """One plate on one list, with why it is there, who said so and until when."""

    __tablename__ = "anpr_hotlist_entries"
    __table_args__ = (UniqueConstraint("list_id", "plate"),)

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(128))
    expires_ts: Mapped[float | None] = mapped_column(Double)
    created_ts: Mapped[float] = mapped_column(Double)
    updated_ts: Mapped[float] = mapped_column(Double)


class AnprRead(Base):
    """One vehicle pass at a camera. `plate` is set only for hits; every read has the keyed hash."""

    __tablename__ = "anpr_reads"
    __table_args__ = (Index("ix_anpr_reads_plate_hash_ts", "plate_hash", "ts"),)

    read_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[float] = mapped_column(Double, index=True)
    camera: Mapped[str] = mapped_column(String(64))
    plate_hash: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str | None] = mapped_column(String(16))
    hit: Mapped[bool] = mapped_column(Boolean)
    direction: Mapped[str | None] = mapped_column(String(16))
    lane: Mapped[int | None] = mapped_column(SmallInteger)
    confidence: Mapped[float] = mapped_column(Double)


class AnprHit(Base):
    """A hotlist hit, its evidence and the operator's verdict."""

    __tablename__ = "anpr_hits"

    hit_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[float] = mapped_column(Double, index=True)
    camera: Mapped[str] = mapped_column(String(64))
    list_id: Mapped[str] = mapped_column(String(64))
    entry_plate: Mapped[str] = mapped_column(String(16))
    plate: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Double)
    distance: Mapped[float] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16))
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(255))
    reviewed_ts: Mapped[float | None] = mapped_column(Double)
    crop_path: Mapped[str | None] = mapped_column(Text)
    frame_path: Mapped[str | None] = mapped_column(Text)
