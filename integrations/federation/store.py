"""Database work of the federation (recorder thread): numbering and staging what leaves, taking in what arrives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from hub.helpers.ids import uuid7_str
from hub.outbox import NewMessage, add_messages, remember_seen

from .const import (
    ACT_EXPIRED,
    ACT_FINAL,
    ACT_PENDING,
    DIRECTION_IN,
    DIRECTION_OUT,
    INBOX_SCOPE_PREFIX,
    OUTBOX_DESTINATION,
    OUTBOX_KIND,
    TYPE_ACTUATION_REQUEST,
    TYPE_ALARM,
    TYPE_INCIDENT,
    TYPE_RESPONSE,
    TYPE_STATE,
)
from .envelope import Envelope
from .models import (
    FederationActuation,
    FederationPeer,
    FederationRemoteAlarm,
    FederationRemoteIncident,
    FederationRemoteState,
    FederationSent,
    FederationStream,
)

__all__ = [
    "Inbound",
    "LoadedState",
    "Outgoing",
    "PeerStream",
    "actuation_dict",
    "apply_inbound",
    "ensure_stream",
    "get_actuation",
    "insert_outgoing_request",
    "list_actuations",
    "load_all",
    "mirror_entity_id",
    "purge",
    "resend",
    "stage_outgoing",
    "update_actuation",
]

_STREAM = cast(Table, FederationStream.__table__)
_SENT = cast(Table, FederationSent.__table__)
_PEER = cast(Table, FederationPeer.__table__)
_RSTATE = cast(Table, FederationRemoteState.__table__)
_RALARM = cast(Table, FederationRemoteAlarm.__table__)
_RINCIDENT = cast(Table, FederationRemoteIncident.__table__)
_ACT = cast(Table, FederationActuation.__table__)
_STREAM_NAME = "out"


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def mirror_entity_id(site: str, entity_id: str) -> str:
    """Our id for a peer's entity: `bollard.b07` of `national_police` is `bollard.national_police_b07`.

    (Entity ids may not contain a double underscore, so the site is joined with one; the
    `origin_site` and `origin_entity_id` attributes say whose it is without guessing.)
    """
    domain, _, object_id = entity_id.partition(".")
    return f"{domain}.{site}_{object_id}"


# --------------------------------------------------------------------------- outgoing


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to number, record and hand to the outbox."""

    type: str
    topic: str
    payload: dict[str, Any]
    to: str | None = None
    correlation_id: str | None = None


def _next_seqs(session: Session, count: int) -> tuple[str, int]:
    row = session.execute(select(_STREAM.c.epoch, _STREAM.c.seq).where(_STREAM.c.name == _STREAM_NAME)).first()
    if row is None:
        epoch, last = uuid7_str(), 0
        session.execute(insert(_STREAM).values(name=_STREAM_NAME, epoch=epoch, seq=count))
    else:
        epoch, last = row.epoch, int(row.seq)
        session.execute(update(_STREAM).where(_STREAM.c.name == _STREAM_NAME).values(seq=last + count))
    return epoch, last + 1


def ensure_stream(session: Session) -> str:
    """Our stream's epoch, creating the stream (at sequence 0) on first start."""
    row = session.execute(select(_STREAM.c.epoch).where(_STREAM.c.name == _STREAM_NAME)).first()
    if row is not None:
        return str(row.epoch)
    epoch = uuid7_str()
    session.execute(insert(_STREAM).values(name=_STREAM_NAME, epoch=epoch, seq=0))
    return epoch


def stage_outgoing(session: Session, origin: str, items: Sequence[Outgoing], now: float) -> list[Envelope]:
    """Number `items` in our stream, keep them for resends, and add them to the outbox (one transaction)."""
    if not items:
        return []
    epoch, first = _next_seqs(session, len(items))
    envelopes: list[Envelope] = []
    sent_rows: list[dict[str, Any]] = []
    messages: list[NewMessage] = []
    for offset, item in enumerate(items):
        envelope = Envelope(type=item.type, origin=origin, payload=item.payload, seq=first + offset, epoch=epoch,
                            ts=now, hops=(origin,), to=item.to)
        body = envelope.encode()
        envelopes.append(envelope)
        sent_rows.append({"seq": envelope.seq, "message_id": envelope.id, "topic": item.topic, "payload": body,
                          "created_ts": now})
        messages.append(NewMessage(destination=OUTBOX_DESTINATION, kind=OUTBOX_KIND, payload=body,
                                   meta={"topic": item.topic, "seq": envelope.seq, "type": item.type},
                                   correlation_id=item.correlation_id, id=envelope.id))
    session.execute(insert(_SENT), sent_rows)
    add_messages(session, messages, now)
    return envelopes


