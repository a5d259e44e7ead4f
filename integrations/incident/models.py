"""Incident tables in the recorder database (revision r0600_incidents, in its own migrations folder):
incidents and their timeline items."""

from __future__ import annotations

from sqlalchemy import Boolean, Double, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = ["IncidentItemRow", "IncidentRow"]


class IncidentRow(Base):
    """One incident: what happened, who owns it, where it stands, which centre it belongs to."""

    __tablename__ = "incidents"

    incident_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    centre: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(255))
    shared: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_ts: Mapped[float] = mapped_column(Double, index=True)
    updated_ts: Mapped[float] = mapped_column(Double)


class IncidentItemRow(Base):
    """One entry of an incident's timeline: a note, a linked alarm or plate read, a document, a change."""

    __tablename__ = "incident_items"
    __table_args__ = (Index("ix_incident_items_incident_id_ts", "incident_id", "ts"),)

    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(36))
    ts: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    file_path: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(255))
