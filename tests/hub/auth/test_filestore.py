"""Tests of the locked, atomic JSON file helper behind the token and user files."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson

from hub.auth import filestore


def _parse(raw: bytes, path: Path) -> list[str]:
    return [str(item) for item in orjson.loads(raw)["items"]]


def test_write_is_owner_only_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / ".storage" / "things.json"
    with filestore.locked(path):
        filestore.write_atomic(path, orjson.dumps({"items": ["a"]}))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["things.json", "things.json.lock"]


def test_read_if_changed_follows_the_signature(tmp_path: Path) -> None:
    path = tmp_path / "things.json"
    assert filestore.read_if_changed(path, None, _parse) == (None, [])
    filestore.write_atomic(path, orjson.dumps({"items": ["a"]}))
    signature, items = filestore.read_if_changed(path, None, _parse)
    assert items == ["a"] and signature is not None
    assert filestore.read_if_changed(path, signature, _parse) == (signature, None)
    filestore.write_atomic(path, orjson.dumps({"items": ["a"]}))  # same bytes, new inode
    newer, items = filestore.read_if_changed(path, signature, _parse)
    assert newer != signature and items == ["a"]
