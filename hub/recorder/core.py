"""The Recorder: a loop-side listener feeding a bounded queue, and the thread that writes it in batches."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..const import EVENT_STATE_CHANGED, MATCH_ALL
from ..core import CALLBACK_TYPE, Event, Hub, State, callback
from ..exceptions import HubError
from ..helpers.backoff import Backoff
from .config import RecorderFilter
from .const import (
    CONF_AUTO_PURGE,
    CONF_COMMIT_INTERVAL,
    CONF_DB_URL,
    CONF_EXCLUDE,
    CONF_INCLUDE,
    CONF_MAX_QUEUE,
    CONF_PURGE_KEEP_DAYS,
    CONF_PURGE_KEEP_DAYS_BY_DOMAIN,
    DEFAULT_DB_FILE,
    DRAIN_INTERVAL,
    FIRST_CONNECT_TIMEOUT,
    MAX_PENDING_ROWS,
    MAX_RECONNECT_BACKOFF,
    WAKE_EVERY,
    YIELD_EVERY,
)
from .engine import create_db_engine, is_connection_error, redact_url
from .history import get_history, to_timestamp
from .migration import (
    VersionLocation,
    migrate_connection,
    migrate_schema,
    registered_version_locations,
    version_locations,
)
from .models import RecorderRuns
from .purge import PurgeResult, effective_keep_days, purge_batch
from .queries import get_events
from .writer import BatchWriter, Row, RowEncoder

__all__ = ["Recorder"]

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")


def _take(source: queue.Queue[Row], limit: int) -> list[Row]:
    """Take up to `limit` items at once under the queue's lock (one lock round instead of one per item)."""
    with source.mutex:
        pending = source.queue
        if len(pending) <= limit:
            items = list(pending)
            pending.clear()
        else:
            items = [pending.popleft() for _ in range(limit)]
        if items:
            source.not_full.notify_all()
    return items


def _halves(states: list[Any], events: list[Any]) -> list[tuple[list[Any], list[Any]]]:
    """Two smaller parts of a batch of (states, events) with more than one row in all."""
    if len(states) > 1:
        half = len(states) // 2
        return [(states[half:], []), (states[:half], events)]
    if len(events) > 1:
        half = len(events) // 2
        return [([], events[half:]), (states, events[:half])]
    return [([], events), (states, [])]


def _start_run(session: Session) -> int:
    """Close runs left open by a crash (closed_incorrect) and open this one; returns its id."""
    now = time.time()
    session.execute(
        update(RecorderRuns).where(RecorderRuns.end_ts.is_(None)).values(end_ts=now, closed_incorrect=True)
    )
    run = RecorderRuns(start_ts=now, closed_incorrect=False)
    session.add(run)
    session.commit()
    return run.run_id


# --------------------------------------------------------------------------- tasks for the thread


@dataclass(slots=True)
class _Task:
    """Work for the recorder thread; `future` lives in the loop and is resolved thread-safely."""

    future: asyncio.Future[Any]


@dataclass(slots=True)
class _FlushTask(_Task):
    pass


@dataclass(slots=True)
class _JobTask(_Task):
    fn: Callable[[Session], Any]


@dataclass(slots=True)
class _PurgeTask(_Task):
    now_ts: float
    keep_days: int
    keep_days_by_domain: dict[str, int]
    result: PurgeResult = field(default_factory=PurgeResult)


@dataclass(slots=True)
class _StopTask(_Task):
    pass


# --------------------------------------------------------------------------- the recorder


