"""The alarm integration as an evidence provider (hub.evidence.providers): what an alarm holds, for exports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core import Hub

from .manager import get_manager
from .models import AlarmRow, AlarmTimelineRow
from .store import alarm_from_row

__all__ = ["async_get_alarm", "load_alarm"]


def load_alarm(session: Session, alarm_id: str) -> dict[str, Any] | None:
    """An alarm with its SOP and timeline straight from the database (the CLI, without a running hub)."""
    alarms, timeline = AlarmRow.__table__, AlarmTimelineRow.__table__
    row = session.execute(select(alarms).where(alarms.c.alarm_id == alarm_id)).first()
    if row is None:
        return None
    entries = session.execute(select(timeline).where(timeline.c.alarm_id == alarm_id)
                              .order_by(timeline.c.timeline_id)).all()
    return alarm_from_row(row, entries).as_dict(full=True)


async def async_get_alarm(hub: Hub, alarm_id: str) -> dict[str, Any] | None:
    """An alarm of the running hub, or None."""
    manager = get_manager(hub)
    if manager is None:
        return None
    alarm = await manager.async_get(alarm_id)
    return None if alarm is None else alarm.as_dict(full=True)
