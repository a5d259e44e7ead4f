"""Login sessions for the web frontend: password login with lockout, idle and absolute timeouts, CSRF tokens.

The logic lives here, on `hub.clock`; `hub.http.session` puts it on aiohttp (cookie, CSRF
check, security headers). Sessions survive a restart: they are kept in `.storage/auth.sessions.json`
(owner-only), which holds the SHA-256 of each cookie token, never the token itself; a session whose
user was removed, disabled or changed (password, role, centre) while the hub was down, or that
expired meanwhile, is not brought back.
Every login, failed login and logout fires an event (`auth_login`, `auth_login_failed`,
`auth_logout`) that the audit log records; passwords and session tokens are never in them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ..const import EVENT_HUB_STOP
from ..core import CALLBACK_TYPE, Context, HubKey, callback
from ..exceptions import HubError
from ..helpers.event import async_track_time_interval
from ..helpers.storage import StorageError, Store
from .models import User
from .passwords import PasswordBusy
from .users import Role, UserRecord, UserStore, async_get_users

if TYPE_CHECKING:
    from ..clock import Clock
    from ..core import Hub

__all__ = [
    "DATA_SESSIONS",
    "EVENT_LOGIN",
    "EVENT_LOGIN_FAILED",
    "EVENT_LOGOUT",
    "LoginError",
    "LoginThrottle",
    "Session",
    "SessionConfig",
    "SessionManager",
    "async_setup_sessions",
    "get_sessions",
]

_LOGGER = logging.getLogger(__name__)

EVENT_LOGIN: Final = "auth_login"
EVENT_LOGIN_FAILED: Final = "auth_login_failed"
EVENT_LOGOUT: Final = "auth_logout"

SESSION_TOKEN_BYTES: Final = 32
CSRF_TOKEN_BYTES: Final = 32
PURGE_INTERVAL: Final = 60.0
STORAGE_KEY: Final = "auth.sessions"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0  # last-seen times are written at most this often
BUSY_RETRY_AFTER: Final = 1.0  # what a login refused by the full hash limiter is told

DATA_SESSIONS: HubKey[SessionManager] = HubKey("auth_sessions")


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Timeouts and lockout rules (seconds). Defaults: 30 min idle, a 12 h shift at most."""

    idle_timeout: float = 30 * 60
    absolute_timeout: float = 12 * 3600
    max_sessions_per_user: int = 10
    account_max_failures: int = 5  # failures within `failure_window` that lock an account
    ip_max_failures: int = 20  # ... and an address
    failure_window: float = 15 * 60
    lockout: float = 60.0  # the first lock; each further lock within the window doubles it
    max_lockout: float = 15 * 60
    persist: bool = True  # keep sessions across restarts (.storage/auth.sessions.json)


