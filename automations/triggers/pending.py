"""`for:` timers shared by the state, numeric_state and template triggers (and their durable records)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from hub.core import Hub
from hub.exceptions import HubError
from hub.helpers.template import Template, render_complex

from ..helpers import parse_time_period

__all__ = ["ForStore", "PendingTimers", "resolve_for"]

_LOGGER = logging.getLogger(__name__)


class ForStore(Protocol):
    """Where pending `for:` deadlines are kept across restarts (see automations.durable)."""

    def save(self, key: str, deadline: float, data: Mapping[str, Any]) -> None: ...

    def delete(self, key: str) -> None: ...

    def restored(self, key: str) -> tuple[float, Mapping[str, Any]] | None: ...


def resolve_for(hub: Hub, value: timedelta | Template | dict[str, Any] | None,
                variables: Mapping[str, Any]) -> float | None:
    """Seconds of a `for:` (rendering a template with the trigger variables); None when absent."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    rendered = render_complex(hub, value, variables)
    try:
        return parse_time_period(rendered).total_seconds()
    except ValueError as err:
        raise HubError(f"'for' rendered to {rendered!r}: {err}") from None


class PendingTimers:
    """One timer per key (an entity id); starting a key again restarts it."""

    __slots__ = ("_hub", "_prefix", "_store", "_timers")

    def __init__(self, hub: Hub, store: ForStore | None = None, prefix: str = "") -> None:
        self._hub = hub
        self._store = store
        self._prefix = prefix
        self._timers: dict[str, Any] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._timers

    def start(self, key: str, deadline: float, fire: Callable[[], None],
              data: Mapping[str, Any] | None = None) -> None:
        """Call `fire()` at `deadline` (epoch seconds on hub.clock) unless cancelled first."""
        self.cancel(key, forget=False)

        def _due() -> None:
            self._timers.pop(key, None)
            if self._store is not None:
                self._store.delete(self._prefix + key)
            try:
                fire()
            except Exception:
                _LOGGER.exception("Error firing a 'for' trigger (%s)", key)

        self._timers[key] = self._hub.clock.call_at(deadline, _due)
        if self._store is not None:
            self._store.save(self._prefix + key, deadline, data or {})

    def cancel(self, key: str, forget: bool = True) -> None:
        """Cancel the timer of `key` (and its durable record unless `forget` is False)."""
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()
            if forget and self._store is not None:
                self._store.delete(self._prefix + key)

    def restored(self, key: str) -> tuple[float, Mapping[str, Any]] | None:
        """A deadline persisted before a restart for `key`, if any."""
        if self._store is None:
            return None
        return self._store.restored(self._prefix + key)

    def forget_restored(self, key: str) -> None:
        """Drop a restored record that no longer applies."""
        if self._store is not None:
            self._store.delete(self._prefix + key)

    def cancel_all(self, forget: bool = True) -> None:
        """Cancel every timer (the durable store keeps its records when the hub is stopping)."""
        for key in list(self._timers):
            self.cancel(key, forget)
