"""Alarms in the recorder database: changes written in order by one writer, loaded back at start, queried.

Every change queues the alarm's new row and its new timeline entries; one writer task sends them
through `get_recorder(hub).async_db_job` (an alarm row upserted, then its timeline rows added).
While the database is unavailable they wait in memory and are retried; a clean stop writes them
before the recorder closes, so nothing is lost across a restart.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import statistics
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, cast

import orjson
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from hub.const import EVENT_HUB_STOP
from hub.core import CALLBACK_TYPE, Event, callback
from hub.recorder.durable import CommitTracker

from .const import PURGE_BATCH, AlarmState, Severity
from .model import Alarm, StepProgress, TimelineEntry
from .models import AlarmRow, AlarmTimelineRow

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["AlarmStore", "alarm_from_row", "alarm_to_row", "summarize_times"]

_LOGGER = logging.getLogger(__name__)

RETRY_DELAY: Final = 5.0
_ALARMS = cast(Table, AlarmRow.__table__)
_TIMELINE = cast(Table, AlarmTimelineRow.__table__)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def alarm_to_row(alarm: Alarm) -> dict[str, Any]:
    """The `alarms` row of an alarm."""
    return {
        "alarm_id": alarm.id, "type": alarm.type, "severity": alarm.severity.value, "state": alarm.state.value,
        "title": alarm.title[:255], "message": alarm.message, "centre": alarm.centre, "shared": alarm.shared,
        "source_event": alarm.source_event, "source": alarm.source, "source_context_id": alarm.source_context_id,
        "entities": _dumps(list(alarm.entities)), "latitude": alarm.latitude, "longitude": alarm.longitude,
        "area_id": alarm.area_id, "assignee": alarm.assignee, "dedup_key": alarm.dedup_key,
        "occurrences": alarm.occurrences, "escalation_level": alarm.escalation_level,
        "resolve_escalated": alarm.resolve_escalated, "raised_ts": alarm.raised_ts,
        "acknowledged_ts": alarm.acknowledged_ts, "started_ts": alarm.started_ts,
        "resolved_ts": alarm.resolved_ts, "closed_ts": alarm.closed_ts, "cleared_ts": alarm.cleared_ts,
        "updated_ts": alarm.updated_ts, "data": _dumps(alarm.data),
        "sop": _dumps([progress.as_dict() for progress in alarm.steps]),
    }


def _timeline_row(alarm_id: str, entry: TimelineEntry) -> dict[str, Any]:
    return {"alarm_id": alarm_id, "time_ts": entry.time_ts, "kind": entry.kind, "user_id": entry.user_id,
            "centre": entry.centre, "context_id": entry.context_id, "text": entry.text,
            "data": _dumps(entry.data) if entry.data is not None else None}


def alarm_from_row(row: Any, timeline: Iterable[Any] = ()) -> Alarm:
    """Rebuild an alarm from its row and its timeline rows (oldest first)."""
    return Alarm(
        id=row.alarm_id, type=row.type, severity=Severity(row.severity), state=AlarmState(row.state),
        title=row.title, message=row.message, centre=row.centre, shared=bool(row.shared),
        source_event=row.source_event, source=row.source, source_context_id=row.source_context_id,
        entities=tuple(orjson.loads(row.entities or "[]")), latitude=row.latitude, longitude=row.longitude,
        area_id=row.area_id, assignee=row.assignee, dedup_key=row.dedup_key, occurrences=row.occurrences,
        escalation_level=row.escalation_level, resolve_escalated=bool(row.resolve_escalated),
        raised_ts=row.raised_ts, acknowledged_ts=row.acknowledged_ts, started_ts=row.started_ts,
        resolved_ts=row.resolved_ts, closed_ts=row.closed_ts, cleared_ts=row.cleared_ts,
        updated_ts=row.updated_ts, data=orjson.loads(row.data or "{}"),
        steps=[StepProgress.from_dict(item) for item in orjson.loads(row.sop or "[]")],
        timeline=[TimelineEntry(t.time_ts, t.kind, t.user_id, t.centre, t.context_id, t.text,
                                orjson.loads(t.data) if t.data else None) for t in timeline],
    )


# --------------------------------------------------------------------------- jobs (recorder thread)


def _write(session: Session, rows: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> None:
    """Upsert alarm rows and add timeline rows: one executemany per kind (a batch holds many alarms)."""
    ids = [row["alarm_id"] for row in rows]
    stored: set[str] = set()
    for start in range(0, len(ids), 500):
        stored.update(session.scalars(select(_ALARMS.c.alarm_id).where(_ALARMS.c.alarm_id.in_(ids[start:start + 500]))))
    new = [row for row in rows if row["alarm_id"] not in stored]
    changed = [{**row, "b_alarm_id": row["alarm_id"]} for row in rows if row["alarm_id"] in stored]
    if new:
        session.execute(insert(_ALARMS), new)
    if changed:
        session.execute(update(_ALARMS).where(_ALARMS.c.alarm_id == bindparam("b_alarm_id")), changed)
    if timeline:
        session.execute(insert(_TIMELINE), timeline)


def _load(session: Session, where: Any) -> list[Alarm]:
    rows = session.execute(select(_ALARMS).where(where).order_by(_ALARMS.c.raised_ts)).all()
    if not rows:
        return []
    ids = [row.alarm_id for row in rows]
    timelines: dict[str, list[Any]] = {alarm_id: [] for alarm_id in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        query = select(_TIMELINE).where(_TIMELINE.c.alarm_id.in_(chunk)).order_by(_TIMELINE.c.timeline_id)
        for item in session.execute(query):
            timelines[item.alarm_id].append(item)
    return [alarm_from_row(row, timelines[row.alarm_id]) for row in rows]


def _query(session: Session, centre: str | None, state: str | None, since: float | None,
           until: float | None, limit: int) -> list[Alarm]:
    statement = select(_ALARMS)
    if centre is not None:
        statement = statement.where(_ALARMS.c.centre == centre)
    if state is not None:
        statement = statement.where(_ALARMS.c.state == state)
    if since is not None:
        statement = statement.where(_ALARMS.c.raised_ts >= since)
    if until is not None:
        statement = statement.where(_ALARMS.c.raised_ts < until)
    statement = statement.order_by(_ALARMS.c.raised_ts.desc()).limit(limit)
    return [alarm_from_row(row) for row in session.execute(statement)]


def summarize_times(values: list[float]) -> dict[str, float | int | None]:
    """count, mean, median, p90 and max of durations in seconds."""
    if not values:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered)) - 1))]
    return {"count": len(ordered), "mean": statistics.fmean(ordered), "median": statistics.median(ordered),
            "p90": p90, "max": ordered[-1]}


def _stats(session: Session, alarm_type: str | None, centre: str | None, since: float | None,
           sla: dict[str, tuple[float, float]]) -> dict[str, Any]:
    columns = (_ALARMS.c.type, _ALARMS.c.raised_ts, _ALARMS.c.acknowledged_ts, _ALARMS.c.started_ts,
               _ALARMS.c.resolved_ts)
    statement = select(*columns)
    if alarm_type is not None:
        statement = statement.where(_ALARMS.c.type == alarm_type)
    if centre is not None:
        statement = statement.where(_ALARMS.c.centre == centre)
    if since is not None:
        statement = statement.where(_ALARMS.c.raised_ts >= since)
    per_type: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, int] = {}
    for kind, raised, acknowledged, started, resolved in session.execute(statement):
        times = per_type.setdefault(kind, {"response": [], "resolution": []})
        counts[kind] = counts.get(kind, 0) + 1
        first = acknowledged if acknowledged is not None else started
        if first is not None:
            times["response"].append(first - raised)
        if resolved is not None:
            times["resolution"].append(resolved - raised)
    result: dict[str, Any] = {}
    for kind, times in sorted(per_type.items()):
        ack_sla, resolve_sla = sla.get(kind, (None, None))
        result[kind] = {
            "alarms": counts[kind],
            "response_seconds": summarize_times(times["response"]),
            "resolution_seconds": summarize_times(times["resolution"]),
            "response_sla_breaches": sum(1 for t in times["response"] if ack_sla is not None and t > ack_sla),
            "resolution_sla_breaches": sum(1 for t in times["resolution"]
                                           if resolve_sla is not None and t > resolve_sla),
        }
    return result


# --------------------------------------------------------------------------- the store


def _purge_closed(session: Session, before_ts: float, batch: int) -> int:
    """Delete up to `batch` alarms closed before `before_ts`, timelines first; how many went."""
    ids = list(session.scalars(
        select(_ALARMS.c.alarm_id)
        .where(_ALARMS.c.state == AlarmState.CLOSED.value, _ALARMS.c.closed_ts < before_ts)
        .limit(batch)))
    if ids:
        session.execute(delete(_TIMELINE).where(_TIMELINE.c.alarm_id.in_(ids)))
        session.execute(delete(_ALARMS).where(_ALARMS.c.alarm_id.in_(ids)))
    return len(ids)


class AlarmStore:
    """Writes alarm changes in order and reads alarms back; needs the recorder."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._rows: dict[str, dict[str, Any]] = {}  # latest row per alarm, insertion ordered
        self._timeline: list[dict[str, Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self._retry: CALLBACK_TYPE | None = None
        self._failure_logged = False
        self.commits = CommitTracker(hub, "alarm change")
        self._unsub_stop: CALLBACK_TYPE | None = hub.bus.async_listen_once(EVENT_HUB_STOP, self._async_on_stop)

    @property
    def pending(self) -> int:
        """Alarm rows and timeline entries not yet written."""
        return len(self._rows) + len(self._timeline)

    @callback
    def schedule(self, alarm: Alarm, entries: Iterable[TimelineEntry] = ()) -> int:
        """Queue the alarm's current row and its new timeline entries; returns the change's sequence
        number for `async_wait_stored`."""
        seq = self.commits.queued()
        self._rows.pop(alarm.id, None)  # keep write order: an alarm's row goes after older ones
        self._rows[alarm.id] = alarm_to_row(alarm)
        self._timeline.extend(_timeline_row(alarm.id, entry) for entry in entries)
        if self._writer is None or self._writer.done():
            self._writer = self.hub.async_create_task(self._async_write(), "alarm store write")
        return seq

    async def async_wait_stored(self, seq: int | None = None) -> None:
        """Return once change `seq` (default: every change queued so far) is committed; NotStoredError
        when the database does not take it in time (it stays queued)."""
        await self.commits.async_wait(seq)

    async def _async_write(self) -> None:
        from hub.recorder import get_recorder

        while self._rows or self._timeline:
            upto = self.commits.last_queued  # this batch holds every change queued so far
            rows, self._rows = self._rows, {}
            timeline, self._timeline = self._timeline, []
            row_list = list(rows.values())
            try:
                await get_recorder(self.hub).async_db_job(
                    functools.partial(_write, rows=row_list, timeline=timeline))
            except Exception as err:  # database down: keep them (newer rows win), try again later
                for alarm_id, row in rows.items():
                    self._rows.setdefault(alarm_id, row)
                self._timeline[:0] = timeline
                if not self._failure_logged:
                    self._failure_logged = True
                    _LOGGER.error("Cannot store alarm changes (kept, retrying): %s", err)
                self._schedule_retry()
                return
            self.commits.committed(upto)
            if self._failure_logged:
                self._failure_logged = False
                _LOGGER.info("Alarm changes stored again")

    def _schedule_retry(self) -> None:
        if self._retry is not None or self.hub.is_stopping:
            return

        def _again() -> None:
            self._retry = None
            if self._writer is None or self._writer.done():
                self._writer = self.hub.async_create_task(self._async_write(), "alarm store write")

        self._retry = self.hub.clock.call_later(RETRY_DELAY, _again).cancel

    async def async_flush(self) -> None:
        """Wait until every queued change is written (or the write failed)."""
        if (self._rows or self._timeline) and (self._writer is None or self._writer.done()):
            self._writer = self.hub.async_create_task(self._async_write(), "alarm store write")
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _async_on_stop(self, _event: Event) -> None:
        self._unsub_stop = None
        if self._retry is not None:
            self._retry()
            self._retry = None
        await self.async_flush()
        if self.pending:
            _LOGGER.error("%s alarm changes could not be stored before the hub stopped", self.pending)

    @callback
    def async_shutdown(self) -> None:
        """Stop retrying (the integration unloads); queued changes are still written."""
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        if self._retry is not None:
            self._retry()
            self._retry = None

    # ---- retention

    async def async_purge_closed(self, before_ts: float, batch: int = PURGE_BATCH) -> int:
        """Delete alarms closed before `before_ts` with their timelines, in batches (other writes go
        in between); returns how many alarms went. Alarms not closed are never deleted."""
        from hub.recorder import get_recorder

        await self.async_flush()
        total = 0
        while True:
            count = await get_recorder(self.hub).async_db_job(
                functools.partial(_purge_closed, before_ts=before_ts, batch=batch))
            total += count
            if count < batch:
                return total

    # ---- reading

    async def async_load_active(self) -> list[Alarm]:
        """Every alarm not closed yet, with its timeline (oldest first)."""
        from hub.recorder import get_recorder

        return await get_recorder(self.hub).async_db_job(
            lambda session: _load(session, _ALARMS.c.state != AlarmState.CLOSED.value))

    async def async_load(self, alarm_id: str) -> Alarm | None:
        """One alarm with its timeline, from the database."""
        from hub.recorder import get_recorder

        await self.async_flush()
        found = await get_recorder(self.hub).async_db_job(
            lambda session: _load(session, _ALARMS.c.alarm_id == alarm_id))
        return found[0] if found else None

    async def async_query(self, *, centre: str | None = None, state: str | None = None,
                          since: float | None = None, until: float | None = None,
                          limit: int = 100) -> list[Alarm]:
        """Alarms (without timelines) newest first, from the database."""
        from hub.recorder import get_recorder

        await self.async_flush()
        limit = max(1, min(limit, 1000))
        return await get_recorder(self.hub).async_db_job(
            lambda session: _query(session, centre, state, since, until, limit))

    async def async_stats(self, alarm_type: str | None, centre: str | None, since: float | None,
                          sla: dict[str, tuple[float, float]]) -> dict[str, Any]:
        """Response and resolution times per alarm type, with SLA breaches."""
        from hub.recorder import get_recorder

        await self.async_flush()
        return await get_recorder(self.hub).async_db_job(
            lambda session: _stats(session, alarm_type, centre, since, sla))