def resend(session: Session, epoch: str, seqs: Iterable[int], now: float) -> tuple[list[int], list[int]]:
    """Put kept envelopes back in the outbox (same envelope, new outbox row); returns (resent, unavailable)."""
    wanted = sorted(set(seqs))
    row = session.execute(select(_STREAM.c.epoch).where(_STREAM.c.name == _STREAM_NAME)).first()
    if row is None or row.epoch != epoch or not wanted:
        return [], wanted
    found = {r.seq: r for r in session.execute(select(_SENT).where(_SENT.c.seq.in_(wanted)))}
    messages = [NewMessage(destination=OUTBOX_DESTINATION, kind=OUTBOX_KIND, payload=r.payload,
                           meta={"topic": r.topic, "seq": r.seq, "resent": True}, id=uuid7_str())
                for r in (found[s] for s in wanted if s in found)]
    add_messages(session, messages, now)
    return [s for s in wanted if s in found], [s for s in wanted if s not in found]


def purge(session: Session, sent_before: float, actuations_before: float) -> tuple[int, int]:
    """Forget envelopes kept for resends and finished requests older than the given times."""
    sent = session.execute(delete(_SENT).where(_SENT.c.created_ts < sent_before))
    acts = session.execute(delete(_ACT).where(_ACT.c.state.in_(sorted(ACT_FINAL)),
                                              _ACT.c.created_ts < actuations_before))
    return int(getattr(sent, "rowcount", 0) or 0), int(getattr(acts, "rowcount", 0) or 0)


# --------------------------------------------------------------------------- peers' streams


@dataclass(slots=True)
class PeerStream:
    """What we know of a peer's sequence: its epoch, the highest number seen, numbers still missing."""

    epoch: str | None = None
    last_seq: int = 0
    missing: dict[int, float] = field(default_factory=dict)  # seq -> when we noticed it missing
    last_seen_ts: float = 0.0
    version: int = 0  # counts changes; `saved` is the version last written to the database
    saved: int = 0

    @property
    def dirty(self) -> bool:
        """Whether there are changes the database has not got yet."""
        return self.version != self.saved

    def observe(self, epoch: str, seq: int, now: float, limit: int) -> None:
        """Account for message `seq` of `epoch` having arrived."""
        self.version += 1
        if self.epoch != epoch:  # first contact, or the peer's database is new: start from here
            self.epoch, self.last_seq, self.missing = epoch, seq, {}
            return
        if seq > self.last_seq:
            self._gap(self.last_seq + 1, seq, now, limit)
            self.last_seq = seq
        else:
            self.missing.pop(seq, None)

    def observe_high(self, epoch: str, high: int, now: float, limit: int) -> None:
        """The peer says it has published up to `high`: numbers between ours and that are missing."""
        if self.epoch != epoch:
            if self.epoch is None:
                self.version += 1
                self.epoch, self.last_seq, self.missing = epoch, high, {}
            return  # a new stream announced by a heartbeat: its first message resets us
        if high > self.last_seq:
            self.version += 1
            self._gap(self.last_seq + 1, high + 1, now, limit)
            self.last_seq = high

    def _gap(self, start: int, stop: int, now: float, limit: int) -> None:
        for seq in range(max(start, stop - limit), stop):
            self.missing.setdefault(seq, now)
        while len(self.missing) > limit:
            self.missing.pop(min(self.missing))

    def as_row(self, site: str) -> dict[str, Any]:
        """The federation_peer row."""
        return {"site": site, "epoch": self.epoch or "", "last_seq": self.last_seq,
                "missing": _dumps(sorted([seq, ts] for seq, ts in self.missing.items())),
                "last_seen_ts": self.last_seen_ts}


def _save_peers(session: Session, peers: Mapping[str, dict[str, Any]]) -> None:
    for site, row in peers.items():
        result = session.execute(update(_PEER).where(_PEER.c.site == site).values(**row))
        if not getattr(result, "rowcount", 0):
            session.execute(insert(_PEER).values(**row))


# --------------------------------------------------------------------------- incoming


@dataclass(slots=True)
class Inbound:
    """What the database made of one received envelope."""

    envelope: Envelope
    fresh: bool  # not seen before (within the window)
    apply: bool = False  # for states and alarms: newer than what we have
    record: dict[str, Any] | None = None  # for actuation requests and responses: the stored request


