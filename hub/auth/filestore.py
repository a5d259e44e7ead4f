"""Locked, atomic JSON files shared by the CLI and a running hub (the token and user files).

Blocking: call these from the CLI or an executor. Writers take `locked(path)` (an flock on a
side file) around read-modify-write; `write_atomic` writes a temp file in the same directory,
fsyncs it and renames it over the file, mode 0600. A running hub re-reads with
`read_if_changed`, which compares (inode, mtime_ns, size): os.replace gives a new inode, so
every write changes the signature.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

__all__ = ["Signature", "locked", "read_if_changed", "signature", "write_atomic"]

# (inode, mtime_ns, size)
Signature = tuple[int, int, int]

_T = TypeVar("_T")


def signature(stat: os.stat_result) -> Signature:
    """The change signature of a file's stat."""
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def read_if_changed(path: Path, known: Signature | None,
                    parse: Callable[[bytes, Path], list[_T]]) -> tuple[Signature | None, list[_T] | None]:
    """(signature, parse(raw, path)); the list is None when unchanged since `known`. A missing file: []."""
    try:
        if known is not None and signature(path.stat()) == known:
            return known, None
        with path.open("rb") as file:
            current = signature(os.fstat(file.fileno()))
            raw = file.read()
    except FileNotFoundError:
        return None, []
    return current, parse(raw, path)


def write_atomic(path: Path, payload: bytes) -> None:
    """Write atomically (temp file in the same dir, fsync, os.replace), readable by the owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write between the CLI and a running hub (flock on `<path>.lock`)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
