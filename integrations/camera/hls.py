"""Live HLS, the fallback of the websocket live view (docs/video.md, "Live view"): no transcoding, one ffmpeg per
watched `(camera, stream)` copying it (`-c copy`) into fragmented-MP4 HLS (an init segment and one-second
`.m4s` segments cut at keyframes, six in the playlist, with EXT-X-PROGRAM-DATE-TIME) in a temporary folder.

- The first request for a stream's playlist starts its process and waits until the playlist names a segment;
  every later viewer shares it.
- Every request (playlist or segment) marks the stream used; a stream not asked for `idle_after` seconds is
  stopped and its folder removed (players poll the playlist about once a second, so a closed tab stops it).
- Each viewer (user and client address) of a stream is audited like the websocket's: `camera.view` when it
  starts, `camera.view_end` with its seconds when it has asked nothing for `idle_after` seconds.
- Children die with the hub (PR_SET_PDEATHSIG) and are stopped at `hub_stop` and unload.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from hub.audit import audit_record
from hub.core import CALLBACK_TYPE, Context, Hub, HubKey, callback
from hub.helpers.event import async_track_time_interval

from .fmp4 import Fmp4Error, codec_string
from .live import copy_input_args
from .process import _die_with_parent, async_end_process, redact_userinfo
from .stream import FFMPEG

__all__ = ["DATA_HLS", "PLAYLIST", "SEGMENT_NAME", "HlsStream", "HlsStreams", "hls_command", "hls_output"]

_LOGGER = logging.getLogger(__name__)

PLAYLIST: Final = "index.m3u8"
INIT: Final = "init.mp4"
SEGMENT_NAME: Final = re.compile(r"^(init\.mp4|seg\d{6}\.m4s)$")
SEGMENT_SECONDS: Final = 1.0  # ffmpeg cuts at the first keyframe after this (the simulator's GOP is 1 s)
LIST_SIZE: Final = 6
DEFAULT_IDLE_AFTER: Final = 15.0
_STOP_TIMEOUT: Final = 3.0


def hls_command(url: str, folder: Path, timeout_s: float = 5.0) -> list[str]:
    """ffmpeg copying a camera's video (never decoding) into fragmented-MP4 HLS under `folder`."""
    return [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", *copy_input_args(url, timeout_s),
            "-map", "0:v:0", "-c", "copy", *hls_output(folder)]


def hls_output(folder: Path) -> list[str]:
    """ffmpeg's output options of a live HLS stream under `folder` (a copy's, or a blurred stream's)."""
    return ["-f", "hls", "-hls_time", f"{SEGMENT_SECONDS:g}",
            "-hls_list_size", str(LIST_SIZE),
            "-hls_flags", "delete_segments+independent_segments+program_date_time+temp_file",
            "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", INIT,
            "-hls_segment_filename", str(folder / "seg%06d.m4s"), str(folder / PLAYLIST)]


