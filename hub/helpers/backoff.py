"""One exponential backoff for every reconnect and restart loop in the hub (recorder, relay, links, workers)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass(slots=True)
class Backoff:
    """Delays that double per failure from `initial` up to `maximum`, with +-`jitter` (a fraction), reset on success.

    `delay()` returns the delay to wait before the next attempt and advances; `reset()` is called after a success.
    `full_jitter=True` draws uniformly from [0, ceiling] instead (for many clients retrying one server).
    Thread-safe enough for one owner: each loop or thread keeps its own instance.
    """

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.1
    full_jitter: bool = False
    failures: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError(
                f"backoff needs 0 <= initial <= maximum and factor >= 1, "
                f"got {self.initial}, {self.maximum}, {self.factor}"
            )
        if not 0 <= self.jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {self.jitter}")

    @property
    def ceiling(self) -> float:
        """The undithered delay for the current failure count."""
        exponent = min(self.failures, 64)
        return min(self.maximum, self.initial * self.factor**exponent)

    def peek(self) -> float:
        """The next delay without jitter, without advancing."""
        return self.ceiling

    def delay(self) -> float:
        """The delay before the next attempt; counts one more failure."""
        ceiling = self.ceiling
        self.failures += 1
        if self.full_jitter:
            return self._rng.uniform(0.0, ceiling)
        if self.jitter:
            return max(0.0, ceiling * (1.0 + self._rng.uniform(-self.jitter, self.jitter)))
        return ceiling

    def reset(self) -> None:
        """Back to the initial delay after a success."""
        self.failures = 0
