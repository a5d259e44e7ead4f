"""Privacy by design: keyed hashes for plates that match no list, redaction for logs, image retention."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path

__all__ = ["MediaStore", "PlateHasher", "redact"]

_LOGGER = logging.getLogger(__name__)

HASH_LENGTH = 32  # hex characters kept of the HMAC-SHA256 (128 bits)


def redact(plate: str) -> str:
    """A plate for debug logs: first two characters, the rest starred (`12*****`)."""
    return plate[:2] + "*" * max(0, len(plate) - 2)


class PlateHasher:
    """HMAC-SHA256 of a normalised plate under the site's secret key: the same plate gives the same hash
    at every camera (journey times work) but cannot be reversed without the key."""

    def __init__(self, key: str | None) -> None:
        self.ephemeral = key is None
        if key is None:
            key = secrets.token_hex(32)
            _LOGGER.warning("anpr: no hash_key configured; using a random key until restart "
                            "(journey times will not match across restarts)")
        self._key = key.encode("utf-8")

    def __call__(self, plate: str) -> str:
        return hmac.new(self._key, plate.encode("utf-8"), hashlib.sha256).hexdigest()[:HASH_LENGTH]


class MediaStore:
    """Evidence images under the config dir's media folder: `<root>/<hits|reads>/<camera>/<day>/<name>.jpg`.

    Blocking file I/O: call from an executor.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, kind: str, camera: str, name: str, data: bytes, ts: float) -> Path:
        """Write one image; returns its path."""
        day = time.strftime("%Y%m%d", time.gmtime(ts))
        folder = self.root / kind / camera / day
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.jpg"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def purge(self, kind: str, older_than_ts: float) -> int:
        """Delete images of `kind` older than a time; returns how many went."""
        base = self.root / kind
        if not base.is_dir():
            return 0
        removed = 0
        for path in base.rglob("*.jpg"):
            try:
                if path.stat().st_mtime < older_than_ts:
                    path.unlink()
                    path.with_suffix(".json").unlink(missing_ok=True)  # a training sample's label
                    removed += 1
            except FileNotFoundError:
                continue
        for folder in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                folder.rmdir()  # only empty ones go
            except OSError:
                pass
        return removed
