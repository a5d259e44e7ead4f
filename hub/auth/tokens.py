"""Long-lived access tokens: created by the CLI, stored hashed, checked by the HTTP server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..core import CALLBACK_TYPE, callback
from ..exceptions import HubError
from . import filestore
from .models import User

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "LAST_USED_RESOLUTION",
    "TOKENS_FILENAME",
    "TokenError",
    "TokenInfo",
    "TokenStore",
    "create_token",
    "find_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "tokens_path",
]

_LOGGER = logging.getLogger(__name__)

STORAGE_DIR = ".storage"
TOKENS_FILENAME = "auth_tokens.json"
STORAGE_VERSION = 1
TOKEN_BYTES = 32
MAX_NAME_LENGTH = 64
# last_used is written to disk at most this often per token, so busy clients do not rewrite the file.
LAST_USED_RESOLUTION = 60.0
DEFAULT_CHECK_INTERVAL = 1.0

# (inode, mtime_ns, size): os.replace gives a new inode, so every write changes it.
_Signature = filestore.Signature


class TokenError(HubError):
    """A token operation failed: a bad name, a duplicate, an unreadable token file."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """One long-lived token as stored: never the token itself, only its SHA-256."""

    id: str
    name: str
    token_hash: str = field(repr=False)
    created: str
    user_id: str
    centre: str | None = None
    last_used: str | None = None

    def as_dict(self, *, with_hash: bool = False) -> dict[str, Any]:
        """A JSON-able description; the hash only when writing the file."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "user_id": self.user_id,
            "centre": self.centre,
            "created": self.created,
            "last_used": self.last_used,
        }
        if with_hash:
            data["token_hash"] = self.token_hash
        return data

    def user(self) -> User:
        """The identity this token authenticates as."""
        return User(id=self.user_id, name=self.name, token_id=self.id, centre=self.centre)


def tokens_path(config_dir: str | os.PathLike[str]) -> Path:
    """Where the token file of a config dir lives."""
    return Path(config_dir) / STORAGE_DIR / TOKENS_FILENAME


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_token(tokens: Iterable[TokenInfo], token: str) -> TokenInfo | None:
    """The stored token matching `token`, comparing every hash in constant time (no early exit)."""
    digest = hash_token(token)
    found: TokenInfo | None = None
    for info in tokens:
        if hmac.compare_digest(info.token_hash, digest):
            found = info
    return found


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- file access (blocking)


def _parse(raw: bytes, path: Path) -> list[TokenInfo]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise TokenError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
        raise TokenError(f"{path}: expected an object with a 'tokens' list")
    tokens = []
    for index, item in enumerate(data["tokens"]):
        try:
            tokens.append(TokenInfo(
                id=str(item["id"]),
                name=str(item["name"]),
                token_hash=str(item["token_hash"]),
                created=str(item["created"]),
                user_id=str(item.get("user_id") or item["name"]),
                centre=item.get("centre"),
                last_used=item.get("last_used"),
            ))
        except (KeyError, TypeError) as err:
            raise TokenError(f"{path}: token #{index} is missing {err}") from err
    return tokens


def _read_if_changed(path: Path,
                     known: _Signature | None) -> tuple[_Signature | None, list[TokenInfo] | None]:
    """(signature, tokens); tokens None when unchanged since `known`. A missing file: no tokens."""
    return filestore.read_if_changed(path, known, _parse)


def _read(path: Path) -> list[TokenInfo]:
    return _read_if_changed(path, None)[1] or []


def _write(path: Path, tokens: list[TokenInfo]) -> None:
    """Write atomically (temp file in the same dir, then os.replace), readable by the owner only."""
    payload = orjson.dumps(
        {"version": STORAGE_VERSION, "tokens": [info.as_dict(with_hash=True) for info in tokens]},
        option=orjson.OPT_INDENT_2,
    )
    filestore.write_atomic(path, payload)



