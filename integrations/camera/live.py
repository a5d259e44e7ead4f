"""Live video without transcoding: one ffmpeg per viewed camera stream copies it into fragmented MP4 on
its stdout (a fragment at every keyframe and every 100 ms, so a frame leaves the hub without waiting
for the end of its GOP); the hub splits that into the init segment and fragments and fans them out to
every viewer of the stream (docs/video.md, "Live view").

- The first viewer of `(camera, stream)` starts the process; the last one to leave stops it.
- A viewer joining a running stream gets the init segment and the fragments since the last keyframe at
  once (a picture without waiting for the next keyframe), then every new fragment.
- Each viewer has a bounded queue: when it is full (a slow network, a stalled tab), the queued
  fragments are dropped and the viewer goes on from the next fragment that starts with a keyframe;
  a viewer dropped `max_drops` times is closed (it cannot keep up).
- The process ending (camera gone, RTSP error) closes the stream's viewers with the reason; the player
  reconnects. Children die with the hub (PR_SET_PDEATHSIG), as the recorders do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from hub.core import CALLBACK_TYPE, Hub, HubKey, callback

from .fmp4 import Fmp4Error, Fmp4Splitter, Piece, codec_string
from .process import _die_with_parent, async_end_process, redact_userinfo
from .stream import FFMPEG, input_args

__all__ = ["DATA_LIVE", "LIVE_OUTPUT", "LiveClosed", "LiveStream", "LiveStreams", "LiveViewer", "copy_input_args",
           "live_command"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_QUEUE: Final = 64  # fragments (100 ms or a keyframe interval each) a viewer may lag behind
FRAGMENT_US: Final = 100_000  # fragment duration (microseconds) besides the cut at every keyframe
DEFAULT_MAX_DROPS: Final = 5  # drops to the newest keyframe before a viewer is closed as too slow
_READ: Final = 1 << 16
_STOP_TIMEOUT: Final = 3.0


def copy_input_args(url: str, timeout_s: float = 5.0) -> list[str]:
    """Input options of a live copy: no probing beyond the stream's parameter sets (RTSP's SDP carries them),
    which saves about a second of start-up (bench.video)."""
    return ["-probesize", "32", "-analyzeduration", "0", *input_args(url, timeout_s)]


LIVE_OUTPUT: Final = ("-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof",
                      "-frag_duration", str(FRAGMENT_US), "pipe:1")
"""ffmpeg's output options of a live stream: fragmented MP4 on stdout (a copy's, or a blurred stream's)."""


def live_command(url: str, timeout_s: float = 5.0) -> list[str]:
    """ffmpeg copying a camera's video (never decoding) into fragmented MP4 on stdout."""
    return [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", *copy_input_args(url, timeout_s),
            "-map", "0:v:0", "-c", "copy", *LIVE_OUTPUT]


@dataclass(frozen=True, slots=True)
class LiveClosed:
    """Put in a viewer's queue when the server ends its stream: why, and the websocket close code."""

    code: int
    reason: str


CLOSE_STREAM_ENDED: Final = 4502  # the camera's stream ended; the player reconnects
CLOSE_TOO_SLOW: Final = 4503  # the viewer could not keep up


class LiveViewer:
    """One viewer's bounded queue of fragments (bytes) and, at the end, a LiveClosed."""

    def __init__(self, max_queue: int = DEFAULT_QUEUE, max_drops: int = DEFAULT_MAX_DROPS) -> None:
        self.queue: asyncio.Queue[bytes | LiveClosed] = asyncio.Queue(maxsize=max_queue + 1)
        self.max_queue = max_queue
        self.max_drops = max_drops
        self.drops = 0
        self.closed = False
        self.waiting_keyframe = True  # a viewer starts, and resumes after a drop, at a keyframe

    @callback
    def offer(self, fragment: bytes, keyframe: bool) -> None:
        """Queue a fragment; when the queue is full drop what is queued and go on from the next keyframe;
        close the viewer after too many drops."""
        if self.closed:
            return
        if self.queue.qsize() >= self.max_queue:
            self.drops += 1
            while not self.queue.empty():
                self.queue.get_nowait()
            if self.drops > self.max_drops:
                self.close(LiveClosed(CLOSE_TOO_SLOW, "the viewer could not keep up with the stream"))
                return
            self.waiting_keyframe = True
        if self.waiting_keyframe and not keyframe:
            return
        self.waiting_keyframe = False
        self.queue.put_nowait(fragment)

    @callback
    def close(self, closed: LiveClosed) -> None:
        """End this viewer (its sender sends the close after what is queued, or at once when full)."""
        if self.closed:
            return
        self.closed = True
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(closed)


