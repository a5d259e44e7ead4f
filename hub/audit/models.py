"""The `audit_log` table (revision 0200): one hash-chained row per audited action."""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..recorder.models import Base

__all__ = ["AuditEntry"]


class AuditEntry(Base):
    """An audited action. `hash` is SHA-256 over the canonical JSON of the other columns and
    `prev_hash` (the previous row's hash), so changing or removing a row breaks the chain."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time_ts: Mapped[float] = mapped_column(Double, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String, index=True)
    centre: Mapped[str | None] = mapped_column(String)
    context_id: Mapped[str | None] = mapped_column(String)
    target: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
