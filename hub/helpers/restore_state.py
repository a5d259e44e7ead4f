"""Entities that come back with their last state after a restart (helpers, counters, timers).

A `RestoreEntity` reads what it last wrote with `await self.async_get_last_state()` (and its own extra
data with `async_get_last_extra_data()`) in `async_added_to_hub`. Every state it writes is kept in
memory and saved to `.storage/core.restore_state` within a second and on `hub_final_write`, so a
clean stop loses nothing and a crash loses at most the last second. States of entities that are not
loaded now are kept for a week (as Home Assistant does), so an integration that fails once does not
lose its helpers' values, and a helper deleted from the configuration is forgotten in the end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from ..core import Hub, HubKey, State, callback
from .entity import Entity
from .storage import Store

__all__ = ["RestoreEntity", "StoredState", "async_get_restore_data"]

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY = "core.restore_state"
STORAGE_VERSION = 1
SAVE_DELAY = 1.0
KEEP_UNLOADED_S = 7 * 24 * 3600  # how long the state of an entity that is not loaded is kept


class StoredState(dict[str, Any]):
    """What was saved for one entity: `state`, `attributes`, `last_changed` (ts), `extra` data, `saved` (ts)."""


class RestoreStateData:
    """The saved states of every restore entity of a hub, loaded once."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.store: Store[dict[str, StoredState]] = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self.states: dict[str, StoredState] = {}
        self.live: set[str] = set()  # entity ids of the restore entities loaded now
        self._loaded = False

    async def async_load(self) -> None:
        """Read the stored states (once); an unreadable store starts empty and says so."""
        if self._loaded:
            return
        self._loaded = True
        try:
            data = await self.store.async_load()
        except Exception as err:  # a broken store must not keep helpers from loading
            _LOGGER.error("Cannot restore entity states, helpers start from their initial values: %s", err)
            data = None
        if isinstance(data, dict):
            for entity_id, stored in data.items():
                if isinstance(stored, dict) and "state" in stored:
                    self.states.setdefault(entity_id, StoredState(stored))

    @callback
    def async_remember(self, entity_id: str, stored: StoredState) -> None:
        """Keep `stored` as the entity's last state and schedule a save.

        Values JSON cannot hold (a template attribute that rendered an object) are kept as text, so one
        odd attribute never costs the other entities their saved states.
        """
        try:
            orjson.dumps(stored)
        except TypeError:
            stored = StoredState(orjson.loads(orjson.dumps(stored, default=str)))
        self.states[entity_id] = stored
        self.store.async_delay_save(self._dump, SAVE_DELAY)

    def _dump(self) -> dict[str, StoredState]:
        cutoff = self.hub.clock.time() - KEEP_UNLOADED_S
        for entity_id in [eid for eid, stored in self.states.items()
                          if eid not in self.live and float(stored.get("saved") or 0) < cutoff]:
            del self.states[entity_id]
        return dict(self.states)


_DATA: HubKey[RestoreStateData] = HubKey("restore_state")


async def async_get_restore_data(hub: Hub) -> RestoreStateData:
    """The hub's restore data, loaded."""
    data = hub.data.get(_DATA)
    if data is None:
        data = hub.data[_DATA] = RestoreStateData(hub)
    await data.async_load()
    return data


class RestoreEntity(Entity):
    """An entity whose state (and `extra_restore_data`) survives a restart of the hub."""

    _restore_data: RestoreStateData | None = None

    async def async_get_last_state(self) -> State | None:
        """The state this entity last wrote before the restart, or None."""
        stored = await self._async_stored()
        if stored is None:
            return None
        changed = stored.get("last_changed")
        return State(self.entity_id, str(stored["state"]), stored.get("attributes") or {},
                     last_changed_ts=changed, last_updated_ts=changed)

    async def async_get_last_extra_data(self) -> Mapping[str, Any] | None:
        """The `extra_restore_data` saved with the last state, or None."""
        stored = await self._async_stored()
        return None if stored is None else stored.get("extra")

    @property
    def extra_restore_data(self) -> Mapping[str, Any] | None:
        """Data beyond the state to keep across restarts (a timer's deadline); JSON values only."""
        return None

    async def _async_stored(self) -> StoredState | None:
        if self._restore_data is None:
            self._restore_data = await async_get_restore_data(self.hub)
        return self._restore_data.states.get(self.entity_id)

    @callback
    def async_write_state(self) -> None:
        """Write the state and remember it for the next start."""
        super().async_write_state()
        data = self._restore_data or self.hub.data.get(_DATA)
        state = self.hub.states.get(self.entity_id)
        if data is None or state is None or state.state == "unavailable":
            return
        data.async_remember(self.entity_id, StoredState(
            state=state.state, attributes=dict(state.attributes), last_changed=state.last_changed_ts,
            extra=self.extra_restore_data, saved=self.hub.clock.time(),
        ))

    async def async_added_to_hub(self) -> None:
        """Load the saved states before the first write (subclasses call super first)."""
        await self._async_stored()
        data = self._restore_data
        if data is not None:
            entity_id = self.entity_id
            data.live.add(entity_id)
            self.async_on_remove(lambda: data.live.discard(entity_id))
