"""The evidence files of the face integration: reference images, match crops (blocking: run in the executor)."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

__all__ = ["read_b64", "write_crop", "write_file"]


def write_file(path: Path, data: bytes) -> None:
    """Write a file, making its folder private to the hub's user."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(data)


def write_crop(path: Path, image: np.ndarray, box: list[int]) -> None:
    """Write the JPEG crop of an RGB frame around a face box (x, y, w, h), with half a face of margin."""
    import cv2

    x, y, w, h = box
    pad = max(w, h) // 2
    crop = image[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    if ok:
        write_file(path, encoded.tobytes())


def read_b64(path: str) -> str | None:
    """A file's bytes as base64 text, or None when it cannot be read."""
    try:
        return base64.b64encode(Path(path).read_bytes()).decode()
    except OSError:
        return None
