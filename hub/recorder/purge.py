"""Retention purge: delete states and events older than their domain's keep_days, in batches."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, delete, exists, false, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute, Session

from .const import PURGE_BATCH_SIZE
from .models import EventData, Events, StateAttributes, States, StatesMeta

__all__ = ["PurgeResult", "effective_keep_days", "purge_batch"]

_LOGGER = logging.getLogger(__name__)

_DAY = 86_400.0


@dataclass(slots=True)
class PurgeResult:
    """What one purge run removed so far."""

    states: int = 0
    events: int = 0
    state_attributes: int = 0
    event_data: int = 0
    batches: int = 0
    by_domain: dict[str, int] = field(default_factory=dict)


def effective_keep_days(keep_days: int, keep_days_by_domain: Mapping[str, int],
                        requested: int | None = None) -> tuple[int, dict[str, int]]:
    """The default and per-domain retention for one purge.

    A `requested` keep_days (from the purge service) replaces the default; per-domain limits that
    are shorter still apply, because they are legal limits an operator's call must not extend.
    """
    if requested is None:
        return keep_days, dict(keep_days_by_domain)
    return requested, {domain: min(days, requested) for domain, days in keep_days_by_domain.items()}


def _delete_batch(conn: Connection, table_pk: InstrumentedAttribute[int], condition: ColumnElement[bool],
                  batch: int) -> int:
    """Delete up to `batch` rows matching `condition`; returns how many went."""
    ids = select(table_pk).where(condition).limit(batch).scalar_subquery()
    result = conn.execute(delete(table_pk.class_).where(table_pk.in_(ids)))
    return max(result.rowcount, 0)


def _event_domain_condition(domains: list[str]) -> ColumnElement[bool]:
    """Events belong to a domain by their type's prefix: anpr_plate_read is an anpr event."""
    if not domains:
        return false()
    return or_(*[Events.event_type.startswith(f"{domain}_", autoescape=True) for domain in domains])


def _entity_domain_condition(domains: list[str]) -> ColumnElement[bool]:
    """Entities belong to the domain before the dot of their id."""
    if not domains:
        return false()
    return or_(*[StatesMeta.entity_id.startswith(f"{domain}.", autoescape=True) for domain in domains])


def _expired_states(entities: ColumnElement[bool], cutoff: float) -> ColumnElement[bool]:
    """States of the matching entities older than `cutoff`: an IN over states_meta, so the
    (metadata_id, last_updated_ts) index serves it."""
    return and_(
        States.metadata_id.in_(select(StatesMeta.metadata_id).where(entities)),
        States.last_updated_ts < cutoff,
    )


def purge_batch(session: Session, now_ts: float, keep_days: int, keep_days_by_domain: Mapping[str, int],
                result: PurgeResult, batch: int = PURGE_BATCH_SIZE) -> bool:
    """Delete one batch of each kind of expired row and commit. Returns True when nothing is left.

    States belong to the domain of their entity id; events to the domain prefix of their type.
    Attribute and event-data documents no longer referenced are removed last.
    """
    conn = session.connection()
    domains = list(keep_days_by_domain)
    more = False

    for domain, days in keep_days_by_domain.items():
        cutoff = now_ts - days * _DAY
        expired = _expired_states(_entity_domain_condition([domain]), cutoff)
        deleted = _delete_batch(conn, States.state_id, expired, batch)
        gone = _delete_batch(conn, Events.event_id,
                             and_(_event_domain_condition([domain]), Events.time_fired_ts < cutoff), batch)
        more |= deleted >= batch or gone >= batch
        result.states += deleted
        result.events += gone
        if deleted or gone:
            result.by_domain[domain] = result.by_domain.get(domain, 0) + deleted + gone

    cutoff = now_ts - keep_days * _DAY
    expired = _expired_states(~_entity_domain_condition(domains), cutoff)
    deleted = _delete_batch(conn, States.state_id, expired, batch)
    gone = _delete_batch(conn, Events.event_id,
                         and_(Events.time_fired_ts < cutoff, ~_event_domain_condition(domains)), batch)
    result.states += deleted
    result.events += gone
    more |= deleted >= batch or gone >= batch

    orphan_attrs = _delete_batch(
        conn, StateAttributes.attributes_id,
        ~exists().where(States.attributes_id == StateAttributes.attributes_id), batch,
    )
    orphan_data = _delete_batch(conn, EventData.data_id, ~exists().where(Events.data_id == EventData.data_id),
                                batch)
    result.state_attributes += orphan_attrs
    result.event_data += orphan_data
    more |= orphan_attrs >= batch or orphan_data >= batch
    session.commit()
    result.batches += 1
    return not more