def _apply_state(session: Session, envelope: Envelope) -> bool:
    payload = envelope.payload
    origin_entity = str(payload.get("entity_id", ""))
    local_id = mirror_entity_id(envelope.origin, origin_entity)
    updated = float(payload.get("last_updated_ts") or envelope.ts)
    row = session.execute(select(_RSTATE.c.last_updated_ts).where(_RSTATE.c.entity_id == local_id)).first()
    if row is not None and row.last_updated_ts > updated:
        return False  # an older state arriving late
    if payload.get("state") is None:  # removed at the origin
        session.execute(delete(_RSTATE).where(_RSTATE.c.entity_id == local_id))
        return True
    values = {"origin_site": envelope.origin, "origin_entity_id": origin_entity, "state": str(payload["state"])[:255],
              "attributes": _dumps(payload.get("attributes") or {}),
              "last_changed_ts": float(payload.get("last_changed_ts") or updated), "last_updated_ts": updated,
              "context": _dumps(payload.get("context") or {})}
    if row is None:
        session.execute(insert(_RSTATE).values(entity_id=local_id, **values))
    else:
        session.execute(update(_RSTATE).where(_RSTATE.c.entity_id == local_id).values(**values))
    return True


def _apply_alarm(session: Session, envelope: Envelope) -> bool:
    alarm = envelope.payload.get("alarm") or {}
    alarm_id = str(alarm.get("alarm_id", ""))[:64]
    updated = float(alarm.get("updated_ts") or envelope.ts)
    row = session.execute(select(_RALARM.c.updated_ts, _RALARM.c.origin_site)
                          .where(_RALARM.c.alarm_id == alarm_id)).first()
    if row is not None and (row.origin_site != envelope.origin or row.updated_ts > updated):
        return False  # late, or someone else's id
    if alarm.get("state") == "closed":
        session.execute(delete(_RALARM).where(_RALARM.c.alarm_id == alarm_id))
        return True
    values = {"origin_site": envelope.origin, "state": str(alarm.get("state", ""))[:32], "updated_ts": updated,
              "data": _dumps(alarm)}
    if row is None:
        session.execute(insert(_RALARM).values(alarm_id=alarm_id, **values))
    else:
        session.execute(update(_RALARM).where(_RALARM.c.alarm_id == alarm_id).values(**values))
    return True


def _apply_incident(session: Session, envelope: Envelope) -> bool:
    """Keep a peer's shared incident as it now is, or forget it when withdrawn; False when late or not its own."""
    incident = envelope.payload.get("incident") or {}
    incident_id = str(incident.get("incident_id", ""))[:36]
    if not incident_id:
        return False
    updated = float(incident.get("updated_ts") or envelope.ts)
    row = session.execute(select(_RINCIDENT.c.updated_ts, _RINCIDENT.c.origin_site)
                          .where(_RINCIDENT.c.incident_id == incident_id)).first()
    if row is not None and (row.origin_site != envelope.origin or row.updated_ts >= updated):
        return False  # someone else's id, or not newer (a snapshot repeating what we have)
    if envelope.payload.get("withdrawn"):
        session.execute(delete(_RINCIDENT).where(_RINCIDENT.c.incident_id == incident_id))
        return row is not None
    values = {"origin_site": envelope.origin, "updated_ts": updated, "data": _dumps(incident)}
    if row is None:
        session.execute(insert(_RINCIDENT).values(incident_id=incident_id, **values))
    else:
        session.execute(update(_RINCIDENT).where(_RINCIDENT.c.incident_id == incident_id).values(**values))
    return True


def actuation_dict(row: Any) -> dict[str, Any]:
    """A federation_actuation row as a JSON-able dict."""
    return {
        "request_id": row.request_id, "direction": row.direction, "peer": row.peer, "entity_id": row.entity_id,
        "service": row.service, "data": orjson.loads(row.data) if row.data else {}, "reason": row.reason,
        "requested_by": row.requested_by, "requested_centre": row.requested_centre, "state": row.state,
        "created_ts": row.created_ts, "expires_ts": row.expires_ts, "responded_ts": row.responded_ts,
        "responded_by": row.responded_by, "note": row.note, "error": row.error,
    }


def get_actuation(session: Session, request_id: str) -> dict[str, Any] | None:
    """One request by id."""
    row = session.execute(select(_ACT).where(_ACT.c.request_id == request_id)).first()
    return None if row is None else actuation_dict(row)


def _insert_request(session: Session, envelope: Envelope, now: float, timeout: float) -> dict[str, Any] | None:
    payload = envelope.payload
    request_id = str(payload.get("request_id", ""))[:36]
    if not request_id or get_actuation(session, request_id) is not None:
        return None
    expires = min(float(payload.get("expires_ts") or now + timeout), now + timeout)
    session.execute(insert(_ACT).values(
        request_id=request_id, direction=DIRECTION_IN, peer=envelope.origin, entity_id=str(payload.get("entity_id")),
        service=str(payload.get("service")), data=_dumps(payload.get("data") or {}),
        reason=str(payload.get("reason") or ""), requested_by=payload.get("requested_by"),
        requested_centre=payload.get("requested_centre"), state=ACT_PENDING, created_ts=now, expires_ts=expires,
    ))
    return get_actuation(session, request_id)


