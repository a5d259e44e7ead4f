"""Frames for analytics from a camera's stream: decode only the stream and rate an analytic needs.

Worker side (blocking; runs in a worker process of hub.helpers.workers, never on the event loop):

- `StreamDecoder` is one ffmpeg process that decodes one stream (a camera's sub stream by default), keeps
  `fps` frames a second (ffmpeg's fps filter), scales them to `width`, and hands them over as PPM pictures on a
  pipe (each carries its own size). `read()` gives the next BGR frame or None when the stream ended or stalled.
  It is a frame source like the others (`open`/`read`/`close`, `live`, `paced`: the rate is applied already).
- `CameraFrames` keeps one decoder running in a thread: each frame goes into a bounded queue that drops the
  oldest frame when full (never grows), a stall or an exit reconnects after the one `Backoff`, and `stop()`
  ends the thread and kills ffmpeg. Several `CameraFrames` may share one queue (one worker, many cameras).

The hub side (which stream of which `camera.*` entity, with credentials) is `integrations.camera.analytics`.
The URL carries credentials: it is never logged (errors go through `redact_userinfo`).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Final

import numpy as np

from hub.helpers.backoff import Backoff
from hub.helpers.workers import DropOldestQueue

from .process import redact_userinfo
from .stream import FFMPEG, input_args

__all__ = ["CameraFrames", "Frame", "FrameRequest", "FrameSourceError", "StreamDecoder", "decoder_command"]

_LOGGER = logging.getLogger(__name__)
_HEADER_LIMIT: Final = 64  # bytes of a PPM header line at most
_STDERR_LINES: Final = 20


class FrameSourceError(OSError):
    """A stream cannot be opened or stopped delivering (the message never holds credentials)."""


@dataclass(frozen=True, slots=True)
class FrameRequest:
    """What an analytic wants from one camera (picklable: it travels to the worker process).

    `url` carries credentials: never log it; `repr` leaves it out."""

    camera: str  # the camera's id (camera.<id>)
    url: str
    fps: float = 2.0
    width: int | None = 640  # scaled to this width (the height keeps the aspect); None: as sent
    stream: str = "sub"
    area: str | None = None
    stall_after: float = 10.0  # seconds without a frame before reconnecting
    retry_initial: float = 1.0
    retry_maximum: float = 30.0

    def __repr__(self) -> str:
        return f"FrameRequest(camera={self.camera!r}, stream={self.stream!r}, fps={self.fps:g}, width={self.width})"


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: BGR pixels, the wall-clock time it was decoded, its camera and area."""

    camera: str
    image: np.ndarray
    ts: float
    area: str | None = None


