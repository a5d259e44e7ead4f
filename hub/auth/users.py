"""Users of the control centres: role, centre, argon2id password; stored in `.storage/auth_users.json`.

The file is written by the `hacho user` CLI (no hub needed) and by a running hub, both under an
flock and atomically (temp file + rename), readable by its owner only. A running hub re-reads it
when it changes, so a user added or disabled with the CLI counts within about a second.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from ..core import CALLBACK_TYPE, HubKey, callback
from ..exceptions import HubError
from ..helpers.registry_base import SingletonLoader
from . import filestore
from .models import User
from .passwords import (
    HashLimiter,
    check_password_rules,
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "DATA_USERS",
    "USERS_FILENAME",
    "Role",
    "UserError",
    "UserRecord",
    "UserStore",
    "add_user",
    "async_get_users",
    "get_users",
    "list_users",
    "normalize_user_id",
    "remove_user",
    "set_disabled",
    "set_language",
    "set_password",
    "set_role",
    "set_wall",
    "users_path",
]

_LOGGER = logging.getLogger(__name__)

STORAGE_DIR: Final = ".storage"
USERS_FILENAME: Final = "auth_users.json"
STORAGE_KEY: Final = "auth_users"
STORAGE_VERSION: Final = 1
DEFAULT_CHECK_INTERVAL: Final = 1.0
_USER_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")

DATA_USERS: HubKey[UserStore] = HubKey("auth_users")

_Signature = filestore.Signature


class Role(enum.StrEnum):
    """What a user may do; see hub.auth.permissions for the table."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    AGENCY = "agency"  # machine access by token, only to its webhook routes


