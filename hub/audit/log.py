"""The AuditLog: records logins, commands, denials, exports and views into the hash-chained `audit_log` table.

Entries are stamped in the loop (hub.clock) and written in order by one writer task through the
recorder (`async_db_job`), which chains them in its thread. While the database is unavailable
they wait in memory (bounded) and are retried; a clean stop writes them before the recorder
closes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.permissions import classify_service
from ..const import EVENT_CALL_SERVICE, EVENT_HUB_STOP
from ..core import CALLBACK_TYPE, Context, Event, callback
from ..exceptions import HubError
from ..recorder import DATA_RECORDER, get_recorder
from ..recorder.durable import CommitTracker
from .chain import PendingEntry, VerifyResult, append_entries, canonical_json, row_as_dict, verify_chain
from .models import AuditEntry

if TYPE_CHECKING:
    from ..core import Hub
    from ..services import ServiceCall

__all__ = [
    "ACTION_COMMAND",
    "ACTION_COMMAND_DENIED",
    "ACTION_EXPORT",
    "ACTION_LOGIN",
    "ACTION_LOGIN_FAILED",
    "ACTION_LOGOUT",
    "ACTION_VIEW_SENSITIVE",
    "AUDITED_SERVICE_CLASSES",
    "AuditLog",
    "redact",
]

_LOGGER = logging.getLogger(__name__)

ACTION_LOGIN: Final = "login"
ACTION_LOGIN_FAILED: Final = "login_failed"
ACTION_LOGOUT: Final = "logout"
ACTION_COMMAND: Final = "command"
ACTION_COMMAND_DENIED: Final = "command_denied"
ACTION_EXPORT: Final = "export"
ACTION_VIEW_SENSITIVE: Final = "view_sensitive"

# Service classes (hub.auth.permissions) whose calls are commands worth an audit entry.
AUDITED_SERVICE_CLASSES: Final = frozenset({
    "actuation", "raw_actuation", "simulation", "alarm", "alarm_raise", "watchlist", "biometric", "automation_control",
    "config", "system",
})

MAX_PENDING: Final = 10_000
RETRY_DELAY: Final = 5.0
MAX_TARGET_LENGTH: Final = 255
_SECRET_WORDS: Final = ("password", "passwd", "secret", "token", "api_key", "apikey", "pin")
REDACTED: Final = "***"


# The last entry recorded in this task (a request, a service call), as (id of its AuditLog, sequence
# number): its answer waits for that commit. Several hubs may run in one process (tests, tools).
_RECORDED_HERE: ContextVar[tuple[int, int]] = ContextVar("audit_recorded_here", default=(0, 0))


def redact(value: Any) -> Any:
    """A copy of `value` with anything under a key that names a secret replaced by '***'."""
    if isinstance(value, Mapping):
        return {str(key): REDACTED if any(word in str(key).lower() for word in _SECRET_WORDS) else redact(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


class AuditLog:
    """Append-only, hash-chained audit entries in the recorder database."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.dropped = 0
        self._pending: deque[PendingEntry] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._retry: CALLBACK_TYPE | None = None
        self._failure_logged = False
        self._removers: list[CALLBACK_TYPE] = []
        self.commits = CommitTracker(hub, "audit entry")

    # ---- recording

    @callback
    def record(self, action: str, *, context: Context | None = None, user_id: str | None = None,
               centre: str | None = None, target: str | None = None, outcome: str = "ok",
               data: Mapping[str, Any] | None = None) -> int | None:
        """Queue one entry (never blocks); returns its sequence number for `async_wait_written`, or None
        when it was dropped (queue full). The user and centre default to the context's.

        Never pass passwords or tokens: keys that name secrets are redacted anyway.
        """
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            if self.dropped == 1:
                _LOGGER.error("Audit queue full (%s entries, database unavailable?): dropping entries",
                              MAX_PENDING)
            return None
        entry = PendingEntry(
            time_ts=round(self.hub.clock.time(), 6),
            action=action[:64],
            user_id=user_id if user_id is not None else (context.user_id if context is not None else None),
            centre=centre if centre is not None else (context.centre if context is not None else None),
            context_id=context.id if context is not None else None,
            target=target[:MAX_TARGET_LENGTH] if target is not None else None,
            outcome=outcome[:32],
            data=canonical_json(redact(dict(data or {}))),
        )
        seq = self.commits.queued()
        _RECORDED_HERE.set((id(self), seq))
        self._pending.append(entry)
        self._schedule_write()
        return seq

    @callback
    def _schedule_write(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = self.hub.async_create_task(self._async_write(), "audit write")

    async def _async_write(self) -> None:

        while self._pending:
            upto = self.commits.last_queued  # the batch holds every entry queued so far
            batch = list(self._pending)
            try:
                recorder = get_recorder(self.hub)
                await recorder.async_db_job(functools.partial(append_entries, entries=batch))
            except Exception as err:  # the recorder is down or the database failed: keep them
                if not self._failure_logged:
                    self._failure_logged = True
                    _LOGGER.error("Cannot write %s audit entries (kept, retrying): %s", len(batch), err)
                self._schedule_retry()
                return
            for _ in batch:
                self._pending.popleft()
            self.commits.committed(upto)
            if self._failure_logged:
                self._failure_logged = False
                _LOGGER.info("Audit entries written again")

    @callback
    def _schedule_retry(self) -> None:
        if self._retry is not None or self.hub.is_stopping:
            return

        def _again() -> None:
            self._retry = None
            self._schedule_write()

        handle = self.hub.clock.call_later(RETRY_DELAY, _again)
        self._retry = handle.cancel

    async def async_flush(self) -> None:
        """Wait until everything recorded so far is written (or the write failed)."""
        self._schedule_write()
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def async_wait_written(self, seq: int | None = None) -> None:
        """Return once entry `seq` (default: every entry recorded so far) is committed; NotStoredError
        when the database does not take it in time (it stays queued and is retried)."""
        await self.commits.async_wait(seq)

    async def async_wait_recorded_here(self) -> None:
        """Return once the entries recorded by this task (this request, this service call) are committed."""
        log_id, seq = _RECORDED_HERE.get()
        if log_id == id(self) and seq:
            await self.commits.async_wait(min(seq, self.commits.last_queued))

    @property
    def pending(self) -> int:
        """Entries not yet in the database."""
        return len(self._pending)

    # ---- reading

    async def async_query(self, *, action: str | None = None, user_id: str | None = None,
                          centre: str | None = None, since: float | None = None, until: float | None = None,
                          before_seq: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Entries newest first, filtered; page with `before_seq` (the last seq of the previous page)."""

        await self.async_flush()

        def _query(session: Session) -> list[dict[str, Any]]:
            table = AuditEntry.__table__
            statement = select(table)
            if action is not None:
                statement = statement.where(table.c.action == action)
            if user_id is not None:
                statement = statement.where(table.c.user_id == user_id)
            if centre is not None:
                statement = statement.where(table.c.centre == centre)
            if since is not None:
                statement = statement.where(table.c.time_ts >= since)
            if until is not None:
                statement = statement.where(table.c.time_ts < until)
            if before_seq is not None:
                statement = statement.where(table.c.seq < before_seq)
            statement = statement.order_by(table.c.seq.desc()).limit(max(1, min(limit, 1000)))
            return [row_as_dict(row) for row in session.execute(statement)]

        return await get_recorder(self.hub).async_db_job(_query)

    async def async_verify(self) -> VerifyResult:
        """Check the whole chain (in the recorder thread)."""

        await self.async_flush()
        return await get_recorder(self.hub).async_db_job(verify_chain)

    # ---- listening

    @callback
    def async_start(self) -> None:
        """Listen for commands, denials and logins; write what is pending when the hub stops."""
        listen = self.hub.bus.async_listen
        self._removers += [
            listen(EVENT_CALL_SERVICE, self._on_call_service),
            listen("permission_denied", self._on_denied),
            listen("auth_login", self._on_login),
            listen("auth_login_failed", self._on_login_failed),
            listen("auth_logout", self._on_logout),
            self.hub.services.async_add_call_barrier(self._async_call_written),
        ]
        self._removers.append(self.hub.bus.async_listen_once(EVENT_HUB_STOP, self._async_on_stop))

    async def _async_on_stop(self, _event: Event) -> None:
        self.async_stop()
        if self._pending:
            await self.async_flush()
        if self._pending:
            _LOGGER.error("%s audit entries could not be written before the hub stopped", len(self._pending))

    @callback
    def async_stop(self) -> None:
        """Stop listening and retrying."""
        while self._removers:
            self._removers.pop()()
        if self._retry is not None:
            self._retry()
            self._retry = None

    async def _async_call_written(self, _call: ServiceCall) -> None:
        """An audited call answers only once its entry is committed (with the entries queued meanwhile)."""
        await self.async_wait_recorded_here()

    @callback
    def _on_call_service(self, event: Event) -> None:

        domain, service = event.data["domain"], event.data["service"]
        service_class = classify_service(domain, service).value
        if service_class not in AUDITED_SERVICE_CLASSES:
            return
        data: dict[str, Any] = {"service_class": service_class,
                                "service_data": dict(event.data.get("service_data") or {})}
        if event.context.parent_id is not None:  # "because of what": the context that caused it
            data["parent_context_id"] = event.context.parent_id
        self.record(ACTION_COMMAND, context=event.context, target=f"{domain}.{service}", data=data)

    @callback
    def _on_denied(self, event: Event) -> None:
        data = event.data
        self.record(ACTION_COMMAND_DENIED, context=event.context, user_id=data.get("user_id"),
                    target=f"{data.get('domain')}.{data.get('service')}", outcome="denied",
                    data={"reason": data.get("reason"), "service_class": data.get("service_class")})

    @callback
    def _on_login(self, event: Event) -> None:
        data = event.data
        self.record(ACTION_LOGIN, context=event.context, user_id=data.get("user_id"), centre=data.get("centre"),
                    data={"ip": data.get("ip"), "session_id": data.get("session_id"), "role": data.get("role")})

    @callback
    def _on_login_failed(self, event: Event) -> None:
        data = event.data
        self.record(ACTION_LOGIN_FAILED, context=event.context, target=data.get("username"), outcome="failed",
                    data={"ip": data.get("ip"), "reason": data.get("reason"),
                          "retry_after": data.get("retry_after")})

    @callback
    def _on_logout(self, event: Event) -> None:
        data = event.data
        self.record(ACTION_LOGOUT, context=event.context, user_id=data.get("user_id"), centre=data.get("centre"),
                    data={"session_id": data.get("session_id"), "reason": data.get("reason")})


def require_recorder(hub: Hub) -> None:
    """Raise HubError when there is no recorder to keep the audit log in."""

    if DATA_RECORDER not in hub.data:
        raise HubError("The audit log needs the recorder: set up the recorder first")
