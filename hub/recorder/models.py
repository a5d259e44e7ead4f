"""SQLAlchemy models of the recorder's tables; other modules add theirs to `Base` (see migration.py)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "EventData",
    "Events",
    "RecorderRuns",
    "StateAttributes",
    "States",
    "StatesMeta",
]

# Stable constraint names, so alembic revisions can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class Base(DeclarativeBase):
    """Declarative base shared by every table in the hub's database."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StatesMeta(Base):
    """One row per entity id, so state rows carry a small integer instead of the id string."""

    __tablename__ = "states_meta"

    metadata_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String, unique=True)


class StateAttributes(Base):
    """A distinct attributes JSON document, shared by every state row that has it."""

    __tablename__ = "state_attributes"

    attributes_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, index=True)
    shared_attrs: Mapped[str] = mapped_column(Text)


class States(Base):
    """One state change: value, attribute reference, timestamps and the Context that caused it.

    Identifiers (entity ids, context ids, user ids, centres) are unbounded strings: a long id
    from a peer centre must never make a whole batch fail.

    `state` is NULL when the entity was removed. `last_changed_ts` is NULL when it equals
    `last_updated_ts` (most rows), which keeps rows small.
    """

    __tablename__ = "states"
    __table_args__ = (
        Index("ix_states_metadata_id_last_updated_ts", "metadata_id", "last_updated_ts"),
    )

    state_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metadata_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("states_meta.metadata_id"))
    state: Mapped[str | None] = mapped_column(String(255))
    attributes_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("state_attributes.attributes_id"), index=True
    )
    last_changed_ts: Mapped[float | None] = mapped_column(Double)
    # No index of its own: history and purge go through (metadata_id, last_updated_ts); one
    # index less is a fifth of the insert cost.
    last_updated_ts: Mapped[float] = mapped_column(Double)
    origin_idx: Mapped[int] = mapped_column(SmallInteger, default=0)
    context_id: Mapped[str | None] = mapped_column(String, index=True)
    context_user_id: Mapped[str | None] = mapped_column(String)
    context_parent_id: Mapped[str | None] = mapped_column(String)
    context_centre: Mapped[str | None] = mapped_column(String)


class EventData(Base):
    """A distinct event data JSON document, shared by every event row that has it."""

    __tablename__ = "event_data"

    data_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, index=True)
    shared_data: Mapped[str] = mapped_column(Text)


class Events(Base):
    """One fired event (state changes live in `states`), with the Context that caused it."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_event_type_time_fired_ts", "event_type", "time_fired_ts"),
    )

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    data_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("event_data.data_id"), index=True)
    origin_idx: Mapped[int] = mapped_column(SmallInteger, default=0)
    time_fired_ts: Mapped[float] = mapped_column(Double, index=True)
    context_id: Mapped[str | None] = mapped_column(String, index=True)
    context_user_id: Mapped[str | None] = mapped_column(String)
    context_parent_id: Mapped[str | None] = mapped_column(String)
    context_centre: Mapped[str | None] = mapped_column(String)


class RecorderRuns(Base):
    """One row per recorder run (added by revision 0002): an open run that is not ours means a crash."""

    __tablename__ = "recorder_runs"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_ts: Mapped[float] = mapped_column(Double, index=True)
    end_ts: Mapped[float | None] = mapped_column(Double)
    closed_incorrect: Mapped[bool] = mapped_column(Boolean, default=False)
