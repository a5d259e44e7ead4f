"""Tables of the outbox (messages waiting to leave) and the inbox (ids already received), on the recorder's Base."""

from __future__ import annotations

from sqlalchemy import Double, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..recorder.models import Base

__all__ = ["InboxSeen", "OutboxRow"]


class OutboxRow(Base):
    """One message to deliver: where, what, how often tried, and when next (revisions 0300, 0310).

    While a relay delivers a row, `lease_owner` holds that relay's token and `next_attempt_ts` the
    end of its lease; a relay that starts gives back leases held by any other (a run that died).

    `payload` is the exact body sent on every attempt; `headers` and `meta` are JSON objects
    (transport headers; what the deliverer or the status events need). `correlation_id` names the
    object the message is about (an alarm id), so its delivery can be shown on that object.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt_ts", "state", "next_attempt_ts"),
        Index("ix_outbox_kind_destination_state", "kind", "destination", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7: sorts by creation
    destination: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text)
    meta: Mapped[str] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    created_ts: Mapped[float] = mapped_column(Double)
    next_attempt_ts: Mapped[float] = mapped_column(Double)
    updated_ts: Mapped[float] = mapped_column(Double)
    delivered_ts: Mapped[float | None] = mapped_column(Double)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))


class InboxSeen(Base):
    """A message id received from a source, remembered until `expires_ts` to refuse replays."""

    __tablename__ = "inbox_seen"

    scope: Mapped[str] = mapped_column(String(255), primary_key=True)  # who sent it ("agency:fire_brigade")
    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_ts: Mapped[float] = mapped_column(Double)
    expires_ts: Mapped[float] = mapped_column(Double, index=True)
