"""Tests of the JSON Store: round trips, atomic writes, delayed writes, final write, migration."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.clock import FakeClock
from hub.core import Hub
from hub.helpers import storage
from hub.helpers.storage import StorageError, Store


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


async def test_load_missing_then_save_and_load(hub: Hub) -> None:
    store: Store[dict[str, Any]] = Store(hub, "test.things", 1)
    assert store.path == hub.config_dir / ".storage" / "test.things.json"
    assert await store.async_load() is None

    await store.async_save({"a": 1, "tags": {"x"}, "nested": [1, 2.5, None]})
    assert _read(store.path) == {"version": 1, "key": "test.things",
                                 "data": {"a": 1, "tags": ["x"], "nested": [1, 2.5, None]}}
    # a fresh Store (as after a restart) reads the same data back
    again: Store[dict[str, Any]] = Store(hub, "test.things", 1)
    assert await again.async_load() == {"a": 1, "tags": ["x"], "nested": [1, 2.5, None]}
    # nothing but the document is left in the directory
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["test.things.json"]


async def test_invalid_key_rejected(hub: Hub) -> None:
    for key in ("", "../escape", ".hidden"):
        with pytest.raises(ValueError, match="Invalid storage key"):
            Store(hub, key, 1)


async def test_write_runs_in_executor(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real_replace = storage.os.replace

    def spy_replace(src: Any, dst: Any) -> None:
        threads.append(threading.current_thread().name)
        real_replace(src, dst)

    monkeypatch.setattr(storage.os, "replace", spy_replace)
    await Store[list[int]](hub, "test.exec", 1).async_save([1])
    assert threads and all(name != threading.main_thread().name for name in threads)


async def test_unserializable_data_keeps_old_file(hub: Hub) -> None:
    store: Store[Any] = Store(hub, "test.keep", 1)
    await store.async_save({"ok": True})
    with pytest.raises(StorageError, match=r"Cannot serialize test\.keep"):
        await store.async_save({"bad": object()})
    assert _read(store.path)["data"] == {"ok": True}


async def test_failed_write_leaves_old_file_and_no_temp(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    store: Store[Any] = Store(hub, "test.crash", 1)
    await store.async_save({"generation": 1})

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "replace", broken_replace)
    with pytest.raises(StorageError, match="No space left"):
        await store.async_save({"generation": 2})
    monkeypatch.undo()
    assert _read(store.path)["data"] == {"generation": 1}
    assert [p.name for p in store.path.parent.iterdir()] == ["test.crash.json"]


async def test_delay_save_coalesces(fake_hub: Hub, fake_clock: FakeClock,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[bytes] = []
    real_write = Store._write

    def counting_write(self: Store[Any], content: bytes) -> None:
        writes.append(content)
        real_write(self, content)

    monkeypatch.setattr(Store, "_write", counting_write)
    store: Store[dict[str, int]] = Store(fake_hub, "test.delay", 1)
    for n in range(5):
        store.async_delay_save(lambda n=n: {"n": n}, 10)  # type: ignore[misc]
        await fake_clock.async_advance(1)
    # the pending data is what a load sees, before it reaches the disk
    assert await store.async_load() == {"n": 4}
    assert not store.path.exists()
    await fake_clock.async_advance(4.9)
    assert writes == []
    await fake_clock.async_advance(0.2)
    await fake_hub.async_block_till_done()
    assert len(writes) == 1
    assert _read(store.path)["data"] == {"n": 4}


async def test_delay_save_deadline_not_postponed(fake_hub: Hub, fake_clock: FakeClock) -> None:
    store: Store[dict[str, int]] = Store(fake_hub, "test.deadline", 1)
    store.async_delay_save(lambda: {"n": 1}, 10)
    await fake_clock.async_advance(8)
    store.async_delay_save(lambda: {"n": 2}, 10)  # must not push the write to t=18
    await fake_clock.async_advance(2)
    await fake_hub.async_block_till_done()
    assert _read(store.path)["data"] == {"n": 2}
    # a shorter delay brings a pending deadline forward
    store.async_delay_save(lambda: {"n": 3}, 60)
    store.async_delay_save(lambda: {"n": 4}, 1)
    await fake_clock.async_advance(1)
    await fake_hub.async_block_till_done()
    assert _read(store.path)["data"] == {"n": 4}


async def test_save_now_replaces_pending_delayed_write(fake_hub: Hub, fake_clock: FakeClock) -> None:
    store: Store[dict[str, int]] = Store(fake_hub, "test.replace", 1)
    store.async_delay_save(lambda: {"n": 1}, 5)
    await store.async_save({"n": 2})
    await fake_clock.async_advance(10)
    await fake_hub.async_block_till_done()
    assert _read(store.path)["data"] == {"n": 2}


async def test_pending_write_flushed_on_stop(config_dir: Path) -> None:
    hub = Hub(config_dir, clock=FakeClock())
    await hub.async_start()
    store: Store[list[str]] = Store(hub, "test.final", 1)
    store.async_delay_save(lambda: ["written at stop"], 3600)
    await hub.async_stop()
    assert _read(store.path)["data"] == ["written at stop"]


async def test_delay_save_during_final_write_still_written(config_dir: Path) -> None:
    hub = Hub(config_dir, clock=FakeClock())
    await hub.async_start()
    store: Store[list[str]] = Store(hub, "test.late", 1)

    async def late_writer(_event: Any) -> None:
        store.async_delay_save(lambda: ["late"], 3600)

    hub.bus.async_listen("hub_final_write", late_writer)
    await hub.async_stop()
    assert _read(store.path)["data"] == ["late"]


async def test_concurrent_loads_share_one_read(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    store: Store[int] = Store(hub, "test.shared", 1)
    await store.async_save(7)
    reads = 0
    real_read = Store._read

    def counting_read(self: Store[Any]) -> Any:
        nonlocal reads
        reads += 1
        return real_read(self)

    monkeypatch.setattr(Store, "_read", counting_read)
    import asyncio

    assert await asyncio.gather(store.async_load(), store.async_load()) == [7, 7]
    assert reads == 1


def _write_raw(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document))


async def test_migration_hook(hub: Hub) -> None:
    path = hub.config_dir / ".storage" / "test.migrate.json"
    _write_raw(path, {"version": 1, "key": "test.migrate", "data": {"names": ["a", "b"]}})
    calls: list[int] = []

    def migrate(old_version: int, data: Any) -> Any:
        calls.append(old_version)
        return {"items": [{"name": n} for n in data["names"]]}

    store: Store[Any] = Store(hub, "test.migrate", 2, migrate=migrate)
    assert await store.async_load() == {"items": [{"name": "a"}, {"name": "b"}]}
    assert calls == [1]


async def test_async_migrate_override(hub: Hub) -> None:
    path = hub.config_dir / ".storage" / "test.override.json"
    _write_raw(path, {"version": 1, "key": "test.override", "data": [1, 2]})

    class DoublingStore(Store[list[int]]):
        async def async_migrate(self, old_version: int, old_data: Any) -> Any:
            return [x * 2 for x in old_data]

    assert await DoublingStore(hub, "test.override", 3).async_load() == [2, 4]


async def test_migration_errors(hub: Hub) -> None:
    path = hub.config_dir / ".storage" / "test.versions.json"
    _write_raw(path, {"version": 1, "key": "test.versions", "data": {}})
    with pytest.raises(StorageError, match="has no migration"):
        await Store(hub, "test.versions", 2).async_load()

    def failing(old_version: int, data: Any) -> Any:
        raise KeyError("names")

    with pytest.raises(StorageError, match="migration from version 1 failed"):
        await Store(hub, "test.versions", 2, migrate=failing).async_load()

    _write_raw(path, {"version": 5, "key": "test.versions", "data": {}})
    with pytest.raises(StorageError, match="newer than 2"):
        await Store(hub, "test.versions", 2).async_load()

    _write_raw(path, {"key": "test.versions"})
    with pytest.raises(StorageError, match="missing 'version' or 'data'"):
        await Store(hub, "test.versions", 2).async_load()


async def test_corrupt_file_moved_aside(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    path = hub.config_dir / ".storage" / "test.corrupt.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "data": [')
    store: Store[Any] = Store(hub, "test.corrupt", 1)
    assert await store.async_load() is None
    assert "is not valid JSON" in caplog.text
    leftovers = [p.name for p in path.parent.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith("test.corrupt.json.corrupt-")
    await store.async_save([1])
    assert await store.async_load() == [1]


async def test_remove(hub: Hub) -> None:
    store: Store[Any] = Store(hub, "test.remove", 1)
    await store.async_save([1])
    store.async_delay_save(lambda: [2], 0.01)
    await store.async_remove()
    assert not store.path.exists()
    assert await store.async_load() is None