class Recorder:
    """Records events and state changes to a database without ever blocking the event loop.

    Loop side: a MATCH_ALL @callback filters, turns the event into a tuple of plain values
    (attributes as JSON, serialized only when they changed) and `put_nowait`s it into a bounded
    queue (drops are counted and logged once). Queueing plain values rather than Event objects
    matters: events waiting for the thread used to survive into the collector's oldest
    generation and trigger full collections that paused the loop for 60 ms and more. Thread
    side: the queue is drained every 0.1 s (sooner in bursts) into pending rows, which are
    bulk-inserted and committed every `commit_interval`. A database error never
    reaches the hub: the thread logs it, reconnects with backoff and keeps rows bounded.
    """

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.db_url: str = config.get(CONF_DB_URL) or f"sqlite:///{hub.path(DEFAULT_DB_FILE)}"
        self.commit_interval: float = config[CONF_COMMIT_INTERVAL]
        self.max_queue: int = config[CONF_MAX_QUEUE]
        self.keep_days: int = config[CONF_PURGE_KEEP_DAYS]
        self.keep_days_by_domain: dict[str, int] = dict(config[CONF_PURGE_KEEP_DAYS_BY_DOMAIN])
        self.auto_purge: bool = config[CONF_AUTO_PURGE]
        self.filter = RecorderFilter(config[CONF_INCLUDE], config[CONF_EXCLUDE])
        self.engine: Engine | None = None
        self.connected = False
        self.dropped_events = 0
        self.rows_written = 0
        self.run_id: int | None = None
        self._queue: queue.Queue[Row] = queue.Queue(maxsize=self.max_queue)
        self._tasks: deque[_Task] = deque()
        self._wake = threading.Event()
        self._writer = BatchWriter()  # thread side
        self._encode = RowEncoder().encode  # loop side
        self._session: Session | None = None
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._drop_logged = False
        self._unwoken = 0
        self._outage_logged = False
        self._first_attempt: asyncio.Future[bool] = hub.loop.create_future()
        self._backoff = Backoff(initial=1.0, maximum=MAX_RECONNECT_BACKOFF, jitter=0.0)
        self._next_connect = 0.0  # monotonic time of the next connection attempt
        self._next_commit = 0.0
        self._removers: list[CALLBACK_TYPE] = []
        self._extra_locations: list[VersionLocation] = list(registered_version_locations(hub))

    # ---- loop side: life cycle

    async def async_start(self, wait_timeout: float = FIRST_CONNECT_TIMEOUT) -> None:
        """Start the thread, listen to every event, and wait for the first connection attempt.

        A database that cannot be reached is logged, not raised: the thread keeps trying.
        """
        if self._thread is not None:
            raise HubError("Recorder already started")
        self._accepting = True
        self._removers.append(self.hub.bus.async_listen(MATCH_ALL, self._async_event))
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        try:
            await asyncio.wait_for(asyncio.shield(self._first_attempt), wait_timeout)
        except TimeoutError:
            _LOGGER.warning("Recorder: no answer from %s within %s s; still trying in the background",
                            redact_url(self.db_url), wait_timeout)

    async def async_stop(self) -> None:
        """Stop listening, write everything still queued, close the database and end the thread."""
        if not self._accepting:
            return
        self._accepting = False
        for remove in self._removers:
            remove()
        self._removers.clear()
        if self._thread is None or not self._thread.is_alive():
            return
        future = self._submit(_StopTask(self.hub.loop.create_future()))
        await future
        await self.hub.loop.run_in_executor(None, self._thread.join, 10)

    @callback
    def add_remover(self, remover: CALLBACK_TYPE) -> None:
        """Keep a remover to call when the recorder stops (services, timers)."""
        self._removers.append(remover)

    # ---- loop side: the listener

    @callback
    def _async_event(self, event: Event) -> None:
        """Filter and enqueue; never blocks. Runs inline for every event on the bus."""
        if not self._accepting:
            return
        if event.event_type == EVENT_STATE_CHANGED:
            if not self.filter.record_states or not self.filter.entity_allowed(event.data["entity_id"]):
                return
        elif not self.filter.event_allowed(event.event_type):
            return
        try:
            row = self._encode(event)
        except Exception:  # data the JSON encoder refuses: lose this event, not the listener
            _LOGGER.exception("Recorder: cannot record event %s", event.event_type)
            return
        try:
            self._queue.put_nowait(row)
            self._unwoken += 1
            if self._unwoken >= WAKE_EVERY:  # a burst: convert it now rather than at the next tick
                self._unwoken = 0
                self._wake.set()
        except queue.Full:
            self.dropped_events += 1
            if not self._drop_logged:
                self._drop_logged = True
                _LOGGER.warning(
                    "Recorder queue is full (%s events): dropping events until the database catches up",
                    self.max_queue,
                )

    # ---- loop side: public API

    @property
    def queue_size(self) -> int:
        """Events waiting in the queue plus rows waiting for the next commit."""
        return self._queue.qsize() + len(self._writer)

    @property
    def is_running(self) -> bool:
        """Whether the recorder thread is alive and accepting events."""
        return self._accepting and self._thread is not None and self._thread.is_alive()

    def stats(self) -> dict[str, Any]:
        """Cheap counters for metrics: queue size, drops, rows written, connection."""
        return {
            "queue_size": self.queue_size,
            "dropped_events": self.dropped_events,
            "rows_written": self.rows_written,
            "connected": self.connected,
        }

    def _submit(self, task: _Task) -> asyncio.Future[Any]:
        if self._thread is None or not self._thread.is_alive():
            raise HubError("The recorder is not running")
        self._tasks.append(task)
        self._wake.set()
        return task.future

    async def async_flush(self) -> bool:
        """Write and commit everything recorded so far; True when it reached the database."""
        return bool(await self._submit(_FlushTask(self.hub.loop.create_future())))

    async def async_db_job(self, fn: Callable[[Session], _T]) -> _T:
        """Run `fn(session)` in the recorder thread after writing what is queued; commit; return its result.

        Raises HubError when the database is unavailable or the recorder stopped; an exception
        raised by `fn` is re-raised here (its changes are rolled back).
        """
        if not self._accepting:
            raise HubError("The recorder is not running")
        result: _T = await self._submit(_JobTask(self.hub.loop.create_future(), fn))
        return result

    async def async_add_version_location(self, owner: str, path: Path) -> None:
        """Migrate `owner`'s revisions in `path` now, and at every reconnection (for a part set up after the
        recorder started; see hub.recorder.migration)."""
        location = VersionLocation(owner, path)
        if location in self._extra_locations:
            return
        self._extra_locations.append(location)
        await self.async_db_job(lambda session: migrate_connection(session.connection(), [location]))

    def _version_locations(self) -> tuple[VersionLocation, ...]:
        """Every folder of revisions this hub knows (blocking: the loader scans the integrations)."""
        return version_locations(self.hub.config_dir, self._extra_locations)

    async def async_purge(self, keep_days: int | None = None) -> PurgeResult:
        """Delete expired rows (in batches, between writes); returns what went."""
        default, by_domain = effective_keep_days(self.keep_days, self.keep_days_by_domain, keep_days)
        task = _PurgeTask(self.hub.loop.create_future(), self.hub.clock.time(), default, by_domain)
        result: PurgeResult = await self._submit(task)
        return result

    async def async_get_history(self, entity_ids: Iterable[str], start: datetime | float,
                                end: datetime | float | None = None,
                                include_start_state: bool = True) -> dict[str, list[State]]:
        """States of `entity_ids` between `start` and `end` (default: now), per entity, oldest first."""
        ids = [entity_ids] if isinstance(entity_ids, str) else list(entity_ids)
        start_ts = to_timestamp(start)
        if start_ts is None:
            raise HubError("async_get_history needs a start time")
        end_ts = to_timestamp(end)
        return await self.async_db_job(lambda session: get_history(session, ids, start_ts, end_ts,
                                                                   include_start_state))

    async def async_get_events(self, event_types: Iterable[str] | None = None,
                               start: datetime | float | None = None, end: datetime | float | None = None,
                               context_id: str | None = None,
                               limit: int | None = 1000) -> list[dict[str, Any]]:
        """Recorded events by type, time range and Context id, oldest first (see queries.get_events)."""
        types = [event_types] if isinstance(event_types, str) else (
            list(event_types) if event_types is not None else None
        )
        start_ts = to_timestamp(start)
        end_ts = to_timestamp(end)
        return await self.async_db_job(lambda session: get_events(session, types, start_ts, end_ts,
                                                                  context_id, limit))

    # ---- thread side

    def _resolve(self, future: asyncio.Future[Any], result: Any = None,
                 exception: BaseException | None = None) -> None:
        def _set() -> None:
            if future.done():
                return
            if exception is not None:
                future.set_exception(exception)
            else:
                future.set_result(result)

        try:
            self.hub.loop.call_soon_threadsafe(_set)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _run(self) -> None:
        try:
            self._run_loop()
        except Exception:
            _LOGGER.exception("Recorder thread failed; recording stopped")
        finally:
            self._close()
            if not self._first_attempt.done():
                self._resolve(self._first_attempt, False)
            stopped = HubError("The recorder stopped")
            while self._tasks:
                task = self._tasks.popleft()
                if isinstance(task, _StopTask):
                    self._resolve(task.future)
                else:
                    self._resolve(task.future, exception=stopped)

    def _ensure_connected(self) -> bool:
        """Connect unless connected or backing off; the backoff doubles per failure up to 30 s."""
        if self.connected:
            return True
        if time.monotonic() < self._next_connect:
            return False
        if self._connect():
            self._backoff.reset()
            self._next_commit = time.monotonic() + self.commit_interval
        else:
            self._next_connect = time.monotonic() + self._backoff.delay()
        if not self._first_attempt.done():
            self._resolve(self._first_attempt, self.connected)
        return self.connected

    def _run_loop(self) -> None:
        self._next_commit = time.monotonic() + self.commit_interval
        while True:
            self._ensure_connected()
            deadline = self._next_commit if self.connected else self._next_connect
            if not self._tasks:
                self._wake.wait(max(0.0, min(DRAIN_INTERVAL, deadline - time.monotonic())))
            self._wake.clear()
            self._drain()
            while self._tasks:
                task = self._tasks.popleft()
                # Events queued before the task was submitted must be in the batch it sees: the
                # drain above may have run before they arrived.
                self._drain()
                if isinstance(task, _StopTask):
                    self._final_write()
                    self._resolve(task.future)
                    return
                self._run_task(task)
            if self.connected and (time.monotonic() >= self._next_commit
                                   or len(self._writer) >= MAX_PENDING_ROWS):
                self._commit()
                self._next_commit = time.monotonic() + self.commit_interval

    def _drain(self) -> None:
        """Move queued events into pending rows, keeping at most max_queue of them pending."""
        room = self.max_queue - len(self._writer)
        if room <= 0:
            return
        items = _take(self._queue, room)
        add = self._writer.add_row
        for start in range(0, len(items), YIELD_EVERY):
            if start:
                time.sleep(0)  # hand the GIL to the event loop if it is waiting for it
            for item in items[start:start + YIELD_EVERY]:
                try:
                    add(item)
                except Exception:  # one bad row must not stop the others
                    _LOGGER.exception("Recorder: cannot record row %s", item[:2])

    def _run_task(self, task: _Task) -> None:
        if isinstance(task, _FlushTask):
            self._resolve(task.future, self._ensure_connected() and self._commit())
            return
        if not self._ensure_connected() or self._session is None:
            self._resolve(task.future, exception=HubError(
                f"The recorder database {redact_url(self.db_url)} is not available"))
            return
        if not self._commit():  # the job sees everything recorded before it
            self._resolve(task.future, exception=HubError("The recorder database failed; see the log"))
            return
        session = self._session
        if isinstance(task, _JobTask):
            try:
                result = task.fn(session)
                session.commit()
            except Exception as err:
                self._rollback(err, "a database job")
                self._resolve(task.future, exception=err)
                return
            self._resolve(task.future, result)
        elif isinstance(task, _PurgeTask):
            try:
                done = purge_batch(session, task.now_ts, task.keep_days, task.keep_days_by_domain,
                                   task.result)
            except Exception as err:
                self._rollback(err, "the purge")
                self._resolve(task.future, exception=err)
                return
            finally:
                self._writer.reset_shared_caches()
            if done:
                if task.result.states or task.result.events:
                    _LOGGER.info("Purged %s states and %s events", task.result.states, task.result.events)
                self._resolve(task.future, task.result)
            else:  # let writes and other jobs through between batches
                self._tasks.append(task)

    def _commit(self) -> bool:
        """Write pending rows and commit; False (rows kept or dropped, see _rollback) on failure."""
        session = self._session
        if session is None:
            return False
        if not self._writer:
            return True
        try:
            count = self._writer.write(session)
            session.commit()
        except Exception as err:
            self._rollback(err, "recording")
            return self.connected and self._salvage(session)
        self._writer.clear()
        self.rows_written += count
        return True

    def _salvage(self, session: Session) -> bool:
        """After a batch failed on its data: commit it in halves, dropping only the rows that fail alone.

        Returns False (the unwritten rows pending again) if the connection fails meanwhile.
        """
        writer = self._writer
        parts = [(writer.states, writer.events)]
        dropped = 0
        while parts:
            states, events = parts.pop()
            writer.states, writer.events = states, events
            try:
                count = writer.write(session)
                session.commit()
            except Exception as err:
                self._rollback(err, "recording")
                if not self.connected:
                    for more_states, more_events in parts:
                        writer.states += more_states
                        writer.events += more_events
                    return False
                if len(states) + len(events) <= 1:
                    dropped += 1
                    _LOGGER.debug("Recorder: dropping row %s: %s", (states or events)[0], err)
                    continue
                parts.extend(_halves(states, events))
                continue
            self.rows_written += count
        writer.clear()
        if dropped:
            self.dropped_events += dropped
            _LOGGER.error("Recorder: %s rows could not be written and were dropped; the rest are stored", dropped)
        return True

    def _rollback(self, err: Exception, what: str) -> None:
        """Undo the transaction and forget cached ids; on connection errors, disconnect (rows stay pending)."""
        session = self._session
        if session is not None:
            try:
                session.rollback()
            except Exception:
                _LOGGER.debug("Recorder: rollback failed", exc_info=True)
        self._writer.reset_caches()
        if is_connection_error(err):
            _LOGGER.error("Recorder: database error during %s, reconnecting: %s", what, err)
            self._disconnect()
        else:  # recording salvages the batch; the caller of a job or purge gets the exception
            _LOGGER.debug("Recorder: %s raised", what, exc_info=True)

    def _connect(self) -> bool:
        """Create the engine, migrate the schema, open the session and start a run."""
        session: Session | None = None
        try:
            if self.engine is None:
                self.engine = create_db_engine(self.db_url)
            migrate_schema(self.engine, locations=self._version_locations())
            session = Session(self.engine, expire_on_commit=False)
            if self.run_id is None:  # the first connection of this run, not a reconnection
                self.run_id = _start_run(session)
        except Exception as err:
            if session is not None:
                session.close()
            if not self._outage_logged:
                self._outage_logged = True
                _LOGGER.error("Recorder: cannot use database %s: %s", redact_url(self.db_url), err)
            else:
                _LOGGER.debug("Recorder: database still unavailable: %s", err)
            self._disconnect()
            return False
        if self._outage_logged:
            _LOGGER.info("Recorder: connected to %s again", redact_url(self.db_url))
        self._outage_logged = False
        self._session = session
        self.connected = True
        return True

    def _disconnect(self) -> None:
        if self.connected:  # a connection that worked is retried at once; failed attempts back off
            self._next_connect = 0.0
        self.connected = False
        if self._session is not None:
            try:
                self._session.close()
            except Exception:
                _LOGGER.debug("Recorder: closing the session failed", exc_info=True)
            self._session = None
        if self.engine is not None:
            self.engine.dispose()

    def _final_write(self) -> None:
        self._drain()
        if not self._ensure_connected() or not self._commit():
            if self._writer:
                _LOGGER.warning("Recorder stopped with %s rows it could not write", len(self._writer))
            return
        session = self._session
        if session is not None and self.run_id is not None:
            try:
                session.execute(update(RecorderRuns).where(RecorderRuns.run_id == self.run_id)
                                .values(end_ts=time.time()))
                session.commit()
            except Exception as err:
                self._rollback(err, "closing the run")

    def _close(self) -> None:
        self._disconnect()
        self.engine = None