class UserError(HubError):
    """A user operation failed: a bad or duplicate id, an unknown centre, an unreadable file."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One user as stored. `id` is what service calls record as `Context.user_id`."""

    id: str
    name: str
    role: Role
    centre: str
    password_hash: str = field(default="", repr=False)
    disabled: bool = False
    webhooks: tuple[str, ...] = ()  # agency users: the webhook ids they may call
    created: str = ""
    password_changed: str | None = None
    language: str | None = None  # the screens' language the user chose (None: the site's default)
    # the camera wall the user arranged: its layout (tiles shown) and the camera id of each tile ("" for a
    # tile left to the default order); None: never arranged
    wall_layout: int | None = None
    wall_tiles: tuple[str, ...] = ()

    @property
    def can_log_in(self) -> bool:
        """Whether a password login is possible (agency users may only have tokens)."""
        return bool(self.password_hash) and not self.disabled

    def user(self, token_id: str = "") -> User:
        """The request identity (hub.auth.models.User) of this user."""
        return User(id=self.id, name=self.name, token_id=token_id, centre=self.centre)

    def as_dict(self, *, with_hash: bool = False) -> dict[str, Any]:
        """A JSON-able description; the password hash only when writing the file."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "centre": self.centre,
            "disabled": self.disabled,
            "webhooks": list(self.webhooks),
            "created": self.created,
            "password_changed": self.password_changed,
            "language": self.language,
            "wall": ({"layout": self.wall_layout, "tiles": list(self.wall_tiles)}
                     if self.wall_layout is not None else None),
        }
        if with_hash:
            data["password_hash"] = self.password_hash
        return data


def users_path(config_dir: str | os.PathLike[str]) -> Path:
    """Where the user file of a config dir lives."""
    return Path(config_dir) / STORAGE_DIR / USERS_FILENAME


def normalize_user_id(user_id: str) -> str:
    """The canonical (lower-case) id; raises UserError when it is not 2-64 of a-z 0-9 _ . -."""
    value = user_id.strip().lower() if isinstance(user_id, str) else ""
    if not _USER_ID.fullmatch(value):
        raise UserError(f"User id must be 2 to 64 characters of a-z, 0-9, '_', '.', '-' "
                        f"starting with a letter or digit, got {user_id!r}")
    return value


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- file access (blocking)


def _parse(raw: bytes, path: Path) -> list[UserRecord]:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON ({err})") from err
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("users"), list):
        raise UserError(f"{path}: expected {{'version', 'data': {{'users': [...]}}}}")
    users = []
    for index, item in enumerate(data["users"]):
        try:
            users.append(UserRecord(
                id=str(item["id"]),
                name=str(item.get("name") or item["id"]),
                role=Role(item["role"]),
                centre=str(item["centre"]),
                password_hash=str(item.get("password_hash") or ""),
                disabled=bool(item.get("disabled", False)),
                webhooks=tuple(str(w) for w in item.get("webhooks") or ()),
                created=str(item.get("created") or ""),
                password_changed=item.get("password_changed"),
                language=str(item["language"]) if item.get("language") else None,
                wall_layout=int(item["wall"]["layout"]) if item.get("wall") else None,
                wall_tiles=tuple(str(t or "") for t in item["wall"].get("tiles") or ()) if item.get("wall") else (),
            ))
        except (KeyError, TypeError, ValueError) as err:
            raise UserError(f"{path}: user #{index} is invalid ({type(err).__name__}: {err})") from err
    return users


def _read_if_changed(path: Path,
                     known: _Signature | None) -> tuple[_Signature | None, list[UserRecord] | None]:
    """(signature, users); users None when unchanged since `known`. A missing file: no users."""
    return filestore.read_if_changed(path, known, _parse)


def _read(path: Path) -> list[UserRecord]:
    return _read_if_changed(path, None)[1] or []


def _write(path: Path, users: list[UserRecord]) -> None:
    """Write atomically (temp file in the same dir, fsync, rename), mode 0600."""
    payload = orjson.dumps(
        {"version": STORAGE_VERSION, "key": STORAGE_KEY,
         "data": {"users": [user.as_dict(with_hash=True) for user in users]}},
        option=orjson.OPT_INDENT_2,
    )
    filestore.write_atomic(path, payload)



def _update(config_dir: str | os.PathLike[str], user_id: str,
            change: Callable[[UserRecord], UserRecord | None]) -> UserRecord | None:
    """Apply `change` to one user under the lock (None from it deletes the user)."""
    user_id = normalize_user_id(user_id)
    path = users_path(config_dir)
    with filestore.locked(path):
        users = _read(path)
        for index, user in enumerate(users):
            if user.id == user_id:
                changed = change(user)
                if changed is None:
                    del users[index]
                else:
                    users[index] = changed
                _write(path, users)
                return changed
    raise UserError(f"No user {user_id!r} in {path}")


# --------------------------------------------------------------------------- CLI-facing functions


def add_user(config_dir: str | os.PathLike[str], user_id: str, *, role: Role | str, centre: str,
             password: str | None = None, name: str | None = None, webhooks: Iterable[str] = (),
             known_centres: Iterable[str] | None = None, service_account: bool = False) -> UserRecord:
    """Add a user (blocking: argon2 and file I/O). Raises UserError or PasswordError.

    Every role but `agency` needs a password, unless `service_account` (a machine with tokens only,
    which cannot log in to the screens); `known_centres` (the configured control centre ids), when
    given, must contain `centre`.
    """
    user_id = normalize_user_id(user_id)
    try:
        role = Role(role)
    except ValueError:
        raise UserError(f"Unknown role {role!r}; expected one of {', '.join(r.value for r in Role)}") from None
    centres = list(known_centres) if known_centres is not None else None
    if centres is not None and centre not in centres:
        raise UserError(f"Unknown control centre {centre!r}; configured: {', '.join(centres) or 'none'}")
    if password is None and role is not Role.AGENCY and not service_account:
        raise UserError(f"A {role.value} needs a password")
    password_hash = ""
    if password is not None:
        check_password_rules(password, username=user_id)
        password_hash = hash_password(password)
    now = _now_iso()
    record = UserRecord(id=user_id, name=(name or user_id).strip() or user_id, role=role, centre=centre,
                        password_hash=password_hash, webhooks=tuple(webhooks), created=now,
                        password_changed=now if password_hash else None)
    path = users_path(config_dir)
    with filestore.locked(path):
        users = _read(path)
        if any(user.id == user_id for user in users):
            raise UserError(f"A user {user_id!r} already exists in {path}")
        users.append(record)
        _write(path, users)
    _LOGGER.debug("Added user %s (%s, %s)", user_id, role.value, centre)  # ids may name people
    return record


def set_password(config_dir: str | os.PathLike[str], user_id: str, password: str) -> UserRecord:
    """Give a user a new password (blocking). Raises UserError or PasswordError."""
    check_password_rules(password, username=user_id)
    password_hash = hash_password(password)
    now = _now_iso()
    result = _update(config_dir, user_id,
                     lambda user: replace(user, password_hash=password_hash, password_changed=now))
    assert result is not None
    return result


def set_disabled(config_dir: str | os.PathLike[str], user_id: str, disabled: bool) -> UserRecord:
    """Disable (no login, no service calls, sessions revoked) or enable a user."""
    result = _update(config_dir, user_id, lambda user: replace(user, disabled=disabled))
    assert result is not None
    return result


def set_role(config_dir: str | os.PathLike[str], user_id: str, role: Role | str) -> UserRecord:
    """Give a user another role (its sessions end: the session manager re-checks the user)."""
    try:
        new_role = Role(role)
    except ValueError:
        raise UserError(f"Unknown role {role!r}; expected one of {', '.join(r.value for r in Role)}") from None
    result = _update(config_dir, user_id, lambda user: replace(user, role=new_role))
    assert result is not None
    return result


def set_language(config_dir: str | os.PathLike[str], user_id: str, language: str | None) -> UserRecord:
    """Remember the screens' language a user chose (None: the site's default)."""
    result = _update(config_dir, user_id, lambda user: replace(user, language=language))
    assert result is not None
    return result


def set_wall(config_dir: str | os.PathLike[str], user_id: str, layout: int,
             tiles: Iterable[str]) -> UserRecord:
    """Remember the camera wall a user arranged: its layout and each tile's camera id ("" for the default)."""
    wanted = tuple(tiles)
    result = _update(config_dir, user_id, lambda user: replace(user, wall_layout=layout, wall_tiles=wanted))
    assert result is not None
    return result


