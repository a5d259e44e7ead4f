"""What goes into the outbox, what comes back out of it, and how long to wait before trying again."""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..helpers.ids import uuid7_str
from .const import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    DEFAULT_MAX_ATTEMPTS,
    MAX_RETRY_AFTER,
    MessageState,
)

__all__ = [
    "DeliveryReport",
    "DeliveryResult",
    "NewMessage",
    "OutboxMessage",
    "Outcome",
    "RetryPolicy",
]


class Outcome(enum.StrEnum):
    """What a deliverer made of one attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"  # failed; try again later (until max_attempts, then dead)
    DEAD = "dead"  # can never succeed (a payload the deliverer cannot send): dead-letter it now
    PAUSE = "pause"  # the destination is gone: hold its messages until it is resumed


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The result of one delivery attempt. `retry_after` (seconds) is the destination's own wish."""

    outcome: Outcome
    error: str | None = None
    retry_after: float | None = None
    status: int | None = None  # the transport's status code (HTTP), for status events

    @classmethod
    def delivered(cls, status: int | None = None) -> DeliveryResult:
        """The destination took it."""
        return cls(Outcome.DELIVERED, status=status)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None, status: int | None = None) -> DeliveryResult:
        """It failed this time."""
        return cls(Outcome.RETRY, error, retry_after, status)

    @classmethod
    def dead(cls, error: str, status: int | None = None) -> DeliveryResult:
        """It will never succeed."""
        return cls(Outcome.DEAD, error, status=status)

    @classmethod
    def pause(cls, error: str, status: int | None = None) -> DeliveryResult:
        """The destination is gone; keep the message until it comes back."""
        return cls(Outcome.PAUSE, error, status=status)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry: exponential backoff with full jitter.

    After the n-th failed attempt the next one waits a random time in
    [min_delay, min(cap, base * 2**(n-1))] (full jitter spreads a crowd of retries out), or what
    the destination asked for (Retry-After), up to MAX_RETRY_AFTER.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    min_delay: float = 1.0

    def delay(self, attempts: int, retry_after: float | None = None,
              rng: random.Random | None = None) -> float:
        """Seconds to wait after `attempts` failed attempts."""
        if retry_after is not None:
            return min(max(0.0, retry_after), MAX_RETRY_AFTER)
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, min(attempts - 1, 62)))
        ceiling = max(ceiling, self.min_delay)
        return (rng or random).uniform(self.min_delay, ceiling)


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to add to the outbox. `id` (a UUIDv7) is made here unless given.

    `payload` is sent as is on every attempt. `not_before` (epoch seconds) delays the first one.
    """

    destination: str
    kind: str
    payload: str
    headers: Mapping[str, str] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    id: str = field(default_factory=uuid7_str)
    not_before: float | None = None


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A snapshot of one outbox row."""

    id: str
    destination: str
    kind: str
    payload: str
    headers: Mapping[str, str]
    meta: Mapping[str, Any]
    correlation_id: str | None
    state: MessageState
    attempts: int
    created_ts: float
    next_attempt_ts: float
    updated_ts: float
    delivered_ts: float | None
    last_error: str | None

    def as_dict(self, *, with_payload: bool = False) -> dict[str, Any]:
        """JSON-able (REST API, status events); the payload only when asked."""
        data: dict[str, Any] = {
            "id": self.id,
            "destination": self.destination,
            "kind": self.kind,
            "correlation_id": self.correlation_id,
            "state": self.state.value,
            "attempts": self.attempts,
            "created": _iso(self.created_ts),
            "next_attempt_at": _iso(self.next_attempt_ts) if self.state is MessageState.PENDING else None,
            "delivered": _iso(self.delivered_ts),
            "last_error": self.last_error,
            "meta": dict(self.meta),
        }
        if with_payload:
            data["payload"] = self.payload
            data["headers"] = dict(self.headers)
        return data


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What happened to a message after an attempt, once it is recorded (given to `on_report`)."""

    message: OutboxMessage  # the row as it is now
    result: DeliveryResult
    max_attempts: int

    @property
    def delivered(self) -> bool:
        """Whether it reached its destination."""
        return self.message.state is MessageState.DELIVERED

    @property
    def dead(self) -> bool:
        """Whether it went to the dead-letter list."""
        return self.message.state is MessageState.DEAD
