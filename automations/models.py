"""Database tables of the automation engine: kept traces and durable records (waiting runs, `for:` timers)."""

from __future__ import annotations

from sqlalchemy import Boolean, Double, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = ["AutomationDurable", "AutomationTrace"]


class AutomationTrace(Base):
    """One finished run's trace (compact JSON), kept per automation like the in-memory store."""

    __tablename__ = "automation_traces"

    trace_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    run_id: Mapped[str] = mapped_column(String(64), nullable=False)
    is_error: Mapped[bool] = mapped_column(Boolean, nullable=False)
    start_ts: Mapped[float] = mapped_column(Double, nullable=False)
    blob: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    __table_args__ = (Index("ix_automation_traces_key", "key"),)


class AutomationDurable(Base):
    """Something that must survive a restart: a run waiting in a delay/wait, or a pending `for:`."""

    __tablename__ = "automation_durable"

    record_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    owner: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    deadline: Mapped[float | None] = mapped_column(Double)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    updated_ts: Mapped[float] = mapped_column(Double, nullable=False)

    __table_args__ = (Index("ix_automation_durable_owner", "owner"),)
