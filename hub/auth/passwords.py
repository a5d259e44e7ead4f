"""Password hashing with argon2id (RFC 9106), and the rules a new password must meet."""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..exceptions import HubError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
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


class PasswordError(HubError):
    """A password does not meet the rules (the message says which)."""


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
