"""A hub-wide singleton (a registry, a store) kept in `hub.data`, loaded once and shared."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from ..core import Hub, HubKey, callback

__all__ = ["Loadable", "SingletonLoader"]


class Loadable(Protocol):
    """Something with an `async_load()` that reads its persisted data."""

    async def async_load(self) -> None:
        """Read the persisted data."""


_R = TypeVar("_R", bound=Loadable)


class SingletonLoader(Generic[_R]):
    """Creates `factory(hub)`, awaits its `async_load()` and keeps it under `key` in `hub.data`.

    The load runs once: concurrent callers share one task (kept under `<key>_loading` while it
    runs), and a failed load is forgotten so a later call tries again. `what` names the object
    in the task name and errors ("device registry"); `module` names the module whose
    `async_load` must run first ("device_registry").
    """

    def __init__(self, key: HubKey[_R], factory: Callable[[Hub], _R], *, what: str, module: str) -> None:
        self.key = key
        self.loading_key: HubKey[asyncio.Task[_R]] = HubKey(f"{key.name}_loading")
        self._factory = factory
        self._what = what
        self._module = module

    async def async_load(self, hub: Hub) -> _R:
        """The loaded object, loading it on first use (concurrent callers share the load)."""
        loaded: _R | None = hub.data.get(self.key)
        if loaded is not None:
            return loaded
        loading: asyncio.Task[_R] | None = hub.data.get(self.loading_key)
        if loading is None:
            loading = hub.data[self.loading_key] = hub.async_create_task(self._async_load(hub), f"load {self._what}")
        return await asyncio.shield(loading)

    async def _async_load(self, hub: Hub) -> _R:
        loaded = self._factory(hub)
        try:
            await loaded.async_load()
            hub.data[self.key] = loaded
        finally:
            hub.data.pop(self.loading_key, None)
        return loaded

    @callback
    def get(self, hub: Hub) -> _R | None:
        """The loaded object, or None before loading (memory only; safe in the loop)."""
        loaded: _R | None = hub.data.get(self.key)
        return loaded

    @callback
    def async_get(self, hub: Hub) -> _R:
        """The loaded object. Raises LookupError when `async_load` has not run."""
        loaded = self.get(hub)
        if loaded is None:
            raise LookupError(f"The {self._what} is not loaded (call {self._module}.async_load first)")
        return loaded