def _check_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise TokenError(f"Token name must be 1 to {MAX_NAME_LENGTH} printable characters, got {name!r}")
    return name


# --------------------------------------------------------------------------- CLI-facing functions


def create_token(config_dir: str | os.PathLike[str], name: str, centre: str | None = None,
                 *, user_id: str | None = None) -> str:
    """Create a token named `name` and return its plaintext; only its hash is stored, so show it once.

    `user_id` (default: the name) is what service calls and events made with it record as
    `Context.user_id`; `centre` is the control centre it acts from. Raises TokenError for a
    duplicate or bad name.
    """
    name = _check_name(name)
    path = tokens_path(config_dir)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with filestore.locked(path):
        tokens = _read(path)
        if any(info.name == name for info in tokens):
            raise TokenError(f"A token named {name!r} already exists in {path}; revoke it first")
        tokens.append(TokenInfo(
            id=uuid.uuid4().hex,
            name=name,
            token_hash=hash_token(token),
            created=_now_iso(),
            user_id=user_id or name,
            centre=centre,
        ))
        _write(path, tokens)
    _LOGGER.debug("Created access token %s", name)  # names may be people's: debug only
    return token


def revoke_token(config_dir: str | os.PathLike[str], name_or_id: str) -> bool:
    """Delete the token with this id or name. Returns whether one was deleted.

    A running hub notices within about a second (it re-reads the file when it changes).
    """
    path = tokens_path(config_dir)
    with filestore.locked(path):
        tokens = _read(path)
        remaining = [info for info in tokens if name_or_id not in (info.id, info.name)]
        if len(remaining) == len(tokens):
            return False
        _write(path, remaining)
    _LOGGER.debug("Revoked access token %s", name_or_id)
    return True


def list_tokens(config_dir: str | os.PathLike[str]) -> list[TokenInfo]:
    """The stored tokens (hashes, never plaintexts), oldest first."""
    return _read(tokens_path(config_dir))


def _record_last_used(path: Path, used: dict[str, str]) -> None:
    """Write last_used for tokens that still exist; a token revoked meanwhile stays revoked."""
    with filestore.locked(path):
        tokens = _read(path)
        changed = [replace(info, last_used=used[info.id]) if info.id in used else info for info in tokens]
        if changed != tokens:
            _write(path, changed)


# --------------------------------------------------------------------------- the server side


