"""Password hashing with argon2id (RFC 9106), the rules a new password must meet, and the hashing limiter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..exceptions import HubError

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "DEFAULT_HASH_CONCURRENCY",
    "DEFAULT_HASH_QUEUE",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "HashLimiter",
    "PasswordBusy",
    "PasswordError",
    "check_password_rules",
    "configure_hasher",
    "dummy_verify",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 10
# argon2 reads every byte: an upper bound keeps a megabyte "password" from costing the hub.
MAX_PASSWORD_LENGTH = 1024

# RFC 9106's second recommended profile (64 MiB, 3 passes, 4 lanes): about 50 ms per hash here.
_hasher = argon2.PasswordHasher(type=argon2.Type.ID)
# A hash of a random string, verified when the user is unknown so that the answer takes as long.
_dummy_hash: str | None = None
# Each argon2 computation holds 64 MiB: at most this many at once, this many more waiting.
DEFAULT_HASH_CONCURRENCY: Final = 2
DEFAULT_HASH_QUEUE: Final = 8

_T = TypeVar("_T")


class PasswordError(HubError):
    """A password does not meet the rules (the message says which)."""


class PasswordBusy(HubError):
    """Too many password checks are running or waiting: refused at once, try again shortly."""


class HashLimiter:
    """Runs argon2 work in the executor, `concurrency` at a time, with at most `queue` callers waiting.

    A caller beyond that gets PasswordBusy at once (`wait=True` callers, an administrator setting
    a password, queue without a limit). A slot is held until the executor job really ends, even
    when the caller is cancelled, so memory stays at `concurrency` x the hash's cost.
    """

    def __init__(self, hub: Hub, *, concurrency: int = DEFAULT_HASH_CONCURRENCY,
                 queue: int = DEFAULT_HASH_QUEUE) -> None:
        self._hub = hub
        self._capacity = concurrency + queue
        self._slots = asyncio.Semaphore(concurrency)
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Callers running or waiting now."""
        return self._admitted

    async def async_run(self, target: Callable[..., _T], *args: object, wait: bool = False) -> _T:
        """`target(*args)` in the executor under the limit; PasswordBusy when full (unless `wait`)."""
        if not wait and self._admitted >= self._capacity:
            raise PasswordBusy("Too many password checks at once; try again in a moment")
        self._admitted += 1
        try:
            await self._slots.acquire()
        except BaseException:
            self._admitted -= 1
            raise
        try:
            job = self._hub.async_add_executor_job(target, *args)
        except BaseException:
            self._release()
            raise
        job.add_done_callback(lambda _job: self._release())
        return await asyncio.shield(job)

    def _release(self) -> None:
        self._admitted -= 1
        self._slots.release()


def configure_hasher(*, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> None:
    """Change the argon2id cost (benchmarks and tests; the defaults suit a server).

    Existing hashes keep working; `needs_rehash` reports them so they are upgraded at next login.
    """
    global _hasher, _dummy_hash
    _hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism,
                                    type=argon2.Type.ID)
    _dummy_hash = None


def check_password_rules(password: str, *, username: str | None = None) -> None:
    """Raise PasswordError unless the password is long enough and not the user name."""
    if not isinstance(password, str):
        raise PasswordError("A password must be text")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordError(f"A password may have at most {MAX_PASSWORD_LENGTH} characters")
    if username is not None and password.strip().lower() == username.strip().lower():
        raise PasswordError("A password must not be the user name")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, salt included) to store. Blocking (~50 ms): use an executor."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash. Blocking: use an executor."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current ones."""
    try:
        return bool(_hasher.check_needs_rehash(password_hash))
    except InvalidHashError:
        return True


def dummy_verify(password: str) -> bool:
    """Spend the time of one verification and answer False (for unknown user names)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("hacho-dummy-password-for-timing")
    verify_password(_dummy_hash, password)
    return False
