"""Tables of the federation (revision 0400): our sequence stream, what we sent, what peers sent us, requests."""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = [
    "FederationActuation",
    "FederationPeer",
    "FederationRemoteAlarm",
    "FederationRemoteIncident",
    "FederationRemoteState",
    "FederationSent",
    "FederationStream",
]


class FederationStream(Base):
    """Our outgoing sequence: the stream's epoch (a UUID made with the database) and the last number used."""

    __tablename__ = "federation_stream"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)


class FederationSent(Base):
    """Every envelope we published, by sequence number, kept so a peer that missed one can ask again."""

    __tablename__ = "federation_sent"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36))
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    created_ts: Mapped[float] = mapped_column(Double, index=True)


class FederationPeer(Base):
    """What we have received from a peer: its stream, the highest number seen, the numbers still missing.

    `missing` is a JSON list of [seq, first_noticed_ts] pairs.
    """

    __tablename__ = "federation_peer"

    site: Mapped[str] = mapped_column(String(255), primary_key=True)
    epoch: Mapped[str] = mapped_column(String(36))
    last_seq: Mapped[int] = mapped_column(BigInteger)
    missing: Mapped[str] = mapped_column(Text)
    last_seen_ts: Mapped[float] = mapped_column(Double)


class FederationRemoteState(Base):
    """The last known state of a peer's shared entity, under our id for it (`bollard.<site>_<object_id>`)."""

    __tablename__ = "federation_remote_state"

    entity_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    origin_site: Mapped[str] = mapped_column(String(255), index=True)
    origin_entity_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(255))
    attributes: Mapped[str] = mapped_column(Text)
    last_changed_ts: Mapped[float] = mapped_column(Double)
    last_updated_ts: Mapped[float] = mapped_column(Double)
    context: Mapped[str] = mapped_column(Text)


class FederationRemoteAlarm(Base):
    """A peer's alarm as its owner last published it (removed when the owner closes it)."""

    __tablename__ = "federation_remote_alarm"

    alarm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin_site: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(32))
    updated_ts: Mapped[float] = mapped_column(Double)
    data: Mapped[str] = mapped_column(Text)


class FederationRemoteIncident(Base):
    """A peer's shared incident as its owner last published it, with its timeline (removed when withdrawn).

    Revision 0920 (migrations/r0920_remote_incidents.py).
    """

    __tablename__ = "federation_remote_incident"

    incident_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    origin_site: Mapped[str] = mapped_column(String(255), index=True)
    updated_ts: Mapped[float] = mapped_column(Double)
    data: Mapped[str] = mapped_column(Text)


class FederationActuation(Base):
    """A request to actuate a device owned by another centre: ours to a peer (out) or a peer's to us (in)."""

    __tablename__ = "federation_actuation"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    peer: Mapped[str] = mapped_column(String(255))
    entity_id: Mapped[str] = mapped_column(String(255))  # the owner's entity id
    service: Mapped[str] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(255))
    requested_centre: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_ts: Mapped[float] = mapped_column(Double)
    expires_ts: Mapped[float] = mapped_column(Double)
    responded_ts: Mapped[float | None] = mapped_column(Double)
    responded_by: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