class TokenStore:
    """The tokens a running hub accepts: loaded in the executor, re-read when the file changes.

    The file is checked at most once per `check_interval` seconds (on `hub.clock`), so a token
    revoked with the CLI stops working within about that long, without a restart; the HTTP server
    also checks it twice a second (`async_check_now`) so that `async_listen_removed` listeners
    (open websockets) learn of a revocation within a second. A token file that cannot be parsed
    fails closed: no token is accepted (every token counts as removed) until it is fixed.
    """

    def __init__(self, hub: Hub, config_dir: str | os.PathLike[str] | None = None,
                 *, check_interval: float = DEFAULT_CHECK_INTERVAL) -> None:
        self._hub = hub
        self.config_dir = Path(config_dir) if config_dir is not None else hub.config_dir
        self.path = tokens_path(self.config_dir)
        self._check_interval = check_interval
        self._tokens: list[TokenInfo] = []
        self._signature: _Signature | None = None
        self._last_check: float | None = None
        self._check_lock = asyncio.Lock()
        self._last_used: dict[str, float] = {}
        self._pending_last_used: dict[str, str] = {}
        self._flush_task: asyncio.Task[None] | None = None
        self._write_failed = False
        self._removed_listeners: list[Callable[[set[str]], None]] = []

    @property
    def tokens(self) -> list[TokenInfo]:
        """The tokens currently accepted."""
        return list(self._tokens)

    @callback
    def is_live(self, token_id: str) -> bool:
        """Whether the token with this id is still accepted (memory only)."""
        return any(info.id == token_id for info in self._tokens)

    @callback
    def async_listen_removed(self, listener: Callable[[set[str]], None]) -> CALLBACK_TYPE:
        """Call `listener(token_ids)` in the loop when tokens stop being accepted; returns the remover."""
        self._removed_listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._removed_listeners:
                self._removed_listeners.remove(listener)

        return remove

    async def async_load(self) -> None:
        """Read the token file now."""
        self._last_check = self._hub.clock.monotonic()
        await self._async_read(None)

    async def async_check_now(self) -> None:
        """Re-read the file if it changed, whenever it was last checked."""
        await self._async_maybe_reload(force=True)

    async def _async_read(self, known: _Signature | None) -> None:
        try:
            signature, tokens = await self._hub.async_add_executor_job(_read_if_changed, self.path, known)
        except (TokenError, OSError) as err:
            _LOGGER.error("Cannot read access tokens, refusing all tokens until fixed: %s", err)
            self._set([], None)
            return
        if tokens is None:
            return
        if known is not None:
            _LOGGER.debug("Reloaded %d access tokens from %s", len(tokens), self.path)
        self._set(tokens, signature)
        known_ids = {info.id for info in tokens}
        self._last_used = {key: value for key, value in self._last_used.items() if key in known_ids}

    def _set(self, tokens: list[TokenInfo], signature: _Signature | None) -> None:
        removed = {info.id for info in self._tokens} - {info.id for info in tokens}
        self._tokens, self._signature = tokens, signature
        if not removed:
            return
        for listener in list(self._removed_listeners):
            try:
                listener(removed)
            except Exception:
                _LOGGER.exception("Error in a token removal listener")

    async def _async_maybe_reload(self, *, force: bool = False) -> None:
        now = self._hub.clock.monotonic()
        if not force and self._last_check is not None and now - self._last_check < self._check_interval:
            return
        if self._check_lock.locked():
            return  # another request is checking right now; use what we have
        async with self._check_lock:
            self._last_check = now
            # an unreadable file has no signature, so it is re-read every interval until fixed
            await self._async_read(self._signature)

    async def async_authenticate(self, token: str) -> User | None:
        """The user a token stands for, or None when it is unknown or revoked."""
        await self._async_maybe_reload()
        info = find_token(self._tokens, token)
        if info is None:
            return None
        self._note_used(info)
        return info.user()

    @callback
    def _note_used(self, info: TokenInfo) -> None:
        now = self._hub.clock.time()
        previous = self._last_used.get(info.id)
        if previous is None and info.last_used is not None:
            try:
                previous = datetime.fromisoformat(info.last_used).timestamp()
            except ValueError:
                previous = None
        if previous is not None and now - previous < LAST_USED_RESOLUTION:
            return
        self._last_used[info.id] = now
        self._pending_last_used[info.id] = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = self._hub.async_create_task(self.async_flush(), "auth tokens last_used")

    async def async_flush(self) -> None:
        """Write pending last_used times to the token file (merging with what is on disk)."""
        while self._pending_last_used:
            used, self._pending_last_used = self._pending_last_used, {}
            try:
                await self._hub.async_add_executor_job(_record_last_used, self.path, used)
            except (TokenError, OSError, RuntimeError) as err:  # RuntimeError: executor shut down
                if not self._write_failed:
                    _LOGGER.warning("Cannot record when access tokens were last used: %s", err)
                self._write_failed = True
                return
            self._write_failed = False

    async def async_create_token(self, name: str, centre: str | None = None,
                                 *, user_id: str | None = None) -> str:
        """Create a token (in the executor) and accept it at once; returns the plaintext."""
        token = await self._hub.async_add_executor_job(
            lambda: create_token(self.config_dir, name, centre, user_id=user_id)
        )
        await self._async_read(None)
        return token

    async def async_revoke_token(self, name_or_id: str) -> bool:
        """Revoke a token (in the executor) and stop accepting it at once."""
        removed = await self._hub.async_add_executor_job(revoke_token, self.config_dir, name_or_id)
        await self._async_read(None)
        return removed
