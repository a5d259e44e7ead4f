"""Where traces and durable records live: memory by default, the recorder database when there is one.

The engine only talks to `AutomationStore`: `save_trace`, `save_durable`/`delete_durable` (both
cheap, called in the loop) and `records()` (what was loaded at start). `RecorderStore` batches the
writes and hands them to the recorder thread every FLUSH_INTERVAL seconds and when the hub stops.
Once the hub is stopping the store is frozen: runs cancelled by the stop keep their records, so the
next start resumes them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hub.const import EVENT_HUB_STOP
from hub.core import Event, Hub, HubKey, callback
from hub.exceptions import HubError

from .const import DEFAULT_STORED_TRACES, MIGRATIONS, MIGRATIONS_OWNER
from .trace import get_trace_store, run_id_of

__all__ = ["AutomationStore", "DurableRecord", "RecorderStore", "async_setup_storage", "get_store", "set_store"]

_LOGGER = logging.getLogger(__name__)

FLUSH_INTERVAL = 2.0
KIND_RUN = "run"
KIND_FOR = "for"
KIND_STATE = "state"  # an automation turned off (or on) by a person, remembered across restarts

_STORE: HubKey[AutomationStore] = HubKey("automations_store")


@dataclass(slots=True)
class DurableRecord:
    """A waiting run (kind 'run') or a pending `for:` (kind 'for') of automation `owner`."""

    record_id: str
    kind: str
    owner: str
    fingerprint: str | None
    deadline: float | None
    data: bytes


class AutomationStore:
    """In-memory store (also the base of the database one). Passing the same instance to a new hub
    (set_store) behaves like a restart with a database, which tests and rule replays use."""

    def __init__(self, keep_traces: bool = False) -> None:
        self._records: dict[str, DurableRecord] = {}
        self.traces: dict[str, list[tuple[str, bytes, bool]]] = {}
        self.keep_traces = keep_traces
        self.frozen = False

    async def async_load(self, hub: Hub) -> None:
        """Read what a previous run of the hub left (memory: the traces it kept)."""
        self.frozen = False
        trace_store = get_trace_store(hub)
        for key, kept in self.traces.items():
            for _run_id, blob, is_error in kept:
                trace_store.keep(key, blob, is_error)

    def records(self, kind: str | None = None) -> list[DurableRecord]:
        """Durable records, optionally of one kind."""
        return [r for r in self._records.values() if kind is None or r.kind == kind]

    def get(self, record_id: str) -> DurableRecord | None:
        """One durable record."""
        return self._records.get(record_id)

    @callback
    def save_durable(self, record: DurableRecord) -> None:
        """Insert or replace a durable record."""
        if self.frozen:
            return
        self._records[record.record_id] = record
        self._changed_durable(record.record_id)

    @callback
    def delete_durable(self, record_id: str) -> None:
        """Forget a durable record (ignored once the hub is stopping: the record must survive)."""
        if self.frozen or record_id not in self._records:
            return
        del self._records[record_id]
        self._changed_durable(record_id)

    @callback
    def save_trace(self, key: str, run_id: str, blob: bytes, is_error: bool) -> None:
        """Persist a finished trace (memory: only with keep_traces, the last 20 per key)."""
        if not self.keep_traces:
            return
        kept = self.traces.setdefault(key, [])
        kept.append((run_id, blob, is_error))
        if len(kept) > DEFAULT_STORED_TRACES:
            del kept[0]
        self._changed_trace(key)

    # the database store overrides these to schedule its writes
    def _changed_durable(self, record_id: str) -> None:
        return None

    def _changed_trace(self, key: str) -> None:
        return None

    async def async_flush(self) -> None:
        """Write what is pending (nothing for memory)."""
        return None

    # TraceBackend protocol
    def async_save(self, key: str, run_id: str, blob: bytes, is_error: bool) -> None:
        """The trace store's backend hook."""
        self.save_trace(key, run_id, blob, is_error)


