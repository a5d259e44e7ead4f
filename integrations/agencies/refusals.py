"""Webhook requests that prove no agency (unsigned, forged, stale, oversized): their own budget, one audit a minute.

They never touch an agency's rate limit: each source address has its own small token bucket
(ANONYMOUS_RATE a second up to ANONYMOUS_BURST), past which it gets 429 at once. Their refusals
are audited aggregated, one `webhook_refused` entry per source address and minute with the count,
the codes and the webhooks tried, written when the minute ends (or when the integration stops),
so a flood of anonymous POSTs adds a handful of audit rows, not one per request.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.helpers.event import async_track_point_in_time

from .audit import audit
from .const import AUDIT_ACTION_WEBHOOK_REFUSED

__all__ = [
    "ANONYMOUS_BURST",
    "ANONYMOUS_RATE",
    "AUDIT_WINDOW",
    "AnonymousRefusals",
    "TokenBucket",
]

_LOGGER = logging.getLogger(__name__)

ANONYMOUS_RATE: Final = 1.0  # requests a second per source address
ANONYMOUS_BURST: Final = 20
AUDIT_WINDOW: Final = 60.0  # one audit entry per address and window
MAX_ADDRESSES: Final = 10_000  # beyond this many at once, addresses share one bucket and one entry
OTHER_ADDRESSES: Final = "other"


class TokenBucket:
    """`rate` tokens a second up to `burst`; each request takes one (on the hub's monotonic clock)."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise seconds until one is available."""
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


@dataclass(slots=True)
class _Window:
    start: float
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    webhooks: Counter[str] = field(default_factory=Counter)


class AnonymousRefusals:
    """Per-address budgets and the aggregated audit of refused anonymous webhook requests."""

    def __init__(self, hub: Hub, *, rate: float = ANONYMOUS_RATE, burst: int = ANONYMOUS_BURST) -> None:
        self.hub = hub
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._windows: dict[str, _Window] = {}
        self._timer: CALLBACK_TYPE | None = None

    @callback
    def take(self, remote: str) -> float:
        """Count one request of this address against its budget: 0 when within it, else seconds to wait."""
        now = self.hub.clock.monotonic()
        bucket = self._buckets.pop(remote, None)
        if bucket is None:
            if len(self._buckets) >= MAX_ADDRESSES:
                self._buckets.popitem(last=False)  # the least recently seen address starts afresh
            bucket = TokenBucket(self.rate, self.burst, now)
        self._buckets[remote] = bucket  # most recent last
        return bucket.take(now)

    @callback
    def record(self, remote: str, webhook_id: str, status: int, code: str) -> None:
        """Count a refusal in this address's current window (audited when the window ends)."""
        now = self.hub.clock.time()
        start = now - now % AUDIT_WINDOW
        if remote not in self._windows and len(self._windows) >= MAX_ADDRESSES:
            remote = OTHER_ADDRESSES
        window = self._windows.get(remote)
        if window is not None and window.start != start:
            self._write(remote, self._windows.pop(remote))
            window = None
        if window is None:
            window = self._windows[remote] = _Window(start)
            _LOGGER.warning("Refused an unsigned or invalid webhook request from %s (%s); further ones "
                            "from it this minute are counted in one audit entry", remote, code)
            self._schedule()
        window.statuses[status] += 1
        window.codes[code] += 1
        window.webhooks[webhook_id] += 1

    @callback
    def async_flush(self) -> None:
        """Audit every open window now and stop the timer (the integration is stopping)."""
        if self._timer is not None:
            self._timer()
            self._timer = None
        for remote, window in list(self._windows.items()):
            self._write(remote, window)
        self._windows.clear()

    def _schedule(self) -> None:
        if self._timer is None and self._windows:
            end = min(window.start for window in self._windows.values()) + AUDIT_WINDOW
            self._timer = async_track_point_in_time(self.hub, self._flush_due, end)

    @callback
    def _flush_due(self, _now: datetime) -> None:
        self._timer = None
        now = self.hub.clock.time()
        for remote, window in list(self._windows.items()):
            if window.start + AUDIT_WINDOW <= now:
                self._write(remote, self._windows.pop(remote))
        self._schedule()

    def _write(self, remote: str, window: _Window) -> None:
        count = sum(window.codes.values())
        webhooks = dict(window.webhooks)
        target = f"webhook/{next(iter(webhooks))}" if len(webhooks) == 1 else "webhook/*"
        audit(self.hub, AUDIT_ACTION_WEBHOOK_REFUSED, target=target, outcome="refused",
              level=logging.WARNING, data={
                  "remote": remote,
                  "count": count,
                  "status": window.statuses.most_common(1)[0][0],
                  "code": window.codes.most_common(1)[0][0],
                  "statuses": {str(status): n for status, n in window.statuses.items()},
                  "codes": dict(window.codes),
                  "webhooks": webhooks,
                  "from": _iso(window.start),
                  "until": _iso(window.start + AUDIT_WINDOW),
                  "reason": f"{count} unsigned or invalid requests",
              })


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
