"""The `alarms` and `alarm_timeline` tables (recorder revision 0200)."""

from __future__ import annotations

from sqlalchemy import Boolean, Double, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = ["AlarmRow", "AlarmTimelineRow"]


class AlarmRow(Base):
    """One alarm as it stands now (rewritten on every change); `entities`, `data`, `sop` are JSON."""

    __tablename__ = "alarms"

    alarm_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(Text)
    centre: Mapped[str] = mapped_column(String, index=True)
    shared: Mapped[bool] = mapped_column(Boolean)
    source_event: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(255))
    source_context_id: Mapped[str | None] = mapped_column(String)
    entities: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    area_id: Mapped[str | None] = mapped_column(String)
    assignee: Mapped[str | None] = mapped_column(String)
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    occurrences: Mapped[int] = mapped_column(Integer)
    escalation_level: Mapped[int] = mapped_column(SmallInteger)
    resolve_escalated: Mapped[bool] = mapped_column(Boolean)
    raised_ts: Mapped[float] = mapped_column(Double, index=True)
    acknowledged_ts: Mapped[float | None] = mapped_column(Double)
    started_ts: Mapped[float | None] = mapped_column(Double)
    resolved_ts: Mapped[float | None] = mapped_column(Double)
    closed_ts: Mapped[float | None] = mapped_column(Double)
    cleared_ts: Mapped[float | None] = mapped_column(Double)
    updated_ts: Mapped[float] = mapped_column(Double)
    data: Mapped[str] = mapped_column(Text)
    sop: Mapped[str] = mapped_column(Text)


class AlarmTimelineRow(Base):
    """One thing that happened to an alarm: raised, acknowledged, a note, a step done or skipped..."""

    __tablename__ = "alarm_timeline"

    timeline_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[str] = mapped_column(String(32), ForeignKey("alarms.alarm_id"), index=True)
    time_ts: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String)
    centre: Mapped[str | None] = mapped_column(String)
    context_id: Mapped[str | None] = mapped_column(String)
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str | None] = mapped_column(Text)
