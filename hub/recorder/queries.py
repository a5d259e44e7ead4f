"""Events query: recorded events by type, time and Context (runs in the recorder thread)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..const import EVENT_STATE_CHANGED
from .const import ORIGIN_REMOTE
from .history import _STATE_COLUMNS, row_to_state
from .models import EventData, Events, StateAttributes, States, StatesMeta

__all__ = ["get_events"]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _context(row: Any) -> dict[str, Any]:
    return {
        "id": row.context_id,
        "parent_id": row.context_parent_id,
        "user_id": row.context_user_id,
        "centre": row.context_centre,
    }


def get_events(session: Session, event_types: Iterable[str] | None = None, start_ts: float | None = None,
               end_ts: float | None = None, context_id: str | None = None,
               limit: int | None = 1000) -> list[dict[str, Any]]:
    """Recorded events, oldest first, as dicts shaped like `Event.as_dict()` plus `time_fired_ts`.

    State changes are stored as states, not events: they are included (as `state_changed` with
    `new_state`) when `state_changed` is among `event_types`, or when querying a `context_id`
    without types, so "what did this context do" is one call.
    """
    types = list(event_types) if event_types is not None else None
    want_states = (
        (types is not None and EVENT_STATE_CHANGED in types) or (types is None and context_id is not None)
    )
    results: list[tuple[float, int, dict[str, Any]]] = []

    other_types = [t for t in types if t != EVENT_STATE_CHANGED] if types is not None else None
    if other_types is None or other_types:
        stmt = select(
            Events.event_id, Events.event_type, EventData.shared_data, Events.origin_idx,
            Events.time_fired_ts, Events.context_id, Events.context_user_id, Events.context_parent_id,
            Events.context_centre,
        ).outerjoin(EventData, Events.data_id == EventData.data_id)
        if other_types is not None:
            stmt = stmt.where(Events.event_type.in_(other_types))
        if start_ts is not None:
            stmt = stmt.where(Events.time_fired_ts >= start_ts)
        if end_ts is not None:
            stmt = stmt.where(Events.time_fired_ts < end_ts)
        if context_id is not None:
            stmt = stmt.where(Events.context_id == context_id)
        stmt = stmt.order_by(Events.time_fired_ts, Events.event_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        for row in session.execute(stmt):
            results.append((row.time_fired_ts, 0, {
                "event_type": row.event_type,
                "data": orjson.loads(row.shared_data) if row.shared_data else {},
                "origin": "remote" if row.origin_idx == ORIGIN_REMOTE else "local",
                "time_fired": _iso(row.time_fired_ts),
                "time_fired_ts": row.time_fired_ts,
                "context": _context(row),
            }))

    if want_states:
        states_stmt = (
            select(*_STATE_COLUMNS, States.origin_idx, StatesMeta.entity_id)
            .join(StatesMeta, States.metadata_id == StatesMeta.metadata_id)
            .outerjoin(StateAttributes, States.attributes_id == StateAttributes.attributes_id)
        )
        if start_ts is not None:
            states_stmt = states_stmt.where(States.last_updated_ts >= start_ts)
        if end_ts is not None:
            states_stmt = states_stmt.where(States.last_updated_ts < end_ts)
        if context_id is not None:
            states_stmt = states_stmt.where(States.context_id == context_id)
        states_stmt = states_stmt.order_by(States.last_updated_ts, States.state_id)
        if limit is not None:
            states_stmt = states_stmt.limit(limit)
        attrs_cache: dict[str, Any] = {}
        for srow in session.execute(states_stmt):
            new_state = None
            if srow.state is not None:
                new_state = row_to_state(srow.entity_id, srow, attrs_cache).as_dict()
            results.append((srow.last_updated_ts, 1, {
                "event_type": EVENT_STATE_CHANGED,
                "data": {"entity_id": srow.entity_id, "new_state": new_state},
                "origin": "remote" if srow.origin_idx == ORIGIN_REMOTE else "local",
                "time_fired": _iso(srow.last_updated_ts),
                "time_fired_ts": srow.last_updated_ts,
                "context": _context(srow),
            }))

    results.sort(key=lambda item: (item[0], item[1]))
    events = [item[2] for item in results]
    return events[:limit] if limit is not None else events