def update_actuation(session: Session, request_id: str, direction: str, values: Mapping[str, Any],
                     from_states: Iterable[str] = (ACT_PENDING,)) -> dict[str, Any] | None:
    """Change a request that is in one of `from_states`; the request as it is now, or None if unchanged."""
    condition = [_ACT.c.request_id == request_id, _ACT.c.direction == direction,
                 _ACT.c.state.in_(list(from_states))]
    result = session.execute(update(_ACT).where(*condition).values(**values))
    if not getattr(result, "rowcount", 0):
        return None
    return get_actuation(session, request_id)


def _apply_response(session: Session, envelope: Envelope) -> dict[str, Any] | None:
    payload = envelope.payload
    if payload.get("request_type") != TYPE_ACTUATION_REQUEST:
        return None
    values = {"state": str(payload.get("state")), "responded_ts": float(payload.get("responded_ts") or envelope.ts),
              "responded_by": payload.get("responded_by"), "note": payload.get("note"), "error": payload.get("error")}
    # an answer also replaces the `expired` we noted ourselves while the owner could not be heard
    return update_actuation(session, str(payload.get("request_id", "")), DIRECTION_OUT, values,
                            (ACT_PENDING, ACT_EXPIRED))


def apply_inbound(session: Session, envelopes: Sequence[Envelope], now: float, window: float,
                  actuation_timeout: float, peers: Mapping[str, dict[str, Any]]) -> list[Inbound]:
    """Remember each envelope's id (a repeat is not fresh) and store what fresh ones change; save peers' streams."""
    results: list[Inbound] = []
    for envelope in envelopes:
        fresh = remember_seen(session, f"{INBOX_SCOPE_PREFIX}{envelope.origin}", envelope.id, now, now + window)
        item = Inbound(envelope, fresh)
        if fresh:
            if envelope.type == TYPE_STATE:
                item.apply = _apply_state(session, envelope)
            elif envelope.type == TYPE_ALARM:
                item.apply = _apply_alarm(session, envelope)
            elif envelope.type == TYPE_INCIDENT:
                item.apply = _apply_incident(session, envelope)
            elif envelope.type == TYPE_ACTUATION_REQUEST:
                item.record = _insert_request(session, envelope, now, actuation_timeout)
            elif envelope.type == TYPE_RESPONSE:
                item.record = _apply_response(session, envelope)
        results.append(item)
    _save_peers(session, peers)
    return results


# --------------------------------------------------------------------------- loading


@dataclass(slots=True)
class LoadedState:
    """Everything the federation keeps, read at start."""

    peers: dict[str, PeerStream]
    states: list[dict[str, Any]]
    alarms: list[dict[str, Any]]
    epoch: str | None
    last_seq: int
    incidents: list[dict[str, Any]] = field(default_factory=list)


def load_all(session: Session) -> LoadedState:
    """Peers' streams, remote states and alarms, and our own stream."""
    peers: dict[str, PeerStream] = {}
    for row in session.execute(select(_PEER)):
        missing = {int(seq): float(ts) for seq, ts in orjson.loads(row.missing or "[]")}
        peers[row.site] = PeerStream(row.epoch or None, int(row.last_seq), missing, float(row.last_seen_ts))
    states = [{"entity_id": r.entity_id, "origin_site": r.origin_site, "origin_entity_id": r.origin_entity_id,
               "state": r.state, "attributes": orjson.loads(r.attributes), "last_changed_ts": r.last_changed_ts,
               "last_updated_ts": r.last_updated_ts, "context": orjson.loads(r.context)}
              for r in session.execute(select(_RSTATE))]
    alarms = [orjson.loads(r.data) | {"origin_site": r.origin_site}
              for r in session.execute(select(_RALARM).order_by(_RALARM.c.updated_ts))]
    incidents = [orjson.loads(r.data) | {"origin_site": r.origin_site}
                 for r in session.execute(select(_RINCIDENT).order_by(_RINCIDENT.c.updated_ts))]
    stream = session.execute(select(_STREAM.c.epoch, _STREAM.c.seq).where(_STREAM.c.name == _STREAM_NAME)).first()
    return LoadedState(peers, states, alarms, stream.epoch if stream else None, int(stream.seq) if stream else 0,
                       incidents)


def list_actuations(session: Session, *, state: str | None = None, direction: str | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
    """Requests, newest first."""
    query = select(_ACT)
    if state is not None:
        query = query.where(_ACT.c.state == state)
    if direction is not None:
        query = query.where(_ACT.c.direction == direction)
    return [actuation_dict(r) for r in session.execute(query.order_by(_ACT.c.created_ts.desc()).limit(limit))]


def insert_outgoing_request(session: Session, request: Mapping[str, Any]) -> None:
    """Store a request we send (direction out), in the transaction that stages it."""
    session.execute(insert(_ACT).values(**{**request, "data": _dumps(request.get("data") or {})}))
