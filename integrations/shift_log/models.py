"""Shift log table in the recorder database (revision r0610_shift_log, in its own migrations folder)."""

from __future__ import annotations

from sqlalchemy import Double, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = ["ShiftLogEntry"]


class ShiftLogEntry(Base):
    """One entry of a centre's shift log: a note, a hand-over (with its summary) or its acknowledgement."""

    __tablename__ = "shift_log"
    __table_args__ = (Index("ix_shift_log_centre_ts", "centre", "ts"),)

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre: Mapped[str] = mapped_column(String(64))
    shift: Mapped[str] = mapped_column(String(32))
    ts: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[int | None] = mapped_column(Integer)