class RecorderStore(AutomationStore):
    """The store in the recorder's database (SQLite or PostgreSQL), written in batches off the loop."""

    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self._hub = hub
        self._dirty_durable: set[str] = set()
        self._new_traces: list[tuple[str, str, bool, float, bytes]] = []
        self._timer: Any = None

    async def async_load(self, hub: Hub) -> None:
        from sqlalchemy import select

        from hub.recorder import get_recorder

        from .models import AutomationDurable, AutomationTrace

        await get_recorder(hub).async_add_version_location(MIGRATIONS_OWNER, MIGRATIONS)  # if not done at start

        def _load(session: Any) -> tuple[list[DurableRecord], list[tuple[str, str, bool, bytes]]]:
            records = [DurableRecord(row.record_id, row.kind, row.owner, row.fingerprint, row.deadline, row.data)
                       for row in session.execute(select(AutomationDurable)).scalars()]
            traces = [(row.key, row.run_id, row.is_error, row.blob) for row in session.execute(
                select(AutomationTrace).order_by(AutomationTrace.trace_id)).scalars()]
            return records, traces

        records, traces = await get_recorder(self._hub).async_db_job(_load)
        self._records = {record.record_id: record for record in records}
        trace_store = get_trace_store(self._hub)
        for key, _run_id, is_error, blob in traces:
            trace_store.keep(key, blob, is_error)
        self.frozen = False
        _LOGGER.debug("Loaded %d durable records and %d traces", len(records), len(traces))

    def save_trace(self, key: str, run_id: str, blob: bytes, is_error: bool) -> None:
        self._new_traces.append((key, run_id, is_error, self._hub.clock.time(), blob))
        self._schedule()

    def _changed_durable(self, record_id: str) -> None:
        self._dirty_durable.add(record_id)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and not self.frozen:
            self._timer = self._hub.loop.call_later(FLUSH_INTERVAL, self._flush_soon)

    def _flush_soon(self) -> None:
        self._timer = None
        self._hub.async_create_background_task(self.async_flush(), "automations store flush")

    async def async_flush(self) -> None:
        from hub.recorder import get_recorder

        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        dirty, self._dirty_durable = self._dirty_durable, set()
        upserts = [self._records[rid] for rid in dirty if rid in self._records]
        deletes = [rid for rid in dirty if rid not in self._records]
        traces, self._new_traces = self._new_traces, []
        if not (upserts or deletes or traces):
            return
        keep = _kept_run_ids(self._hub, {key for key, *_ in traces})
        now = self._hub.clock.time()
        try:
            await get_recorder(self._hub).async_db_job(
                lambda session: _write(session, upserts, deletes, traces, keep, now))
        except HubError as err:
            _LOGGER.warning("Automation traces and waiting runs not saved: %s", err)


def _kept_run_ids(hub: Hub, keys: Iterable[str]) -> dict[str, set[str]]:
    """Per key, the run ids the in-memory trace store still keeps (the database keeps the same)."""
    store = get_trace_store(hub)
    result: dict[str, set[str]] = {}
    for key in keys:
        ids = set()
        for blob in store.kept_blobs(key):
            try:
                ids.add(run_id_of(blob))
            except (ValueError, IndexError):
                continue
        result[key] = ids
    return result


def _write(session: Any, upserts: list[DurableRecord], deletes: list[str],
           traces: list[tuple[str, str, bool, float, bytes]], keep: dict[str, set[str]], now: float) -> None:
    from sqlalchemy import delete

    from .models import AutomationDurable, AutomationTrace

    if deletes:
        session.execute(delete(AutomationDurable).where(AutomationDurable.record_id.in_(deletes)))
    for record in upserts:
        session.merge(AutomationDurable(record_id=record.record_id, kind=record.kind, owner=record.owner,
                                        fingerprint=record.fingerprint, deadline=record.deadline,
                                        data=record.data, updated_ts=now))
    for key, run_id, is_error, start, blob in traces:
        if run_id in keep.get(key, ()):
            session.add(AutomationTrace(key=key, run_id=run_id, is_error=is_error, start_ts=start, blob=blob))
    session.flush()
    for key, ids in keep.items():
        session.execute(delete(AutomationTrace).where(AutomationTrace.key == key,
                                                      AutomationTrace.run_id.not_in(ids or {""})))


def _has_recorder(hub: Hub) -> bool:
    # A hub without the recorder never imported it: do not pay for SQLAlchemy to find that out.
    recorder_module = sys.modules.get("hub.recorder")
    if recorder_module is None:
        return False
    try:
        recorder_module.get_recorder(hub)
    except HubError:
        return False
    return True


@callback
def set_store(hub: Hub, store: AutomationStore) -> None:
    """Use `store` (before async_setup); the same instance across hubs simulates a restart."""
    hub.data[_STORE] = store


def get_store(hub: Hub) -> AutomationStore:
    """The hub's store (memory unless the recorder is set up)."""
    store = hub.data.get(_STORE)
    if store is None:
        store = hub.data[_STORE] = AutomationStore()
    return store


async def async_setup_storage(hub: Hub) -> AutomationStore:
    """Choose the store (the recorder's database when it runs), load it, and flush it at stop."""
    store = hub.data.get(_STORE)
    if store is None:
        store = RecorderStore(hub) if _has_recorder(hub) else AutomationStore()
        hub.data[_STORE] = store
        try:
            await store.async_load(hub)
        except Exception:  # an unreadable table must not keep automations from running
            _LOGGER.exception("Cannot load automation traces and waiting runs; starting without them")
        get_trace_store(hub).backend = store

        async def _on_stop(event: Event) -> None:
            store.frozen = True
            await store.async_flush()

        hub.bus.async_listen_once(EVENT_HUB_STOP, _on_stop)
    elif get_trace_store(hub).backend is None:
        await store.async_load(hub)
        get_trace_store(hub).backend = store

        @callback
        def _freeze(event: Event) -> None:
            store.frozen = True

        hub.bus.async_listen_once(EVENT_HUB_STOP, _freeze)
    return store