def decoder_command(url: str, fps: float, width: int | None, timeout_s: float) -> list[str]:
    """ffmpeg decoding `fps` frames a second of the stream's video, scaled to `width`, as PPM on stdout."""
    filters = [f"fps={fps:g}"]
    if width:
        filters.append(f"scale={int(width)}:-2")
    return [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-flags", "low_delay",
            *input_args(url, timeout_s), "-map", "0:v:0", "-an", "-vf", ",".join(filters),
            "-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "pipe:1"]


def _read_token(stream: IO[bytes]) -> bytes:
    """One whitespace-separated token of a PPM header."""
    token = bytearray()
    while len(token) < _HEADER_LIMIT:
        char = stream.read(1)
        if not char:
            raise EOFError
        if char.isspace():
            if token:
                return bytes(token)
            continue
        token += char
    raise ValueError("PPM header too long")


def read_ppm(stream: IO[bytes]) -> np.ndarray | None:
    """The next binary PPM (P6, 8-bit) picture from a pipe as BGR pixels; None at the end of the stream."""
    try:
        magic = _read_token(stream)
        if magic != b"P6":
            raise ValueError(f"not a PPM picture ({magic[:8]!r})")
        width, height, maximum = int(_read_token(stream)), int(_read_token(stream)), int(_read_token(stream))
    except EOFError:
        return None
    if maximum != 255 or not 0 < width <= 16384 or not 0 < height <= 16384:
        raise ValueError(f"unexpected PPM picture {width}x{height}, max {maximum}")
    size = width * height * 3
    data = stream.read(size)
    if len(data) < size:
        return None
    rgb = np.frombuffer(data, np.uint8).reshape(height, width, 3)
    return np.ascontiguousarray(rgb[:, :, ::-1])


class StreamDecoder:
    """One ffmpeg decoding one stream at the analytic's rate and size (a live, paced frame source)."""

    live = True
    paced = True  # frames come at the requested rate already: the caller need not sample them

    def __init__(self, url: str, fps: float, width: int | None = None, timeout_s: float = 10.0) -> None:
        self._url = url
        self.fps = fps
        self.width = width
        self.timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self.frames = 0

    def __repr__(self) -> str:
        return f"StreamDecoder({redact_userinfo(self._url)!r}, fps={self.fps:g}, width={self.width})"

    @property
    def ended(self) -> bool:
        """Whether ffmpeg is not running (never opened, closed, or the stream ended): reconnect."""
        return self._process is None

    @property
    def last_error(self) -> str:
        """ffmpeg's last error line (credentials removed), or ''."""
        return redact_userinfo(self._errors[-1]) if self._errors else ""

    def open(self) -> None:
        """Start ffmpeg; FrameSourceError when it cannot run."""
        self.close()
        command = decoder_command(self._url, self.fps, self.width, self.timeout_s)
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, bufsize=1 << 16, start_new_session=True)
        except OSError as err:
            raise FrameSourceError(f"cannot start ffmpeg: {err.strerror or err}") from None
        self._process = process
        threading.Thread(target=self._drain_stderr, args=(process,), name="frames-stderr", daemon=True).start()

    def _drain_stderr(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        with contextlib.suppress(OSError, ValueError):
            for line in process.stderr:
                text = line.decode("utf-8", "replace").strip()
                if text:
                    self._errors.append(text)

    def read(self) -> np.ndarray | None:
        """The next frame (BGR), or None when ffmpeg ended (the stream closed, stalled past its timeout,
        or could not be opened): the caller reconnects."""
        process = self._process
        if process is None or process.stdout is None:
            return None
        try:
            frame = read_ppm(process.stdout)
        except (OSError, ValueError) as err:
            self._errors.append(f"bad picture from ffmpeg: {err}")
            frame = None
        if frame is None:
            self.close()
            return None
        self.frames += 1
        return frame

    def close(self) -> None:
        """Stop ffmpeg (SIGKILL: it holds nothing worth finishing) and reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.wait(5)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class CameraFrames:
    """A thread that keeps one camera's decoder running and feeds a bounded, oldest-dropping queue.

    `on_state(camera, available, error)` (from the thread) reports availability changes."""

    def __init__(self, request: FrameRequest, frames: DropOldestQueue[Frame], stop: Any | None = None,
                 on_state: Any = None) -> None:
        self.request = request
        self.frames = frames
        self._stop = stop if stop is not None else threading.Event()
        self._own_stop = threading.Event()
        self._on_state = on_state
        self._thread: threading.Thread | None = None
        self._decoder: StreamDecoder | None = None
        self.available: bool | None = None
        self.error = ""
        self.decoded = 0
        self.reconnects = 0

    def start(self) -> None:
        """Start the decoding thread."""
        self._thread = threading.Thread(target=self._run, name=f"frames-{self.request.camera}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop decoding: ffmpeg is killed and the thread ends."""
        self._own_stop.set()
        decoder = self._decoder
        if decoder is not None:
            decoder.close()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        """Whether the worker or the owner asked to stop."""
        return self._own_stop.is_set() or bool(self._stop.is_set())

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            self._own_stop.wait(min(0.2, max(0.0, deadline - time.monotonic())))

    def _state(self, available: bool, error: str = "") -> None:
        changed = available != self.available
        self.available, self.error = available, error
        if changed and self._on_state is not None:
            self._on_state(self.request.camera, available, error)

    def _run(self) -> None:
        request = self.request
        backoff = Backoff(request.retry_initial, max(request.retry_initial, request.retry_maximum))
        while not self.stopping:
            decoder = StreamDecoder(request.url, request.fps, request.width, request.stall_after)
            self._decoder = decoder
            try:
                decoder.open()
            except FrameSourceError as err:
                self._state(False, str(err))
                self._wait(backoff.delay())
                continue
            while not self.stopping:
                image = decoder.read()
                if image is None:
                    break
                backoff.reset()
                if self.available is not True:
                    self._state(True)
                self.decoded += 1
                self.frames.put(Frame(request.camera, image, time.time(), request.area))
            decoder.close()
            if self.stopping:
                break
            self.reconnects += 1
            self._state(False, decoder.last_error or "the stream ended")
            _LOGGER.debug("frames %s: %s; reconnecting", request.camera, self.error)
            self._wait(backoff.delay())
        self._decoder = None
