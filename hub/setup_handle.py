"""An integration's setup handle: what its setup leaves behind, undone by the loader.

During `async_setup`, an integration hands every remover it gets (services, listeners, views, timers) to
`async_get_setup_handle(hub, DOMAIN).async_on_unload(remover)` instead of keeping its own list. The setup
manager (hub.setup) drains the handle after the integration's `async_unload`, and after a failed or timed-out
setup, so what a half-done setup registered is removed too. Removers run newest first; one that raises is
logged and the others still run; a remover may return an awaitable (a coroutine), which is awaited.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from .core import Hub, HubKey, callback

__all__ = ["SetupHandle", "async_drain_setup_handle", "async_get_setup_handle"]

_LOGGER = logging.getLogger(__name__)

_HANDLES: HubKey[dict[str, SetupHandle]] = HubKey("setup_handles")


class SetupHandle:
    """The removers one integration's setup registered."""

    __slots__ = ("_on_unload", "domain")

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self._on_unload: list[Callable[[], Any]] = []

    def __repr__(self) -> str:
        return f"<SetupHandle {self.domain}: {len(self._on_unload)} to undo>"

    @callback
    def async_on_unload(self, func: Callable[[], Any]) -> None:
        """Call `func` when the integration is unloaded (or its setup failed)."""
        self._on_unload.append(func)

    async def async_drain(self) -> None:
        """Call every registered function, newest first; each failure is logged, none stops the rest."""
        while self._on_unload:
            func = self._on_unload.pop()
            try:
                result = func()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                _LOGGER.exception("Error undoing part of the %s setup (%r)", self.domain, func)


@callback
def async_get_setup_handle(hub: Hub, domain: str) -> SetupHandle:
    """The setup handle of `domain` (created on first use; the setup manager drains it on unload)."""
    handles = hub.data.setdefault(_HANDLES, {})
    handle = handles.get(domain)
    if handle is None:
        handle = handles[domain] = SetupHandle(domain)
    return handle


async def async_drain_setup_handle(hub: Hub, domain: str) -> None:
    """Undo what `domain`'s setup registered (the setup manager calls this; so may a test without one)."""
    handle = hub.data.get(_HANDLES, {}).pop(domain, None)
    if handle is not None:
        await handle.async_drain()