class LiveStream:
    """One camera stream's ffmpeg and its viewers."""

    def __init__(self, hub: Hub, name: str, url: Callable[[], str], on_idle: Callable[[], None],
                 timeout_s: float = 5.0, command: Callable[[str, float], list[str]] = live_command) -> None:
        self.hub = hub
        self._command = command
        self.name = name
        self._url = url
        self._on_idle = on_idle
        self._timeout_s = timeout_s
        self.viewers: set[LiveViewer] = set()
        self.init: bytes | None = None
        self.codec: str | None = None
        self.gop: list[bytes] = []  # the fragments since the last keyframe (the first starts with it)
        self.ready = asyncio.Event()
        self.fragments = 0
        self.last_error = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the process runs (or starts)."""
        return self._task is not None and not self._task.done()

    @callback
    def add(self, viewer: LiveViewer) -> CALLBACK_TYPE:
        """Add a viewer (starting the process for the first); returns its remover."""
        self.viewers.add(viewer)
        for index, fragment in enumerate(self.gop):
            viewer.offer(fragment, index == 0)
        if not self.running:
            self._task = self.hub.async_create_background_task(self._async_run(), f"camera live {self.name}")

        @callback
        def remove() -> None:
            if viewer not in self.viewers:
                return
            self.viewers.discard(viewer)
            if not self.viewers:
                self._on_idle()
                self.hub.async_create_background_task(self.async_stop(), f"camera live {self.name} stop")

        return remove

    async def async_stop(self) -> None:
        """Stop the process and close any viewer left."""
        task, self._task = self._task, None
        await async_end_process(self._proc, task, _STOP_TIMEOUT)
        self._close_all(LiveClosed(CLOSE_STREAM_ENDED, "the live stream was stopped"))

    @callback
    def _close_all(self, closed: LiveClosed) -> None:
        for viewer in list(self.viewers):
            viewer.close(closed)

    async def _async_run(self) -> None:
        try:
            url = self._url()
            self._proc = proc = await asyncio.create_subprocess_exec(
                *self._command(url, self._timeout_s), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=_die_with_parent,
                start_new_session=True)
        except OSError as err:
            self.last_error = redact_userinfo(str(err))
            _LOGGER.error("camera live %s: cannot start ffmpeg: %s", self.name, self.last_error)
            self._close_all(LiveClosed(CLOSE_STREAM_ENDED, "the live stream could not start"))
            return
        assert proc.stdout is not None and proc.stderr is not None
        errors = self.hub.async_create_background_task(self._async_errors(proc.stderr), f"live {self.name} log")
        splitter = Fmp4Splitter()
        try:
            while chunk := await proc.stdout.read(_READ):
                for piece in splitter.feed(chunk):
                    self._piece(piece)
        except Fmp4Error as err:
            self.last_error = str(err)
            _LOGGER.error("camera live %s: %s", self.name, err)
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
            await proc.wait()
            await errors
            self.init = self.codec = None
            self.gop = []
            self.ready.clear()
            reason = f"the camera's stream ended ({self.last_error or f'ffmpeg exit {proc.returncode}'})"
            self._close_all(LiveClosed(CLOSE_STREAM_ENDED, reason[:120]))

    async def _async_errors(self, stderr: asyncio.StreamReader) -> None:
        while line := await stderr.readline():
            text = line.decode(errors="replace").strip()
            if text:
                self.last_error = redact_userinfo(text)[-200:]
                _LOGGER.debug("camera live %s: %s", self.name, self.last_error)

    @callback
    def _piece(self, piece: Piece) -> None:
        if piece.init:
            try:
                self.codec = codec_string(piece.data)
            except Fmp4Error as err:
                raise Fmp4Error(f"init segment: {err}") from None
            self.init = piece.data
            self.ready.set()
            return
        self.fragments += 1
        if piece.keyframe:
            self.gop = [piece.data]
        elif self.gop:
            self.gop.append(piece.data)
        for viewer in list(self.viewers):
            viewer.offer(piece.data, piece.keyframe)


class LiveStreams:
    """Every live stream now being watched, by (camera id, stream)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.streams: dict[tuple[str, str], LiveStream] = {}

    @callback
    def watch(self, camera_id: str, stream: str, url: Callable[[], str], viewer: LiveViewer,
              timeout_s: float = 5.0, command: Callable[[str, float], list[str]] = live_command,
              ) -> tuple[LiveStream, CALLBACK_TYPE]:
        """Add `viewer` to the stream (started for its first viewer with `command`); returns it and the
        viewer's remover. A blurred stream has its own key (privacy.BLURRED), so it never shares a raw one."""
        key = (camera_id, stream)
        live = self.streams.get(key)
        if live is None:
            live = self.streams[key] = LiveStream(self.hub, f"{camera_id}/{stream}", url,
                                                  lambda: self._idle(key), timeout_s, command)
        return live, live.add(viewer)

    @callback
    def _idle(self, key: tuple[str, str]) -> None:
        live = self.streams.get(key)
        if live is not None and not live.viewers:
            del self.streams[key]

    async def async_stop(self) -> None:
        """Stop every stream (the hub stops, or the integration unloads)."""
        streams, self.streams = list(self.streams.values()), {}
        await asyncio.gather(*(live.async_stop() for live in streams))


DATA_LIVE: Final[HubKey[LiveStreams]] = HubKey("camera_live")