def remove_user(config_dir: str | os.PathLike[str], user_id: str) -> None:
    """Delete a user. Raises UserError when there is none."""
    _update(config_dir, user_id, lambda _user: None)


def list_users(config_dir: str | os.PathLike[str]) -> list[UserRecord]:
    """The stored users (with their hashes: never print those)."""
    return _read(users_path(config_dir))


# --------------------------------------------------------------------------- the hub side


class UserStore:
    """The users a running hub knows: loaded in the executor, re-read when the file changes.

    A file that cannot be parsed fails closed: `broken` is set and no user is known (so no one can
    log in and the permission hook refuses every call made for a user) until it is fixed.
    """

    def __init__(self, hub: Hub, config_dir: str | os.PathLike[str] | None = None,
                 *, check_interval: float = DEFAULT_CHECK_INTERVAL) -> None:
        self._hub = hub
        self.config_dir = Path(config_dir) if config_dir is not None else hub.config_dir
        self.path = users_path(self.config_dir)
        self.broken = False
        self._check_interval = check_interval
        self._users: dict[str, UserRecord] = {}
        self._signature: _Signature | None = None
        self._last_check: float | None = None
        self._check_lock = asyncio.Lock()
        self._listeners: list[Callable[[dict[str, UserRecord], dict[str, UserRecord]], None]] = []
        # every argon2 computation of this hub goes through it (64 MiB each)
        self.hash_limiter = HashLimiter(hub)

    @property
    def users(self) -> list[UserRecord]:
        """Every known user."""
        return list(self._users.values())

    @callback
    def get(self, user_id: str | None) -> UserRecord | None:
        """The user with this id (memory only), or None."""
        if user_id is None:
            return None
        return self._users.get(user_id)

    @callback
    def async_listen(self,
                     listener: Callable[[dict[str, UserRecord], dict[str, UserRecord]], None]) -> CALLBACK_TYPE:
        """Call `listener(old, new)` (dicts by id) in the loop whenever the users change; returns the remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    async def async_load(self) -> None:
        """Read the user file now."""
        self._last_check = self._hub.clock.monotonic()
        await self._async_read(None)

    async def async_maybe_reload(self, *, force: bool = False) -> None:
        """Re-read the file if it changed, at most once per check interval (`force`: whenever)."""
        now = self._hub.clock.monotonic()
        if not force and self._last_check is not None and now - self._last_check < self._check_interval:
            return
        if self._check_lock.locked():
            return
        async with self._check_lock:
            self._last_check = now
            await self._async_read(self._signature)

    async def _async_read(self, known: _Signature | None) -> None:
        try:
            signature, users = await self._hub.async_add_executor_job(_read_if_changed, self.path, known)
        except (UserError, OSError) as err:
            if not self.broken:
                _LOGGER.error("Cannot read users, refusing every login and user call until fixed: %s", err)
            self.broken = True
            self._signature = None
            self._set({})
            return
        self.broken = False
        if users is None:
            return
        self._signature = signature
        self._set({user.id: user for user in users})

    def _set(self, users: dict[str, UserRecord]) -> None:
        old, self._users = self._users, users
        if old == users:
            return
        for listener in list(self._listeners):
            try:
                listener(old, users)
            except Exception:
                _LOGGER.exception("Error in a user store listener")

    async def async_verify(self, user_id: str, password: str) -> UserRecord | None:
        """The user if the password is right and it may log in; None otherwise (always ~one hash long).

        Raises PasswordBusy, without checking, when the hash limiter is full.
        """
        await self.async_maybe_reload()
        try:
            key = normalize_user_id(user_id)
        except UserError:
            key = ""
        user = self._users.get(key)
        if user is None or not user.can_log_in:
            await self.hash_limiter.async_run(dummy_verify, password)
            return None
        ok = await self.hash_limiter.async_run(verify_password, user.password_hash, password)
        if not ok:
            return None
        if needs_rehash(user.password_hash):
            try:
                await self.async_set_password(user.id, password)
            except HubError as err:
                _LOGGER.warning("Could not upgrade a password hash: %s", err)
        return user

    async def async_add_user(self, user_id: str, *, role: Role | str, centre: str,
                             password: str | None = None, name: str | None = None,
                             webhooks: Iterable[str] = ()) -> UserRecord:
        """Add a user (checked against the configured control centres) and know it at once."""
        centres = [c.id for c in self._hub.config.control_centres] if self._hub.config is not None else None
        wanted = list(webhooks)
        record = await self.hash_limiter.async_run(
            lambda: add_user(self.config_dir, user_id, role=role, centre=centre, password=password,
                             name=name, webhooks=wanted, known_centres=centres),
            wait=True,
        )
        await self._async_read(None)
        return record

    async def async_set_password(self, user_id: str, password: str) -> UserRecord:
        """Change a password (in the executor)."""
        record = await self.hash_limiter.async_run(set_password, self.config_dir, user_id, password, wait=True)
        await self._async_read(None)
        return record

    async def async_set_disabled(self, user_id: str, disabled: bool) -> UserRecord:
        """Disable or enable a user (in the executor)."""
        record = await self._hub.async_add_executor_job(set_disabled, self.config_dir, user_id, disabled)
        await self._async_read(None)
        return record

    async def async_set_language(self, user_id: str, language: str | None) -> UserRecord:
        """Remember a user's language (in the executor)."""
        record = await self._hub.async_add_executor_job(set_language, self.config_dir, user_id, language)
        await self._async_read(None)
        return record

    async def async_set_wall(self, user_id: str, layout: int, tiles: Iterable[str]) -> UserRecord:
        """Remember a user's camera wall (in the executor)."""
        wanted = tuple(tiles)
        record = await self._hub.async_add_executor_job(set_wall, self.config_dir, user_id, layout, wanted)
        await self._async_read(None)
        return record

    async def async_remove_user(self, user_id: str) -> None:
        """Delete a user (in the executor)."""
        await self._hub.async_add_executor_job(remove_user, self.config_dir, user_id)
        await self._async_read(None)


_LOADER: SingletonLoader[UserStore] = SingletonLoader(DATA_USERS, UserStore, what="user store", module="users")


async def async_get_users(hub: Hub) -> UserStore:
    """The hub's user store, loaded on first use (concurrent callers share the load)."""
    return await _LOADER.async_load(hub)


@callback
def get_users(hub: Hub) -> UserStore | None:
    """The hub's user store if it was loaded (memory only)."""
    return _LOADER.get(hub)
