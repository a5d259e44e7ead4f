"""The Outbox: enqueue in the recorder database, relay due messages to the deliverer of their kind."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ..core import CALLBACK_TYPE, Hub, callback
from ..exceptions import HubError
from ..helpers.backoff import Backoff
from ..recorder import get_recorder
from . import store
from .const import (
    CLAIM_BATCH,
    DEFAULT_KEEP_DELIVERED_DAYS,
    DEFAULT_LEASE,
    DEFAULT_MAX_CONCURRENT,
    POLL_INTERVAL,
    PURGE_INTERVAL,
    MessageState,
)
from .message import DeliveryReport, DeliveryResult, NewMessage, OutboxMessage, Outcome, RetryPolicy

__all__ = ["Deliver", "Outbox", "PolicyFor", "ReportListener"]

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")

Deliver = Callable[[OutboxMessage], Awaitable[DeliveryResult]]
PolicyFor = Callable[[str], RetryPolicy]  # destination -> its retry policy
ReportListener = Callable[[DeliveryReport], None]

_DB_RETRY_MIN = 2.0
_DB_RETRY_MAX = 60.0
_RECORD_TRIES = 3


@dataclass(slots=True)
class _Registration:
    kind: str
    deliver: Deliver
    policy_for: PolicyFor
    on_report: ReportListener | None
    ordered: bool


class Outbox:
    """A transactional outbox in the recorder database and the relay that empties it.

    Producers add messages with `async_enqueue` (or `store.add_messages` inside their own database
    job, then `wake()`), so a message is stored in the same commit as whatever caused it. A
    consumer registers a deliverer per message kind. The relay claims due rows (one at a time per
    kind and destination), calls the deliverer, and records the result: delivered, retried with
    backoff (or the destination's Retry-After), dead after `max_attempts`, or held while the
    destination is paused. Rows stay in the database until delivered, so a restart in the middle
    of retrying loses nothing; delivery is at least once (receivers dedupe by message id).

    Claimed rows are leased to this relay's `owner` token. Stopping gives back every row still
    leased to it, delivered or not yet handed to a deliverer; starting gives back the leases of any
    other owner (a run killed before it could), so nothing waits out a lease after a restart.
    """

    def __init__(self, hub: Hub, *, max_concurrent: int = DEFAULT_MAX_CONCURRENT, lease: float = DEFAULT_LEASE,
                 keep_delivered_days: float = DEFAULT_KEEP_DELIVERED_DAYS, rng: random.Random | None = None) -> None:
        self.hub = hub
        self.max_concurrent = max_concurrent
        self.lease = lease
        self.keep_delivered_days = keep_delivered_days
        self.rng = rng or random.Random()
        self.owner = uuid.uuid4().hex  # this relay's leases (a new one per run)
        self._registrations: dict[str, _Registration] = {}
        self._paused: set[tuple[str, str]] = set()
        self._inflight: dict[str, tuple[asyncio.Task[None], OutboxMessage]] = {}
        self._wake_event = asyncio.Event()
        self._idle = asyncio.Event()
        self._timer: Any = None
        self._purge_timer: Any = None
        self._runner: asyncio.Task[None] | None = None
        self._db_backoff = Backoff(initial=_DB_RETRY_MIN, maximum=_DB_RETRY_MAX, jitter=0.0)
        self._db_error_logged = False
        self._stopping = False
        self._stalled = False
        self._stale_released = False  # the leases of earlier runs were given back
        self._claimed = False  # a claim was sent: rows may be leased to us

    # ---- life cycle

    @callback
    def async_start(self) -> None:
        """Start the relay loop (in the background) and the periodic purge."""
        if self._runner is not None:
            return
        self._runner = self.hub.async_create_background_task(self._async_run(), "outbox relay")
        self._schedule_purge(0.0)
        self.wake()

    async def async_stop(self) -> None:
        """Stop relaying: rows leased to us are given back to the table (due now, attempt not counted).

        That is the deliveries interrupted here and also rows a claim took while we were stopping
        (the relay cancelled while waiting for the claim's result): they never reached a deliverer.
        """
        if self._stopping:
            return
        self._stopping = True
        self._idle.set()
        for timer in (self._timer, self._purge_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._purge_timer = None
        if self._runner is not None:
            self._runner.cancel()
        tasks = [task for task, _message in self._inflight.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if not self._claimed:
            return
        # Database jobs run in order, so this one runs after any claim still waiting for the recorder.
        try:
            released = await self.async_db_job(partial(store.release_owned, owner=self.owner,
                                                       now=self.hub.clock.time()))
        except HubError as err:
            _LOGGER.warning("Outbox: could not give back the messages being delivered (%s); the next start "
                            "does", err)
            return
        if released:
            _LOGGER.debug("Outbox: %d messages being delivered given back", released)

    @property
    def is_running(self) -> bool:
        """Whether the relay is relaying."""
        return self._runner is not None and not self._stopping

    # ---- deliverers and destinations

    @callback
    def async_register(self, kind: str, deliver: Deliver, *, policy: RetryPolicy | PolicyFor | None = None,
                       on_report: ReportListener | None = None, ordered: bool = False) -> CALLBACK_TYPE:
        """Deliver messages of `kind` with `deliver`; returns the remover.

        `policy` is a RetryPolicy or a function of the destination returning one. `on_report` is
        called (in the loop) after each attempt's outcome is stored. `ordered` delivers each
        destination's messages strictly oldest first (a failing one holds up the ones after it).
        Removing the deliverer interrupts its deliveries in progress; their rows are given back.
        """
        if kind in self._registrations:
            raise HubError(f"Outbox: a deliverer for kind {kind!r} is already registered")
        fixed = policy if isinstance(policy, RetryPolicy) else RetryPolicy()
        policy_for: PolicyFor = policy if callable(policy) else (lambda _destination: fixed)
        registration = _Registration(kind, deliver, policy_for, on_report, ordered)
        self._registrations[kind] = registration
        self.wake()

        @callback
        def remove() -> None:
            if self._registrations.get(kind) is not registration:
                return
            del self._registrations[kind]
            ids = [message_id for message_id, (_task, message) in self._inflight.items() if message.kind == kind]
            if ids:
                for message_id in ids:  # now, before the caller tears down what its deliveries use
                    self._inflight[message_id][0].cancel()
                self.hub.async_create_task(self._async_interrupt(ids), f"outbox release {kind}")

        return remove

    @callback
    def pause(self, kind: str, destination: str) -> None:
        """Hold messages of `kind` for `destination` (kept pending) until `resume`."""
        self._paused.add((kind, destination))

    @callback
    def resume(self, kind: str, destination: str) -> None:
        """Deliver to `destination` again."""
        if (kind, destination) in self._paused:
            self._paused.discard((kind, destination))
            self.wake()

    @callback
    def is_paused(self, kind: str, destination: str) -> bool:
        """Whether `destination` is held."""
        return (kind, destination) in self._paused

    # ---- enqueue and queries

    @callback
    def wake(self) -> None:
        """Look for due messages now (after adding rows in a job of your own)."""
        self._idle.clear()
        self._wake_event.set()

    async def async_wait_idle(self) -> None:
        """Wait until the relay has looked at the table since the last wake and nothing is in flight."""
        if self._runner is None or self._stopping:
            return
        await self._idle.wait()

    async def async_db_job(self, fn: Callable[[Session], _T]) -> _T:
        """Run `fn(session)` in the recorder thread (HubError when the database is unavailable)."""
        return await get_recorder(self.hub).async_db_job(fn)

    async def async_enqueue(self, messages: NewMessage | Iterable[NewMessage],
                            also: Callable[[Session], Any] | None = None) -> list[str]:
        """Store messages (and run `also(session)` in the same transaction); returns their ids.

        Raises HubError when the database is unavailable: nothing was stored then.
        """
        items = [messages] if isinstance(messages, NewMessage) else list(messages)
        now = self.hub.clock.time()

        def _job(session: Session) -> list[str]:
            if also is not None:
                also(session)
            return store.add_messages(session, items, now)

        ids = await self.async_db_job(_job)
        self.wake()
        return ids

    async def async_get(self, message_id: str) -> OutboxMessage | None:
        """One message by id."""
        return await self.async_db_job(partial(store.get_message, message_id=message_id))

    async def async_list(self, *, state: MessageState | None = None, kind: str | None = None,
                         destination: str | None = None, correlation_id: str | None = None,
                         limit: int = 100) -> list[OutboxMessage]:
        """Messages, newest first, filtered by state, kind, destination and correlation id."""
        return await self.async_db_job(partial(
            store.list_messages, state=state, kind=kind, destination=destination,
            correlation_id=correlation_id, limit=limit,
        ))

    async def async_counts(self, kind: str) -> dict[str, dict[str, int]]:
        """{destination: {state: count}} for one kind."""
        return await self.async_db_job(partial(store.count_by_destination, kind=kind))

    async def async_replay(self, message_ids: Collection[str] | None = None, *, kind: str | None = None,
                           destination: str | None = None) -> list[OutboxMessage]:
        """Put dead messages back in line (by id, or all of a kind and destination); returns them."""
        now = self.hub.clock.time()
        replayed = await self.async_db_job(partial(store.replay, now=now, message_ids=message_ids,
                                                   kind=kind, destination=destination))
        if replayed:
            _LOGGER.info("Outbox: %d dead messages replayed", len(replayed))
            self.wake()
        return replayed

    async def async_remember_seen(self, scope: str, message_id: str, ttl: float) -> bool:
        """Remember a received message id for `ttl` seconds; False when it was seen already (a replay)."""
        now = self.hub.clock.time()
        return await self.async_db_job(partial(store.remember_seen, scope=scope, message_id=message_id,
                                               now=now, expires_ts=now + ttl))

    async def async_purge(self) -> tuple[int, int]:
        """Delete delivered messages past `keep_delivered_days` and expired inbox ids now."""
        now = self.hub.clock.time()
        return await self.async_db_job(partial(store.purge, now=now,
                                               delivered_before=now - self.keep_delivered_days * 86400))

    # ---- the relay

    def _spec(self) -> store.ClaimSpec:
        kinds = frozenset(self._registrations)
        ordered = frozenset(kind for kind, reg in self._registrations.items() if reg.ordered)
        return store.ClaimSpec(kinds, ordered, frozenset(self._paused))

    async def _async_run(self) -> None:
        while True:
            if not self._wake_event.is_set() and not self._inflight:
                self._idle.set()
            await self._wake_event.wait()
            self._wake_event.clear()
            if self._stopping:
                return
            try:
                await self._async_cycle()
            except HubError as err:  # the database is unavailable: try again later
                delay = self._db_backoff.delay()
                if not self._db_error_logged:
                    self._db_error_logged = True
                    _LOGGER.warning("Outbox: cannot read the outbox (%s); retrying", err)
                self._set_timer(self.hub.clock.time() + delay)
                continue
            except Exception:
                _LOGGER.exception("Outbox: relay cycle failed")
                self._set_timer(self.hub.clock.time() + _DB_RETRY_MAX)
                continue
            if self._db_error_logged:
                _LOGGER.info("Outbox: database available again")
            self._db_error_logged = False
            self._db_backoff.reset()

    async def _async_cycle(self) -> None:
        if not self._stale_released:  # before our first claim: a row leased to a dead run is due now
            released = await self.async_db_job(partial(store.release_stale, owner=self.owner,
                                                       now=self.hub.clock.time()))
            self._stale_released = True
            if released:
                _LOGGER.info("Outbox: %d messages leased by a previous run are due again", released)
        spec = self._spec()
        if not spec.kinds:
            return
        now = self.hub.clock.time()
        free = min(self.max_concurrent - len(self._inflight), CLAIM_BATCH)
        busy = {(message.kind, message.destination) for _task, message in self._inflight.values()}
        if free > 0:
            self._claimed = True
            claimed = await self.async_db_job(partial(
                store.claim_due, spec=spec, now=now, lease=self.lease, limit=free, busy=busy, owner=self.owner,
            ))
            for message in claimed:
                self._start(message)
        due = await self.async_db_job(partial(store.next_due, spec=self._spec()))
        now = self.hub.clock.time()
        if due is None or due > now:
            self._stalled = False
            self._set_timer(min(due if due is not None else now + POLL_INTERVAL, now + POLL_INTERVAL))
        elif self._inflight:
            self._set_timer(now + POLL_INTERVAL)  # a finishing delivery wakes the relay first
        elif not self._stalled:  # came due while claiming (the clock moved): claim again now
            self._stalled = True
            self.wake()
        else:  # due but still not taken (a race with a pause): look again soon, without spinning
            self._stalled = False
            self._set_timer(now + _DB_RETRY_MIN)

    @callback
    def _set_timer(self, when: float) -> None:
        if self._stopping:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.hub.clock.call_at(when, self.wake)

    @callback
    def _start(self, message: OutboxMessage) -> None:
        registration = self._registrations.get(message.kind)
        if registration is None or self._stopping:  # unregistered while claiming
            self.hub.async_create_task(self._async_release([message.id]), "outbox release")
            return
        task = self.hub.async_create_task(self._async_deliver(registration, message),
                                          f"outbox deliver {message.kind} {message.id}")
        self._inflight[message.id] = (task, message)

    async def _async_deliver(self, registration: _Registration, message: OutboxMessage) -> None:
        try:
            try:
                result = await registration.deliver(message)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a deliverer bug must not lose the message
                _LOGGER.exception("Outbox: deliverer for %s failed on %s", message.kind, message.id)
                result = DeliveryResult.retry(f"{type(err).__name__}: {err}")
            report = await self._async_record(registration, message, result)
        finally:
            self._inflight.pop(message.id, None)
        self.wake()
        if report is not None and registration.on_report is not None:
            try:
                registration.on_report(report)
            except Exception:
                _LOGGER.exception("Outbox: report listener for %s failed", message.kind)

    async def _async_record(self, registration: _Registration, message: OutboxMessage,
                            result: DeliveryResult) -> DeliveryReport | None:
        policy = registration.policy_for(message.destination)
        now = self.hub.clock.time()
        error = result.error or result.outcome.value
        fn: Callable[[Session], OutboxMessage | None]
        if result.outcome is Outcome.DELIVERED:
            fn = partial(store.record_delivered, message_id=message.id, now=now)
        elif result.outcome is Outcome.DEAD:
            fn = partial(store.record_dead, message_id=message.id, now=now, error=error)
        elif result.outcome is Outcome.PAUSE:
            self.pause(message.kind, message.destination)
            fn = partial(store.record_paused, message_id=message.id, now=now, error=error)
        else:
            delay = policy.delay(message.attempts, result.retry_after, self.rng)
            fn = partial(store.record_retry, message_id=message.id, now=now, delay=delay, error=error,
                         max_attempts=policy.max_attempts)
        for attempt in range(_RECORD_TRIES):
            try:
                updated = await self.async_db_job(fn)
            except HubError as err:
                if attempt == _RECORD_TRIES - 1:
                    _LOGGER.error("Outbox: cannot record the outcome of %s (%s); it is due again after its lease",
                                  message.id, err)
                    return None
                await self.hub.clock.sleep(_DB_RETRY_MIN * (attempt + 1))
                continue
            break
        if updated is None:
            return None
        return DeliveryReport(updated, result, policy.max_attempts)

    async def _async_interrupt(self, message_ids: list[str]) -> None:
        """Cancel deliveries in progress and give their rows back."""
        tasks = [self._inflight[mid][0] for mid in message_ids if mid in self._inflight]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._async_release(message_ids)

    async def _async_release(self, message_ids: list[str]) -> None:
        if not message_ids:
            return
        try:
            await self.async_db_job(partial(store.release, message_ids=message_ids, now=self.hub.clock.time(),
                                            owner=self.owner))
        except HubError as err:
            _LOGGER.warning("Outbox: could not give back %d interrupted messages (%s); they are due again "
                            "after their lease", len(message_ids), err)

    # ---- purge

    @callback
    def _schedule_purge(self, delay: float) -> None:
        if self._stopping:
            return
        self._purge_timer = self.hub.clock.call_later(delay, self._on_purge_due)

    @callback
    def _on_purge_due(self) -> None:
        self.hub.async_create_task(self._async_scheduled_purge(), "outbox purge")

    async def _async_scheduled_purge(self) -> None:
        try:
            sent, seen = await self.async_purge()
        except HubError as err:
            _LOGGER.debug("Outbox: purge skipped: %s", err)
        else:
            if sent or seen:
                _LOGGER.info("Outbox: purged %d delivered messages and %d expired inbox ids", sent, seen)
        self._schedule_purge(PURGE_INTERVAL)
