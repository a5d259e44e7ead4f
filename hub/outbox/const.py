"""Constants of the durable outbox: row states and the relay's defaults."""

from __future__ import annotations

import enum
from typing import Final

__all__ = [
    "CLAIM_BATCH",
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_CAP",
    "DEFAULT_KEEP_DELIVERED_DAYS",
    "DEFAULT_LEASE",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_CONCURRENT",
    "MAX_RETRY_AFTER",
    "POLL_INTERVAL",
    "PURGE_INTERVAL",
    "MessageState",
]


class MessageState(enum.StrEnum):
    """Where an outbox message stands."""

    PENDING = "pending"  # waiting for its next attempt (or being attempted)
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up: in the dead-letter list until replayed


DEFAULT_MAX_ATTEMPTS: Final = 12
DEFAULT_BACKOFF_BASE: Final = 5.0  # seconds: the first retry waits up to this, doubling each time
DEFAULT_BACKOFF_CAP: Final = 3600.0  # the longest wait between two attempts
MAX_RETRY_AFTER: Final = 24 * 3600.0  # a Retry-After longer than this is cut to it
# While a message is being delivered its next attempt is pushed this far (beyond the deliverer's
# timeout): if the hub dies mid-delivery, the message comes due again after it.
DEFAULT_LEASE: Final = 300.0
DEFAULT_MAX_CONCURRENT: Final = 16
CLAIM_BATCH: Final = 200  # due rows read per claim
POLL_INTERVAL: Final = 60.0  # the relay looks at the table at least this often
PURGE_INTERVAL: Final = 6 * 3600.0
DEFAULT_KEEP_DELIVERED_DAYS: Final = 7
