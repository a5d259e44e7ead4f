"""The outbox's database work, as plain functions of a session (they run in the recorder thread)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from .const import MessageState
from .message import NewMessage, OutboxMessage
from .models import InboxSeen, OutboxRow

__all__ = [
    "ClaimSpec",
    "add_messages",
    "claim_due",
    "count_by_destination",
    "get_message",
    "list_messages",
    "next_due",
    "purge",
    "record_dead",
    "record_delivered",
    "record_paused",
    "record_retry",
    "release",
    "release_owned",
    "release_stale",
    "remember_seen",
    "replay",
]

_T = cast(Table, OutboxRow.__table__)
_SEEN = cast(Table, InboxSeen.__table__)
_MAX_ERROR = 2000


def _dumps(value: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(value), option=orjson.OPT_NON_STR_KEYS).decode()


def _snapshot(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        destination=row.destination,
        kind=row.kind,
        payload=row.payload,
        headers=orjson.loads(row.headers) if row.headers else {},
        meta=orjson.loads(row.meta) if row.meta else {},
        correlation_id=row.correlation_id,
        state=MessageState(row.state),
        attempts=row.attempts,
        created_ts=row.created_ts,
        next_attempt_ts=row.next_attempt_ts,
        updated_ts=row.updated_ts,
        delivered_ts=row.delivered_ts,
        last_error=row.last_error,
    )


def add_messages(session: Session, messages: Iterable[NewMessage], now: float) -> list[str]:
    """Insert messages as pending (in the caller's transaction); returns their ids.

    Call this inside your own `async_db_job` to make the messages part of the same commit as
    your other writes, then `Outbox.wake()`.
    """
    messages_list = list(messages)
    rows = [
        {
            "id": message.id,
            "destination": message.destination,
            "kind": message.kind,
            "payload": message.payload,
            "headers": _dumps(message.headers),
            "meta": _dumps(message.meta),
            "correlation_id": message.correlation_id,
            "state": MessageState.PENDING.value,
            "attempts": 0,
            "created_ts": now,
            "next_attempt_ts": max(now, message.not_before or now),
            "updated_ts": now,
            "delivered_ts": None,
            "last_error": None,
        }
        for message in messages_list
    ]
    if rows:
        session.execute(insert(_T), rows)
    return [message.id for message in messages_list]


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """Which rows the relay may take: registered kinds (ordered ones one at a time per destination)."""

    kinds: frozenset[str]
    ordered: frozenset[str] = frozenset()
    paused: frozenset[tuple[str, str]] = frozenset()  # (kind, destination)


def _eligible(spec: ClaimSpec) -> ColumnElement[bool]:
    """Pending rows of the spec's kinds, not paused; for ordered kinds only each destination's oldest."""
    unordered = spec.kinds - spec.ordered
    ordered = spec.kinds & spec.ordered
    parts: list[ColumnElement[bool]] = []
    if unordered:
        parts.append(_T.c.kind.in_(sorted(unordered)))
    if ordered:
        heads = (
            select(func.min(_T.c.id))
            .where(_T.c.state == MessageState.PENDING.value, _T.c.kind.in_(sorted(ordered)))
            .group_by(_T.c.kind, _T.c.destination)
        )
        parts.append(and_(_T.c.kind.in_(sorted(ordered)), _T.c.id.in_(heads.scalar_subquery())))
    condition: ColumnElement[bool] = and_(_T.c.state == MessageState.PENDING.value,
                                          or_(*parts) if parts else false())
    if spec.paused:
        condition = and_(condition, not_(or_(*(
            and_(_T.c.kind == kind, _T.c.destination == destination) for kind, destination in spec.paused
        ))))
    return condition


def claim_due(session: Session, spec: ClaimSpec, now: float, lease: float, limit: int,
              busy: Collection[tuple[str, str]] = (), owner: str | None = None) -> list[OutboxMessage]:
    """Take up to `limit` due rows, at most one per (kind, destination) and none of `busy` ones.

    A taken row counts an attempt, is leased to `owner` (the relay's token) and is not due again
    before `now + lease`. A clean stop gives the lease back (`release_owned`); after a crash the
    next relay to start does (`release_stale`), or, failing both, the lease runs out.
    """
    if limit <= 0 or not spec.kinds:
        return []
    rows = session.execute(
        select(_T).where(_eligible(spec), _T.c.next_attempt_ts <= now)
        .order_by(_T.c.next_attempt_ts, _T.c.id).limit(max(limit * 4, 50))
    ).all()
    taken: list[Row[Any]] = []
    seen = set(busy)
    for row in rows:
        key = (row.kind, row.destination)
        if key in seen:
            continue
        seen.add(key)
        taken.append(row)
        if len(taken) >= limit:
            break
    if not taken:
        return []
    ids = [row.id for row in taken]
    session.execute(
        update(_T).where(_T.c.id.in_(ids))
        .values(attempts=_T.c.attempts + 1, next_attempt_ts=now + lease, updated_ts=now, lease_owner=owner)
    )
    return [_snapshot(row) for row in session.execute(select(_T).where(_T.c.id.in_(ids))
                                                        .order_by(_T.c.next_attempt_ts, _T.c.id)).all()]


def next_due(session: Session, spec: ClaimSpec) -> float | None:
    """When the earliest eligible row is due (None when there is none)."""
    if not spec.kinds:
        return None
    value = session.execute(select(func.min(_T.c.next_attempt_ts)).where(_eligible(spec))).scalar()
    return None if value is None else float(value)


def get_message(session: Session, message_id: str) -> OutboxMessage | None:
    """One message by id."""
    row = session.execute(select(_T).where(_T.c.id == message_id)).first()
    return None if row is None else _snapshot(row)


def _finish(session: Session, message_id: str, values: dict[str, Any]) -> OutboxMessage | None:
    values["lease_owner"] = None  # the attempt is over: whatever comes next is no one's lease
    if values.get("last_error") is not None:
        values["last_error"] = str(values["last_error"])[:_MAX_ERROR]
    result = session.execute(
        update(_T).where(_T.c.id == message_id, _T.c.state == MessageState.PENDING.value).values(**values)
    )
    if not getattr(result, "rowcount", 1):
        return None  # replayed, purged or finished meanwhile
    return get_message(session, message_id)


def record_delivered(session: Session, message_id: str, now: float) -> OutboxMessage | None:
    """Mark a message delivered."""
    return _finish(session, message_id, {"state": MessageState.DELIVERED.value, "delivered_ts": now,
                                         "updated_ts": now, "last_error": None})


def record_retry(session: Session, message_id: str, now: float, delay: float, error: str,
                 max_attempts: int) -> OutboxMessage | None:
    """Schedule the next attempt after a failure, or dead-letter the message when attempts are used up."""
    row = session.execute(select(_T.c.attempts).where(_T.c.id == message_id)).first()
    if row is not None and row.attempts >= max_attempts:
        return record_dead(session, message_id, now, error)
    return _finish(session, message_id, {"next_attempt_ts": now + delay, "updated_ts": now,
                                         "last_error": error})


def record_dead(session: Session, message_id: str, now: float, error: str) -> OutboxMessage | None:
    """Move a message to the dead-letter list."""
    return _finish(session, message_id, {"state": MessageState.DEAD.value, "updated_ts": now,
                                         "last_error": error})


def record_paused(session: Session, message_id: str, now: float, error: str) -> OutboxMessage | None:
    """Keep a message pending (its destination is paused): due again as soon as it resumes."""
    return _finish(session, message_id, {"next_attempt_ts": now, "updated_ts": now, "last_error": error})


def _give_back(session: Session, condition: ColumnElement[bool], now: float, *, uncount: bool) -> int:
    """Make leased rows matching `condition` due now and no one's; `uncount` takes back the claim's attempt."""
    values: dict[str, Any] = {"next_attempt_ts": now, "updated_ts": now, "lease_owner": None}
    if uncount:
        values["attempts"] = case((_T.c.attempts > 0, _T.c.attempts - 1), else_=0)
    result = session.execute(update(_T).where(_T.c.state == MessageState.PENDING.value, condition).values(values))
    return int(getattr(result, "rowcount", 0) or 0)


def release(session: Session, message_ids: Collection[str], now: float, owner: str | None = None) -> int:
    """Give back rows whose delivery was interrupted (a clean stop): due now, the attempt not counted.

    With `owner`, only rows still leased to it: one whose outcome was recorded meanwhile keeps it.
    """
    if not message_ids:
        return 0
    condition: ColumnElement[bool] = _T.c.id.in_(list(message_ids))
    if owner is not None:
        condition = and_(condition, _T.c.lease_owner == owner)
    return _give_back(session, condition, now, uncount=True)


def release_owned(session: Session, owner: str, now: float) -> int:
    """Give back every row leased to `owner` (its relay is stopping): due now, the attempt not counted.

    This catches rows a claim took while the relay was being stopped, which never reached a deliverer.
    """
    return _give_back(session, _T.c.lease_owner == owner, now, uncount=True)


def release_stale(session: Session, owner: str, now: float) -> int:
    """Give back rows leased to anyone but `owner` (a run that died): due now.

    Run when a relay starts, before it claims. The attempt stays counted: the dead run may have
    sent the message, and a message that kills the hub must still end in the dead letters.
    """
    return _give_back(session, and_(_T.c.lease_owner.is_not(None), _T.c.lease_owner != owner), now,
                      uncount=False)


def replay(session: Session, now: float, *, message_ids: Collection[str] | None = None,
           kind: str | None = None, destination: str | None = None) -> list[OutboxMessage]:
    """Put dead messages (by id, or all of a kind/destination) back in line with fresh attempts."""
    condition: ColumnElement[bool] = _T.c.state == MessageState.DEAD.value
    if message_ids is not None:
        condition = and_(condition, _T.c.id.in_(list(message_ids)))
    if kind is not None:
        condition = and_(condition, _T.c.kind == kind)
    if destination is not None:
        condition = and_(condition, _T.c.destination == destination)
    ids = [row.id for row in session.execute(select(_T.c.id).where(condition)).all()]
    if not ids:
        return []
    session.execute(update(_T).where(_T.c.id.in_(ids))
                    .values(state=MessageState.PENDING.value, attempts=0, next_attempt_ts=now, updated_ts=now,
                            lease_owner=None))
    return [_snapshot(row) for row in session.execute(select(_T).where(_T.c.id.in_(ids)).order_by(_T.c.id))]


def list_messages(session: Session, *, state: MessageState | None = None, kind: str | None = None,
                  destination: str | None = None, correlation_id: str | None = None,
                  limit: int = 100, newest_first: bool = True) -> list[OutboxMessage]:
    """Messages filtered by state, kind, destination and correlation id."""
    condition: list[ColumnElement[bool]] = []
    if state is not None:
        condition.append(_T.c.state == state.value)
    if kind is not None:
        condition.append(_T.c.kind == kind)
    if destination is not None:
        condition.append(_T.c.destination == destination)
    if correlation_id is not None:
        condition.append(_T.c.correlation_id == correlation_id)
    order = _T.c.id.desc() if newest_first else _T.c.id
    query = select(_T).where(*condition).order_by(order).limit(limit)
    return [_snapshot(row) for row in session.execute(query).all()]


def count_by_destination(session: Session, kind: str) -> dict[str, dict[str, int]]:
    """{destination: {state: count}} for one kind."""
    rows = session.execute(
        select(_T.c.destination, _T.c.state, func.count()).where(_T.c.kind == kind)
        .group_by(_T.c.destination, _T.c.state)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for destination, state, count in rows:
        counts.setdefault(destination, {})[state] = int(count)
    return counts


def purge(session: Session, now: float, delivered_before: float) -> tuple[int, int]:
    """Delete delivered messages older than `delivered_before` and expired inbox ids."""
    sent = session.execute(delete(_T).where(_T.c.state == MessageState.DELIVERED.value,
                                            _T.c.delivered_ts < delivered_before))
    seen = session.execute(delete(_SEEN).where(_SEEN.c.expires_ts < now))
    return int(getattr(sent, "rowcount", 0) or 0), int(getattr(seen, "rowcount", 0) or 0)


def remember_seen(session: Session, scope: str, message_id: str, now: float, expires_ts: float) -> bool:
    """Remember `message_id` from `scope` until `expires_ts`; False when it was already remembered.

    Jobs run one at a time in the recorder thread, so the look-up and the insert cannot interleave
    with another request's.
    """
    row = session.execute(
        select(_SEEN.c.expires_ts).where(_SEEN.c.scope == scope, _SEEN.c.message_id == message_id)
    ).first()
    if row is not None:
        if row.expires_ts >= now:
            return False
        session.execute(update(_SEEN).where(_SEEN.c.scope == scope, _SEEN.c.message_id == message_id)
                        .values(seen_ts=now, expires_ts=expires_ts))
        return True
    session.execute(insert(_SEEN).values(scope=scope, message_id=message_id, seen_ts=now, expires_ts=expires_ts))
    return True