class LoginError(HubError):
    """A login was refused. `reason`: invalid_credentials, locked_out, busy; `retry_after` in seconds."""

    def __init__(self, message: str, reason: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after


# --------------------------------------------------------------------------- lockout


@dataclass(slots=True)
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    locks: int = 0
    pending: int = 0  # attempts whose password is being checked now: counted as failures until known


class LoginThrottle:
    """Failed-login counting per account and per address, with a doubling lockout (pure logic).

    `config.account_max_failures` failures of one account (or `ip_max_failures` from one address)
    within `failure_window` lock it for `lockout` seconds, doubled for each further lock while
    failures keep coming, up to `max_lockout`. A success clears the account's count, not the
    address's (one valid login must not reset a password-guessing address).

    An attempt is counted before its password is checked (`begin`), so concurrent attempts cannot
    all pass a check that none of them has failed yet: with a limit of 5, at most 5 passwords of
    one account are ever being checked or failed within the window. `begin` is followed by exactly
    one of `record_failure`, `record_success` or `release` (not checked after all).
    """

    MAX_KEYS: Final = 10_000

    def __init__(self, clock: Clock, config: SessionConfig | None = None) -> None:
        self._clock = clock
        self.config = config or SessionConfig()
        self._accounts: OrderedDict[str, _Failures] = OrderedDict()
        self._addresses: OrderedDict[str, _Failures] = OrderedDict()

    def retry_after(self, account: str, address: str | None) -> float:
        """Seconds until this account (from this address) may try again; 0 when it may now."""
        now = self._clock.time()
        waits = [self._wait(self._accounts.get(account.lower()), now)]
        if address:
            waits.append(self._wait(self._addresses.get(address), now))
        return max(waits)

    def begin(self, account: str, address: str | None) -> float:
        """Reserve an attempt before checking its password: 0 when it may go on, else seconds to wait.

        Refused while locked, or while the failures and the attempts in progress already reach
        the limit (the wait then is the lockout those attempts will cause if they fail).
        """
        now = self._clock.time()
        account = account.lower()
        tables = [(self._accounts, account, self.config.account_max_failures)]
        if address:
            tables.append((self._addresses, address, self.config.ip_max_failures))
        wait = 0.0
        for table, key, limit in tables:
            failures = table.get(key)
            if failures is None:
                continue
            wait = max(wait, self._wait(failures, now))
            window = self.config.failure_window
            recent = sum(1 for t in failures.times if now - t < window)
            if recent + failures.pending >= limit:
                wait = max(wait, self._next_lockout(failures))
        if wait > 0:
            return wait
        for table, key, _limit in tables:
            self._entry(table, key).pending += 1
        return 0.0

    def release(self, account: str, address: str | None) -> None:
        """Give back an attempt reserved by `begin` whose password was not checked."""
        self._unpend(self._accounts.get(account.lower()))
        if address:
            self._unpend(self._addresses.get(address))

    def record_failure(self, account: str, address: str | None) -> float:
        """Count a failure (ending an attempt begun); returns the lockout it caused (0: none yet)."""
        self.release(account, address)
        now = self._clock.time()
        wait = self._fail(self._accounts, account.lower(), self.config.account_max_failures, now)
        if address:
            wait = max(wait, self._fail(self._addresses, address, self.config.ip_max_failures, now))
        return wait

    def record_success(self, account: str, address: str | None) -> None:
        """Forget the account's failures (ending an attempt begun)."""
        self.release(account, address)
        failures = self._accounts.get(account.lower())
        if failures is not None and failures.pending == 0:
            del self._accounts[account.lower()]
        elif failures is not None:  # other attempts still in progress keep their reservations
            failures.times.clear()
            failures.locked_until = 0.0
            failures.locks = 0

    @staticmethod
    def _unpend(failures: _Failures | None) -> None:
        if failures is not None and failures.pending > 0:
            failures.pending -= 1

    def _next_lockout(self, failures: _Failures) -> float:
        return float(min(self.config.lockout * (2 ** failures.locks), self.config.max_lockout))

    def _entry(self, table: OrderedDict[str, _Failures], key: str) -> _Failures:
        failures = table.pop(key, None) or _Failures()
        table[key] = failures  # most recent last, so the oldest go first when full
        while len(table) > self.MAX_KEYS:
            table.popitem(last=False)
        return failures

    @staticmethod
    def _wait(failures: _Failures | None, now: float) -> float:
        if failures is None:
            return 0.0
        return max(0.0, failures.locked_until - now)

    def _fail(self, table: OrderedDict[str, _Failures], key: str, limit: int, now: float) -> float:
        window = self.config.failure_window
        failures = self._entry(table, key)
        failures.times = [t for t in failures.times if now - t < window]
        if not failures.times and failures.locked_until + window <= now:
            failures.locks = 0  # a quiet window forgives earlier locks
        failures.times.append(now)
        if len(failures.times) < limit:
            return 0.0
        lockout = self._next_lockout(failures)
        failures.locks += 1
        failures.times.clear()
        failures.locked_until = now + lockout
        return lockout


# --------------------------------------------------------------------------- sessions


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user_stamp(user: UserRecord) -> str:
    """What a session depends on (password, role, centre), hashed: a change while the hub is down shows."""
    material = "\0".join((user.password_hash, user.role.value, user.centre))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


@dataclass(slots=True)
class Session:
    """One logged-in browser. `id` is public (listing, revoking); the cookie token is not kept."""

    id: str
    user_id: str
    name: str
    role: Role
    centre: str
    created: float
    last_seen: float
    csrf_token: str = field(repr=False)
    ip: str | None = None
    user_agent: str | None = None
    user_stamp: str = field(default="", repr=False)

    def user(self) -> User:
        """The request identity for this session (hub.auth.models.User)."""
        return User(id=self.user_id, name=self.name, token_id=f"session:{self.id[:8]}", centre=self.centre)

    def context(self, parent: Context | None = None) -> Context:
        """A Context acting for this session's user and centre."""
        return Context(user_id=self.user_id, centre=self.centre,
                       parent_id=parent.id if parent is not None else None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, without the CSRF token."""
        return {"id": self.id, "user_id": self.user_id, "name": self.name, "role": self.role.value,
                "centre": self.centre, "created": self.created, "last_seen": self.last_seen,
                "ip": self.ip, "user_agent": self.user_agent}


class SessionManager:
    """Creates, validates and revokes sessions; counts failed logins.

    `validate(token)` is the per-request check: it ends a session idle for `idle_timeout` or
    older than `absolute_timeout` (on hub.clock) and otherwise marks it seen. A user who is
    removed, disabled, or whose password, role or centre changes loses every session.
    """

    def __init__(self, hub: Hub, users: UserStore, config: SessionConfig | None = None) -> None:
        self.hub = hub
        self.users = users
        self.config = config or SessionConfig()
        self.throttle = LoginThrottle(hub.clock, self.config)
        self._sessions: dict[str, Session] = {}  # by sha256 of the token
        self._by_id: dict[str, str] = {}  # public id -> token key
        self._removers: list[CALLBACK_TYPE] = [users.async_listen(self._users_changed)]
        self._store: Store[dict[str, Any]] | None = (
            Store(hub, STORAGE_KEY, STORAGE_VERSION, private=True) if self.config.persist else None)

    # ---- persistence

    async def async_restore(self) -> int:
        """Bring back the sessions stored before a restart; returns how many are live again.

        A stored file that cannot be read is logged and ignored (everyone logs in again); a
        session whose user is gone, disabled or changed, or that expired meanwhile, is dropped
        with an `auth_logout` event naming why.
        """
        if self._store is None:
            return 0
        try:
            data = await self._store.async_load()
        except (StorageError, OSError, ValueError) as err:
            _LOGGER.error("Cannot restore login sessions, operators must log in again: %s", err)
            return 0
        restored = dropped = 0
        now = self.hub.clock.time()
        for key, row in ((data or {}).get("sessions") or {}).items():
            try:
                session = Session(id=row["id"], user_id=row["user_id"], name=row["name"], role=Role(row["role"]),
                                  centre=row["centre"], created=float(row["created"]),
                                  last_seen=float(row["last_seen"]), csrf_token=row["csrf_token"],
                                  ip=row.get("ip"), user_agent=row.get("user_agent"),
                                  user_stamp=row.get("user_stamp", ""))
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.warning("Dropping a stored session that cannot be read: %r", err)
                dropped += 1
                continue
            user = self.users.get(session.user_id)
            reason = self._expired(session, now)
            if user is None:
                reason = "user_removed"
            elif not user.can_log_in:
                reason = "user_disabled"
            elif _user_stamp(user) != session.user_stamp:
                reason = "user_changed"
            if reason is not None:
                self.hub.bus.async_fire(EVENT_LOGOUT, {"user_id": session.user_id, "centre": session.centre,
                                                       "session_id": session.id, "reason": reason},
                                        context=session.context())
                dropped += 1
                continue
            self._sessions[key] = session
            self._by_id[session.id] = key
            restored += 1
        if restored:
            _LOGGER.info("Restored %d login sessions", restored)
        if dropped:
            self._schedule_save()
        return restored

    def _data_to_save(self) -> dict[str, Any]:
        return {"sessions": {key: {"id": s.id, "user_id": s.user_id, "name": s.name, "role": s.role.value,
                                   "centre": s.centre, "created": s.created, "last_seen": s.last_seen,
                                   "csrf_token": s.csrf_token, "ip": s.ip, "user_agent": s.user_agent,
                                   "user_stamp": s.user_stamp}
                             for key, s in self._sessions.items()}}

    @callback
    def _schedule_save(self, delay: float = 0.0) -> None:
        if self._store is not None:
            self._store.async_delay_save(self._data_to_save, delay)

    # ---- login and logout

    async def async_login(self, username: str, password: str, *, ip: str | None = None,
                          user_agent: str | None = None) -> tuple[Session, str]:
        """Check a password login; returns the session and its secret token (the cookie value).

        Raises LoginError: `locked_out` (with retry_after) while the account or address is
        locked, `invalid_credentials` for a wrong name or password or a user who may not log in.
        """
        account = (username or "").strip().lower()[:64]
        wait = self.throttle.begin(account, ip)  # counted before the check: concurrency cannot pass it
        if wait > 0:
            self._fire_failed(account, ip, "locked_out", wait)
            raise LoginError(f"Too many failed logins; try again in {int(wait + 0.999)} s", "locked_out", wait)
        try:
            user = await self.users.async_verify(account, password)
        except PasswordBusy as err:
            self.throttle.release(account, ip)
            self._fire_failed(account, ip, "busy", BUSY_RETRY_AFTER)
            raise LoginError(f"{err} ({int(BUSY_RETRY_AFTER)} s)", "busy", BUSY_RETRY_AFTER) from None
        except BaseException:
            self.throttle.release(account, ip)
            raise
        if user is None:
            lock = self.throttle.record_failure(account, ip)
            self._fire_failed(account, ip, "invalid_credentials", lock)
            raise LoginError("Wrong user name or password", "invalid_credentials", lock)
        self.throttle.record_success(account, ip)
        session, token = self._create(user, ip, user_agent)
        self.hub.bus.async_fire(EVENT_LOGIN, {"user_id": user.id, "centre": user.centre, "role": user.role.value,
                                              "session_id": session.id, "ip": ip},
                                context=session.context())
        _LOGGER.debug("User %s logged in from %s", user.id, ip)
        return session, token

    def _fire_failed(self, account: str, ip: str | None, reason: str, retry_after: float) -> None:
        self.hub.bus.async_fire(EVENT_LOGIN_FAILED, {"username": account, "ip": ip, "reason": reason,
                                                     "retry_after": retry_after})
        _LOGGER.info("Failed login from %s: %s", ip, reason)

    def _create(self, user: UserRecord, ip: str | None, user_agent: str | None) -> tuple[Session, str]:
        token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
        key = _token_key(token)
        now = self.hub.clock.time()
        session = Session(id=key[:32], user_id=user.id, name=user.name, role=user.role, centre=user.centre,
                          created=now, last_seen=now, csrf_token=secrets.token_urlsafe(CSRF_TOKEN_BYTES),
                          ip=ip, user_agent=(user_agent or "")[:256] or None, user_stamp=_user_stamp(user))
        self._sessions[key] = session
        self._by_id[session.id] = key
        mine = sorted((s for s in self._sessions.values() if s.user_id == user.id), key=lambda s: s.created)
        for old in mine[:max(0, len(mine) - self.config.max_sessions_per_user)]:
            self.revoke(old.id, "too_many_sessions")
        self._schedule_save()
        return session, token

    @callback
    def logout(self, token: str) -> bool:
        """End the session of this token; whether there was one."""
        session = self._sessions.get(_token_key(token))
        return session is not None and self.revoke(session.id, "logout")

    @callback
    def revoke(self, session_id: str, reason: str = "revoked", context: Context | None = None) -> bool:
        """End a session by its public id; fires `auth_logout` with the reason. Whether it existed."""
        key = self._by_id.pop(session_id, None)
        if key is None:
            return False
        session = self._sessions.pop(key)
        self._schedule_save()
        self.hub.bus.async_fire(EVENT_LOGOUT, {"user_id": session.user_id, "centre": session.centre,
                                               "session_id": session.id, "reason": reason},
                                context=context or session.context())
        return True

    @callback
    def revoke_user(self, user_id: str, reason: str = "revoked", context: Context | None = None) -> int:
        """End every session of a user; returns how many."""
        ids = [s.id for s in self._sessions.values() if s.user_id == user_id]
        for session_id in ids:
            self.revoke(session_id, reason, context)
        return len(ids)

    # ---- per request

    @callback
    def validate(self, token: str | None) -> Session | None:
        """The live session of a token (marked seen now), or None: unknown, expired or revoked."""
        if not token:
            return None
        session = self._sessions.get(_token_key(token))
        if session is None or not self._end_if_expired(session):
            return None
        session.last_seen = self.hub.clock.time()
        self._schedule_save(SAVE_DELAY)
        return session

    async def async_authenticate(self, token: str) -> User | None:
        """The user of a session token (the same shape as TokenStore.async_authenticate)."""
        session = self.validate(token)
        return session.user() if session is not None else None

    def _expired(self, session: Session, now: float) -> str | None:
        if now - session.created >= self.config.absolute_timeout:
            return "absolute_timeout"
        if now - session.last_seen >= self.config.idle_timeout:
            return "idle_timeout"
        return None

    @callback
    def check_csrf(self, session: Session, presented: str | None) -> bool:
        """Whether `presented` is this session's CSRF token (constant-time)."""
        if not presented:
            return False
        return hmac.compare_digest(session.csrf_token.encode(), presented.encode())

    @callback
    def is_live(self, session_id: str) -> bool:
        """Whether this session still stands (an expired one is ended now); does not mark it seen."""
        session = self.get(session_id)
        return session is not None and self._end_if_expired(session)

    def _end_if_expired(self, session: Session) -> bool:
        """End the session if it expired; whether it still stands."""
        reason = self._expired(session, self.hub.clock.time())
        if reason is not None:
            self.revoke(session.id, reason)
            return False
        return True

    @callback
    def get(self, session_id: str) -> Session | None:
        """A session by its public id (not touching it)."""
        key = self._by_id.get(session_id)
        return self._sessions.get(key) if key is not None else None

    @callback
    def sessions(self, user_id: str | None = None) -> list[Session]:
        """Live sessions, of one user or all, oldest first."""
        found = [s for s in self._sessions.values() if user_id is None or s.user_id == user_id]
        return sorted(found, key=lambda s: s.created)

    @callback
    def purge_expired(self, _now: datetime | None = None) -> int:
        """End every expired session (also run every minute); returns how many."""
        now = self.hub.clock.time()
        expired = [(s.id, reason) for s in list(self._sessions.values())
                   if (reason := self._expired(s, now)) is not None]
        for session_id, reason in expired:
            self.revoke(session_id, reason)
        return len(expired)

    def _users_changed(self, old: dict[str, UserRecord], new: dict[str, UserRecord]) -> None:
        for user_id, before in old.items():
            after = new.get(user_id)
            if after is None:
                self.revoke_user(user_id, "user_removed")
            elif after.disabled and not before.disabled:
                self.revoke_user(user_id, "user_disabled")
            elif (after.password_hash, after.role, after.centre) != (before.password_hash, before.role,
                                                                     before.centre):
                self.revoke_user(user_id, "user_changed")

    @callback
    def async_start(self) -> None:
        """Purge expired sessions every minute (on hub.clock) until async_shutdown."""

        self._removers.append(async_track_time_interval(self.hub, self.purge_expired, PURGE_INTERVAL))

    @callback
    def async_shutdown(self) -> None:
        """Stop listening (the hub is stopping)."""
        while self._removers:
            self._removers.pop()()


async def async_setup_sessions(hub: Hub, config: SessionConfig | None = None) -> SessionManager:
    """The hub's session manager (created once): users loaded, expired sessions purged every minute."""

    manager = hub.data.get(DATA_SESSIONS)
    if manager is not None:
        return manager
    users = await async_get_users(hub)
    manager = hub.data[DATA_SESSIONS] = SessionManager(hub, users, config)
    await manager.async_restore()
    manager.async_start()

    @callback
    def _stop(_event: Any) -> None:
        manager.async_shutdown()

    hub.bus.async_listen_once(EVENT_HUB_STOP, _stop)
    return manager


@callback
def get_sessions(hub: Hub) -> SessionManager | None:
    """The session manager, if set up."""
    return hub.data.get(DATA_SESSIONS)