class HlsStream:
    """One camera stream's HLS ffmpeg and its folder."""

    def __init__(self, hub: Hub, name: str, url: Callable[[], str], timeout_s: float = 5.0,
                 command: Callable[[str, Path, float], list[str]] = hls_command) -> None:
        self.hub = hub
        self._command = command
        self.name = name
        self._url = url
        self._timeout_s = timeout_s
        self.folder = Path(tempfile.mkdtemp(prefix="hacho-hls-"))
        self.last_used = time.monotonic()
        self.started = time.monotonic()
        self.last_error = ""
        self._checked = False  # the init segment's codec was found playable (H.264)
        self.refused = ""  # why browsers cannot play this stream (not H.264), once found
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the process runs (or starts)."""
        return self._task is not None and not self._task.done()

    @property
    def ended(self) -> bool:
        """Whether the process ran and ended (the camera's stream stopped, or ffmpeg failed)."""
        return self._task is not None and self._task.done()

    @callback
    def start(self) -> None:
        """Start the process (once)."""
        if self._task is None:
            self._task = self.hub.async_create_background_task(self._async_run(), f"camera hls {self.name}")

    def _has_segment(self) -> bool:
        try:
            return "#EXTINF" in (self.folder / PLAYLIST).read_text()
        except OSError:
            return False

    def _codec_error(self) -> str:
        """Why browsers cannot play the init segment ("" when it is H.264): a copy is never transcoded, so an
        MJPEG camera is refused here, with the reason, instead of serving a playlist no player can play."""
        try:
            codec_string((self.folder / INIT).read_bytes())
        except (OSError, Fmp4Error) as err:
            return f"init segment: {err}"
        return ""

    async def async_wait_ready(self, timeout: float) -> bool:
        """Wait until the playlist names a segment; False when the process ended or time ran out first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self.last_used = time.monotonic()  # a viewer is waiting: not idle
            if self.refused:
                self.last_error = self.refused
                return False
            if await self.hub.async_add_executor_job(self._has_segment):
                if self._checked:
                    return True
                self.refused = await self.hub.async_add_executor_job(self._codec_error)
                if not self.refused:
                    self._checked = True
                    return True
                self.last_error = self.refused
                if self._proc is not None and self._proc.returncode is None:
                    self._proc.kill()  # its stream ends; the idle reaper removes it and its folder
                return False
            if self.ended:
                return False
            await asyncio.sleep(0.05)
        return False

    async def _async_run(self) -> None:
        try:
            self._proc = proc = await asyncio.create_subprocess_exec(
                *self._command(self._url(), self.folder, self._timeout_s), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, preexec_fn=_die_with_parent,
                start_new_session=True)
        except OSError as err:
            self.last_error = redact_userinfo(str(err))
            _LOGGER.error("camera hls %s: cannot start ffmpeg: %s", self.name, self.last_error)
            return
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            text = line.decode(errors="replace").strip()
            if text:
                self.last_error = redact_userinfo(text)[-200:]
                _LOGGER.debug("camera hls %s: %s", self.name, self.last_error)
        code = await proc.wait()
        self.last_error = self.refused or self.last_error or f"ffmpeg exit {code}"

    async def async_stop(self) -> None:
        """Stop the process and remove the folder."""
        await async_end_process(self._proc, self._task, _STOP_TIMEOUT)
        await self.hub.async_add_executor_job(shutil.rmtree, self.folder, True)


@dataclass(slots=True)
class _Viewing:
    context: Context
    camera: str
    entity_id: str
    stream: str
    started: float  # wall time
    last_seen: float  # monotonic


class HlsStreams:
    """Every HLS stream now being watched, by (camera id, stream), and who watches them."""

    def __init__(self, hub: Hub, idle_after: float = DEFAULT_IDLE_AFTER) -> None:
        self.hub = hub
        self.idle_after = idle_after
        self.streams: dict[tuple[str, str], HlsStream] = {}
        self.viewings: dict[tuple[str | None, str, str, str], _Viewing] = {}
        self._timer: CALLBACK_TYPE | None = None

    @callback
    def get(self, camera_id: str, stream: str, url: Callable[[], str], timeout_s: float = 5.0,
            command: Callable[[str, Path, float], list[str]] = hls_command) -> HlsStream:
        """The stream (started with `command` for its first request; a stream whose process ended is started
        afresh). A blurred stream has its own key (privacy.BLURRED), so it never shares a raw one."""
        key = (camera_id, stream)
        hls = self.streams.get(key)
        if hls is not None and hls.ended:
            self.hub.async_create_background_task(hls.async_stop(), f"camera hls {hls.name} cleanup")
            hls = None
        if hls is None:
            hls = self.streams[key] = HlsStream(self.hub, f"{camera_id}/{stream}", url, timeout_s, command)
            hls.start()
        if self._timer is None:
            self._timer = async_track_time_interval(self.hub, self._async_reap, min(2.0, self.idle_after / 2))
        hls.last_used = time.monotonic()
        return hls

    @callback
    def seen(self, context: Context, client: str, camera_id: str, entity_id: str, stream: str) -> None:
        """A viewer asked for the stream: audit the start of its viewing, or keep it going."""
        key = (context.user_id, client, camera_id, stream)
        viewing = self.viewings.get(key)
        now = time.monotonic()
        if viewing is None:
            viewing = self.viewings[key] = _Viewing(context, camera_id, entity_id, stream, time.time(), now)
            audit_record(self.hub, "camera.view", context=context, target=entity_id,
                         data={"camera": camera_id, "stream": stream, "start": viewing.started,
                               "transport": "hls"})
        viewing.last_seen = now

    def _end(self, viewing: _Viewing) -> None:
        audit_record(self.hub, "camera.view_end", context=viewing.context, target=viewing.entity_id,
                     data={"camera": viewing.camera, "stream": viewing.stream, "start": viewing.started,
                           "seconds": round(time.time() - viewing.started, 1), "transport": "hls"})

    @callback
    def _async_reap(self, _now: datetime) -> None:
        limit = time.monotonic() - self.idle_after
        for viewer, viewing in list(self.viewings.items()):
            if viewing.last_seen < limit:
                del self.viewings[viewer]
                self._end(viewing)
        for key, hls in list(self.streams.items()):
            if hls.last_used < limit:
                del self.streams[key]
                self.hub.async_create_background_task(hls.async_stop(), f"camera hls {hls.name} stop")
        if not self.streams and not self.viewings and self._timer is not None:
            self._timer()
            self._timer = None

    async def async_stop(self) -> None:
        """Stop every stream and end every viewing (the hub stops, or the integration unloads)."""
        if self._timer is not None:
            self._timer()
            self._timer = None
        for viewing in self.viewings.values():
            self._end(viewing)
        self.viewings.clear()
        streams, self.streams = list(self.streams.values()), {}
        await asyncio.gather(*(hls.async_stop() for hls in streams))


DATA_HLS: Final[HubKey[HlsStreams]] = HubKey("camera_hls")
