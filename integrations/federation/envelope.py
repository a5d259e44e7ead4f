"""The envelope every federated message travels in, and the topics it travels on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.helpers.ids import uuid7_str

from .const import DIRECTED_TYPES, ENVELOPE_TYPES, ENVELOPE_VERSION, TOPIC_TO

__all__ = ["Envelope", "EnvelopeError", "TopicParts", "directed_topic", "parse_topic"]

_MAX_HOPS = 16


class EnvelopeError(ValueError):
    """A payload that is not a valid envelope (the message names what is wrong)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One federated message.

    `id` is a UUIDv7 (receivers deduplicate by it); `origin` the site that produced it; `epoch`
    names the origin's sequence stream (a new database starts a new one); `seq` counts the
    origin's messages in that stream, so a receiver can tell when one is missing; `ts` when it
    was produced; `hops` every site it has passed through (a site never takes in a message that
    already passed through it, and never passes on what it did not produce). `to` is the site a
    directed message (request, response) is for.
    """

    type: str
    origin: str
    payload: dict[str, Any]
    seq: int = 0
    epoch: str = ""
    ts: float = 0.0
    id: str = field(default_factory=uuid7_str)
    hops: tuple[str, ...] = ()
    to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        data: dict[str, Any] = {
            "v": ENVELOPE_VERSION,
            "id": self.id,
            "origin": self.origin,
            "epoch": self.epoch,
            "seq": self.seq,
            "time": datetime.fromtimestamp(self.ts, UTC).isoformat(),
            "ts": self.ts,
            "type": self.type,
            "hops": list(self.hops) or [self.origin],
            "payload": self.payload,
        }
        if self.to is not None:
            data["to"] = self.to
        return data

    def encode(self) -> str:
        """The JSON text sent on the wire."""
        return orjson.dumps(self.as_dict(), option=orjson.OPT_NON_STR_KEYS).decode()

    @classmethod
    def decode(cls, raw: bytes | str) -> Envelope:
        """Parse and check an envelope; EnvelopeError says what is wrong."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise EnvelopeError(f"not JSON: {err}") from None
        if not isinstance(data, dict):
            raise EnvelopeError("not a JSON object")
        if data.get("v") != ENVELOPE_VERSION:
            raise EnvelopeError(f"unknown envelope version {data.get('v')!r}")
        kind = data.get("type")
        if kind not in ENVELOPE_TYPES:
            raise EnvelopeError(f"unknown message type {kind!r}")
        for key in ("id", "origin", "epoch"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise EnvelopeError(f"'{key}' must be a non-empty string")
        seq, ts = data.get("seq"), data.get("ts")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise EnvelopeError("'seq' must be a positive integer")
        if not isinstance(ts, int | float) or isinstance(ts, bool):
            raise EnvelopeError("'ts' must be a number")
        hops = data.get("hops")
        if not isinstance(hops, list) or not hops or len(hops) > _MAX_HOPS or \
                not all(isinstance(hop, str) for hop in hops):
            raise EnvelopeError("'hops' must be a non-empty list of sites")
        payload = data.get("payload")
        if not isinstance(payload, dict):
            raise EnvelopeError("'payload' must be an object")
        to = data.get("to")
        if kind in DIRECTED_TYPES and not isinstance(to, str):
            raise EnvelopeError(f"a {kind} needs 'to'")
        return cls(type=kind, origin=data["origin"], payload=payload, seq=seq, epoch=data["epoch"],
                   ts=float(ts), id=data["id"], hops=tuple(hops), to=to if isinstance(to, str) else None)


@dataclass(frozen=True, slots=True)
class TopicParts:
    """`<prefix>/<site>/<channel>/<rest>` taken apart."""

    site: str
    channel: str
    rest: str


def parse_topic(prefix: str, topic: str) -> TopicParts | None:
    """Split a federation topic; None when it is not under `prefix`."""
    head = f"{prefix}/"
    if not topic.startswith(head):
        return None
    site, _, remainder = topic[len(head):].partition("/")
    channel, _, rest = remainder.partition("/")
    if not site or not channel:
        return None
    return TopicParts(site, channel, rest)


def directed_topic(prefix: str, origin: str, to: str, kind: str) -> str:
    """Where `origin` publishes a request or response for `to`."""
    return f"{prefix}/{origin}/{TOPIC_TO}/{to}/{kind}"
