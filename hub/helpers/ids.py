"""UUIDv7 identifiers (RFC 9562): time-ordered, unique, and readable back as a time."""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ["Uuid7Generator", "uuid7", "uuid7_str", "uuid7_time"]

_MAX_SEQ = 0xFFF  # rand_a: 12 bits used as a per-millisecond sequence
# A backward step smaller than this is the same clock (NTP, a burst that ran ahead): keep the
# order. A larger one is another clock (a test's FakeClock): start from its time instead.
_SAME_STREAM_MS = 10_000


class Uuid7Generator:
    """Makes UUIDv7s that sort in creation order, also within one millisecond.

    Layout: 48 bits of Unix milliseconds, version 7, a 12-bit sequence (random start each new
    millisecond, +1 for every further id in it; on overflow the millisecond moves on by one),
    the RFC variant and 62 random bits. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._seq = 0

    def new(self, ts: float | None = None) -> uuid.UUID:
        """A new UUIDv7 for epoch time `ts` (seconds; default: now)."""
        ms = int((time.time() if ts is None else ts) * 1000)
        rand = int.from_bytes(os.urandom(10), "big")
        with self._lock:
            if self._last_ms - _SAME_STREAM_MS < ms <= self._last_ms:
                ms = self._last_ms
                self._seq += 1
                if self._seq > _MAX_SEQ:
                    ms += 1
                    self._seq = rand >> 68  # a fresh start below half the range leaves room to count
            else:
                self._seq = rand >> 69
            self._last_ms = ms
            seq = self._seq
        value = (ms & 0xFFFF_FFFF_FFFF) << 80
        value |= 0x7 << 76
        value |= seq << 64
        value |= 0b10 << 62
        value |= rand & 0x3FFF_FFFF_FFFF_FFFF
        return uuid.UUID(int=value)


_GENERATOR = Uuid7Generator()


def uuid7(ts: float | None = None) -> uuid.UUID:
    """A new UUIDv7 (time-ordered) for epoch time `ts` in seconds, default now."""
    return _GENERATOR.new(ts)


def uuid7_str(ts: float | None = None) -> str:
    """A new UUIDv7 in its canonical 36-character text form."""
    return str(_GENERATOR.new(ts))


def uuid7_time(value: uuid.UUID | str) -> float:
    """The epoch time (seconds, millisecond precision) a UUIDv7 was made for.

    Raises ValueError for text that is not a UUID, or a UUID of another version.
    """
    parsed = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    if parsed.version != 7:
        raise ValueError(f"{value} is not a UUIDv7")
    return (parsed.int >> 80) / 1000.0
