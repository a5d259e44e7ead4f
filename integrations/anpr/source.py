"""Frame sources: RTSP/HTTP/MJPEG streams and files through OpenCV, HTTP snapshot URLs, simulated cameras."""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from typing import Protocol

import cv2
import numpy as np

from hub.helpers.workers import import_worker_module

from .sim_camera import SimCamera

__all__ = ["FrameSource", "OpenCVSource", "SimSource", "SnapshotSource", "SourceError", "open_source"]

_LOGGER = logging.getLogger(__name__)

SNAPSHOT_TIMEOUT = 5.0


class SourceError(Exception):
    """A source cannot be opened or stopped delivering."""


class FrameSource(Protocol):
    """Where a camera's frames come from. `live` sources deliver at their own pace (read the newest);
    the others produce a frame when asked."""

    live: bool

    def open(self) -> None:
        """Connect; raises SourceError."""

    def read(self) -> np.ndarray | None:
        """The next frame, or None when the source delivered nothing (the caller retries or reconnects)."""

    def close(self) -> None:
        """Release the connection."""


def _redact_url(url: str) -> str:
    """The URL without credentials (for logs)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


class OpenCVSource:
    """A stream (RTSP, HTTP MJPEG...) or a video file through OpenCV's FFmpeg backend."""

    def __init__(self, url: str, *, live: bool = True, loop: bool = True) -> None:
        self.url = url
        self.live = live
        self.loop = loop
        self._cap: cv2.VideoCapture | None = None

    def open(self) -> None:
        cap = cv2.VideoCapture(self.url)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open {_redact_url(self.url)}")
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok and not self.live and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # a file plays in a loop (demo footage)
            ok, frame = self._cap.read()
        return frame if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class SnapshotSource:
    """A camera that serves one JPEG per HTTP GET."""

    live = False

    def __init__(self, url: str, timeout: float = SNAPSHOT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout

    def open(self) -> None:
        if self.read() is None:
            raise SourceError(f"no image from {_redact_url(self.url)}")

    def read(self) -> np.ndarray | None:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                body = response.read()
        except (urllib.error.URLError, OSError, ValueError) as err:
            _LOGGER.debug("Snapshot from %s failed: %s", _redact_url(self.url), err)
            return None
        frame = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        return frame if frame is not None and frame.size else None

    def close(self) -> None:
        return None


class SimSource:
    """A simulated camera (see sim_camera): frames on demand at the wall-clock time since it opened."""

    live = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.camera = SimCamera.from_url(url)
        self._t0: float | None = None
        self.truth: list[tuple[str, tuple[int, int, int, int]]] = []

    def open(self) -> None:
        if self._t0 is None:
            self._t0 = time.monotonic()

    def read(self) -> np.ndarray | None:
        if self._t0 is None:
            return None
        frame, self.truth = self.camera.frame(time.monotonic() - self._t0)
        return frame

    def plant(self, plate: str) -> None:
        """Send a vehicle with this plate past the camera now."""
        self.camera.plant(plate)

    def close(self) -> None:
        return None


def open_source(kind: str, url: str, *, loop: bool = True, fps: float = 5.0, width: int | None = None,
                timeout: float = 10.0) -> FrameSource:
    """The source for a camera's configured type (not yet opened). `camera`: a camera entity's stream, decoded
    by the camera integration's one frame source (integrations.camera.frames) at `fps`, scaled to `width`."""
    if kind == "camera":
        frames = import_worker_module("integrations.camera.frames")
        decoder: FrameSource = frames.StreamDecoder(url, fps, width, timeout)
        return decoder
    if kind == "sim":
        return SimSource(url)
    if kind == "snapshot":
        return SnapshotSource(url)
    if kind == "file":
        return OpenCVSource(url, live=False, loop=loop)
    return OpenCVSource(url, live=True)
