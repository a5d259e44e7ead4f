"""Versioned JSON storage under `<config_dir>/.storage/`, written atomically in the executor."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson

from ..const import EVENT_HUB_FINAL_WRITE
from ..core import CALLBACK_TYPE, Event, Hub, HubState, callback
from ..exceptions import HubError

__all__ = ["STORAGE_DIR", "StorageError", "Store"]

_LOGGER = logging.getLogger(__name__)

STORAGE_DIR = ".storage"

_T = TypeVar("_T")

MigrateFunc = Callable[[int, Any], "Awaitable[Any] | Any"]


class StorageError(HubError):
    """A store could not be read, migrated or written."""


def _default(value: Any) -> Any:
    """orjson fallback: sets become sorted lists (identifiers, platforms)."""
    if isinstance(value, set | frozenset):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    raise TypeError(f"Type {type(value).__name__} is not JSON serializable")


class Store(Generic[_T]):
    """One JSON document `{"version", "key", "data"}` at `<config_dir>/.storage/<key>.json`.

    `async_load()` returns the data (None when there is no file yet), migrating older versions
    through `migrate(old_version, old_data)` or an `async_migrate` override. `async_save()` writes
    now; `async_delay_save()` coalesces many changes into one write within `delay` seconds and
    the pending write is flushed on `hub_final_write`, so a clean stop loses nothing.

    Data is serialized in the loop (a consistent snapshot of live structures) and written to a
    temporary file, fsynced and renamed over the old one in the executor, so a crash leaves either
    the old or the new file, never half of one.
    """

    def __init__(self, hub: Hub, key: str, version: int, *, private: bool = False,
                 migrate: MigrateFunc | None = None) -> None:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"Invalid storage key {key!r}")
        self.hub = hub
        self.key = key
        self.version = version
        self._private = private
        self._migrate = migrate
        self._load_task: asyncio.Future[_T | None] | None = None
        self._data_func: Callable[[], _T] | None = None
        self._delay_handle: Any = None
        self._delay_due: float | None = None
        self._unsub_final_write: CALLBACK_TYPE | None = None
        self._write_lock = asyncio.Lock()

    @property
    def path(self) -> Path:
        """Where the document lives."""
        return self.hub.path(STORAGE_DIR, f"{self.key}.json")

    # ---- loading

    async def async_load(self) -> _T | None:
        """Load (and migrate) the stored data; None when nothing was stored yet.

        Concurrent callers share one read. A pending delayed write is returned as is, since it is
        newer than the file.
        """
        if self._data_func is not None:
            return self._data_func()
        if self._load_task is None:
            self._load_task = self.hub.async_create_task(self._async_load(), f"storage load {self.key}")
        try:
            return await asyncio.shield(self._load_task)
        finally:
            if self._load_task is not None and self._load_task.done():
                self._load_task = None

    async def _async_load(self) -> _T | None:
        raw = await self.hub.async_add_executor_job(self._read)
        if raw is None:
            return None
        version = raw.get("version")
        if not isinstance(version, int) or "data" not in raw:
            raise StorageError(f"{self.path}: not a {self.key} store (missing 'version' or 'data')")
        if version > self.version:
            raise StorageError(
                f"{self.path}: stored version {version} is newer than {self.version}; "
                "it was written by a newer Hacho, refusing to downgrade it"
            )
        data = raw["data"]
        if version < self.version:
            _LOGGER.info("Migrating %s from version %s to %s", self.key, version, self.version)
            try:
                data = await self.async_migrate(version, data)
            except StorageError:
                raise
            except Exception as err:
                raise StorageError(f"{self.path}: migration from version {version} failed: {err}") from err
        return data

    def _read(self) -> dict[str, Any] | None:
        path = self.path
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageError(f"{path}: cannot read: {err}") from err
        try:
            raw = orjson.loads(content)
        except orjson.JSONDecodeError as err:
            # Keep the broken file for a human and start empty rather than refuse to start.
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            os.replace(path, aside)
            _LOGGER.error("%s is not valid JSON (%s); moved it to %s and starting empty", path, err, aside)
            return None
        if not isinstance(raw, dict):
            raise StorageError(f"{path}: expected a JSON object at the top level")
        return raw

    async def async_migrate(self, old_version: int, old_data: Any) -> Any:
        """Turn data stored as `old_version` into the current version; override or pass `migrate`."""
        if self._migrate is None:
            raise StorageError(
                f"{self.path}: stored version {old_version} needs migrating to {self.version}, "
                "but the store has no migration"
            )
        result = self._migrate(old_version, old_data)
        if inspect.isawaitable(result):
            result = await result
        return result

    # ---- saving

    async def async_save(self, data: _T) -> None:
        """Write `data` now (replacing any pending delayed write)."""
        self._cancel_delay()
        self._data_func = None
        self._cancel_final_write_listener()
        await self._async_write(self._serialize(data))

    @callback
    def async_delay_save(self, data_func: Callable[[], _T], delay: float = 1.0) -> None:
        """Write `data_func()` within `delay` seconds; later calls before the write join it.

        The deadline never moves later, so a steady stream of changes still gets written.
        """
        self._data_func = data_func
        self._ensure_final_write_listener()
        if self.hub.state is HubState.final_write:
            # hub_final_write may already have fired: write straight away
            self._cancel_delay()
            self.hub.async_create_task(self._async_write_pending(), f"storage write {self.key}")
            return
        if self.hub.state in (HubState.stopping, HubState.stopped):
            return  # the final write listener flushes it
        due = self.hub.clock.time() + max(0.0, delay)
        if self._delay_due is not None and self._delay_due <= due:
            return
        self._cancel_delay()
        self._delay_due = due
        self._delay_handle = self.hub.clock.call_at(due, self._on_delay_due)

    def _on_delay_due(self) -> None:
        self._delay_handle = None
        self._delay_due = None
        self.hub.async_create_task(self._async_write_pending(), f"storage write {self.key}")

    @callback
    def _ensure_final_write_listener(self) -> None:
        if self._unsub_final_write is None:
            self._unsub_final_write = self.hub.bus.async_listen_once(
                EVENT_HUB_FINAL_WRITE, self._async_final_write
            )

    def _cancel_final_write_listener(self) -> None:
        if self._unsub_final_write is not None:
            self._unsub_final_write()
            self._unsub_final_write = None

    async def _async_final_write(self, _event: Event) -> None:
        self._unsub_final_write = None
        self._cancel_delay()
        await self._async_write_pending()

    def _cancel_delay(self) -> None:
        if self._delay_handle is not None:
            self._delay_handle.cancel()
            self._delay_handle = None
        self._delay_due = None

    async def _async_write_pending(self) -> None:
        data_func, self._data_func = self._data_func, None
        if data_func is None:
            return
        self._cancel_final_write_listener()
        try:
            content = self._serialize(data_func())
            await self._async_write(content)
        except Exception:
            _LOGGER.exception("Error writing %s", self.path)

    def _serialize(self, data: _T) -> bytes:
        try:
            return orjson.dumps(
                {"version": self.version, "key": self.key, "data": data},
                option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
                default=_default,
            )
        except TypeError as err:
            raise StorageError(f"Cannot serialize {self.key}: {err}") from err

    async def _async_write(self, content: bytes) -> None:
        # The lock keeps writes in call order, so an older snapshot never lands after a newer one.
        async with self._write_lock:
            await self.hub.async_add_executor_job(self._write, content)

    def _write(self, content: bytes) -> None:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
                if not self._private:
                    os.chmod(tmp_name, 0o644)  # mkstemp creates 0600
                os.replace(tmp_name, path)
            except BaseException:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass
                raise
            _fsync_dir(path.parent)
        except OSError as err:
            raise StorageError(f"{path}: cannot write: {err}") from err

    async def async_remove(self) -> None:
        """Drop any pending write and delete the file."""
        self._cancel_delay()
        self._data_func = None
        self._cancel_final_write_listener()
        async with self._write_lock:
            await self.hub.async_add_executor_job(self._unlink)

    def _unlink(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def __repr__(self) -> str:
        return f"<Store {self.key} v{self.version}>"


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
