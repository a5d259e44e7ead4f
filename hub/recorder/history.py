"""History query: the states of some entities between two times (runs in the recorder thread)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..core import Context, State
from .const import QUERY_IN_CHUNK
from .models import StateAttributes, States, StatesMeta

__all__ = ["get_history", "to_timestamp"]


def to_timestamp(when: datetime | float | None) -> float | None:
    """Epoch seconds of a datetime (naive means UTC) or a number; None stays None."""
    if when is None:
        return None
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    return float(when)


_STATE_COLUMNS = (
    States.state_id,
    States.metadata_id,
    States.state,
    StateAttributes.shared_attrs,
    States.last_changed_ts,
    States.last_updated_ts,
    States.context_id,
    States.context_user_id,
    States.context_parent_id,
    States.context_centre,
)


def row_to_state(entity_id: str, row: Any, attrs_cache: dict[str, Any]) -> State:
    """Rebuild a State from a row of _STATE_COLUMNS (attribute documents decoded once per query)."""
    shared = row.shared_attrs
    attributes: Any = None
    if shared is not None:
        attributes = attrs_cache.get(shared)
        if attributes is None:
            attributes = attrs_cache[shared] = orjson.loads(shared)
    return State(
        entity_id,
        row.state,
        attributes,
        row.last_changed_ts if row.last_changed_ts is not None else row.last_updated_ts,
        row.last_updated_ts,
        Context(user_id=row.context_user_id, parent_id=row.context_parent_id, id=row.context_id,
                centre=row.context_centre),
        validate_entity_id=False,
    )


def _metadata_ids(session: Session, entity_ids: Sequence[str]) -> dict[int, str]:
    result: dict[int, str] = {}
    for start in range(0, len(entity_ids), QUERY_IN_CHUNK):
        chunk = list(entity_ids[start:start + QUERY_IN_CHUNK])
        for metadata_id, entity_id in session.execute(
            select(StatesMeta.metadata_id, StatesMeta.entity_id).where(StatesMeta.entity_id.in_(chunk))
        ):
            result[metadata_id] = entity_id
    return result


def get_history(session: Session, entity_ids: Iterable[str], start_ts: float, end_ts: float | None = None,
                include_start_state: bool = True) -> dict[str, list[State]]:
    """States of `entity_ids` updated in [start_ts, end_ts), oldest first, per entity.

    With `include_start_state`, each list begins with the state the entity was in at `start_ts`
    (its last write before then, with its real timestamps). Removals end a history: they are
    not returned as states. Every requested entity id is a key, with an empty list if nothing.
    """
    wanted = list(dict.fromkeys(entity_ids))
    history: dict[str, list[State]] = {entity_id: [] for entity_id in wanted}
    metas = _metadata_ids(session, wanted)
    if not metas:
        return history
    meta_ids = list(metas)
    attrs_cache: dict[str, Any] = {}

    if include_start_state:
        latest = (
            select(States.metadata_id.label("mid"), func.max(States.last_updated_ts).label("max_ts"))
            .where(States.metadata_id.in_(meta_ids), States.last_updated_ts < start_ts)
            .group_by(States.metadata_id)
            .subquery()
        )
        start_rows = session.execute(
            select(*_STATE_COLUMNS)
            .join(latest, and_(States.metadata_id == latest.c.mid, States.last_updated_ts == latest.c.max_ts))
            .outerjoin(StateAttributes, States.attributes_id == StateAttributes.attributes_id)
            .order_by(States.state_id)
        )
        first: dict[int, Any] = {}
        for row in start_rows:
            first[row.metadata_id] = row  # ties on the timestamp: the last written wins
        for metadata_id, row in first.items():
            if row.state is not None:
                history[metas[metadata_id]].append(row_to_state(metas[metadata_id], row, attrs_cache))

    conditions = [States.metadata_id.in_(meta_ids), States.last_updated_ts >= start_ts]
    if end_ts is not None:
        conditions.append(States.last_updated_ts < end_ts)
    rows = session.execute(
        select(*_STATE_COLUMNS)
        .outerjoin(StateAttributes, States.attributes_id == StateAttributes.attributes_id)
        .where(*conditions)
        .order_by(States.metadata_id, States.last_updated_ts, States.state_id)
    )
    for row in rows:
        if row.state is None:
            continue
        entity_id = metas[row.metadata_id]
        history[entity_id].append(row_to_state(entity_id, row, attrs_cache))
    return history
