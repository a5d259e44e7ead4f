"""One camera's stream: a supervised ffmpeg copying packets into segments, liveness, gaps, event windows.

`CameraStream` owns the camera's ffmpeg (`process.SupervisedProcess`). It never decodes: ffmpeg
copies packets into fragmented-MP4 segments (or to the null muxer when recording is off) and
reports `frame=N` twice a second, which is the camera's liveness. A finished segment's CSV line
on stdout is queued with the manager for checking, hashing, moving and indexing (in batches: executor
and recorder thread; nothing blocks the loop). When ffmpeg exits while the hub runs, a gap is opened
in the index and `camera_recording_gap` fired; the next indexed segment closes it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.core import callback
from hub.helpers.backoff import Backoff

from .config import CameraConfig, redact_url
from .const import (
    EVENT_CAMERA_OFFLINE,
    EVENT_CAMERA_ONLINE,
    EVENT_RECORDING_GAP,
    MODE_EVENT,
    MODE_OFF,
)
from .index import SegmentInfo
from .process import SupervisedProcess
from .stream import recorder_command

if TYPE_CHECKING:
    from .manager import CameraManager

__all__ = ["CameraStream", "IncomingSegment"]

_LOGGER = logging.getLogger(__name__)
INCOMING = "incoming"


class IncomingSegment:
    """A segment ffmpeg finished, with its wall-clock times."""

    __slots__ = ("camera", "end_ts", "path", "run", "start_ts")

    def __init__(self, camera: str, path: Path, start_ts: float, end_ts: float, run: int) -> None:
        self.camera = camera
        self.run = run
        self.path = path
        self.start_ts = start_ts
        self.end_ts = end_ts


class CameraStream:
    """A camera's recorder process and what it tells about the camera."""

    def __init__(self, manager: CameraManager, config: CameraConfig) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.config = config
        self.available = False
        self.frames = 0
        self.segments = 0
        self.corrupt = 0
        self.gaps = 0
        self.last_packet_ts: float | None = None
        self.last_segment_end: float | None = None  # of the last indexed segment
        self._last_listed_end: float | None = None  # of the last segment ffmpeg finished (maybe not indexed yet)
        self._gap_after_run: int | None = None  # an open gap, opened when this run ended
        self.windows: list[tuple[float, float]] = []  # event mode: keep segments overlapping these
        self.undecided: deque[SegmentInfo] = deque()  # event mode: indexed, not yet kept or dropped
        self.on_change: Callable[[], None] | None = None
        self._offline_fired = False
        self._run_started = 0.0
        self._started = 0.0  # when the camera was started (silence counts from here before any packet)
        self._run_id = ""
        self._anchor: float | None = None
        self._last_frame = -1
        conf = manager.config
        self.process = SupervisedProcess(
            self.hub, f"camera {config.id} recorder", self._command, on_stdout=self._on_segment_line,
            on_stderr=self._on_progress_line, on_start=self._on_start, on_exit=self._on_exit,
            backoff=Backoff(initial=conf["restart_initial"], maximum=max(conf["restart_maximum"],
                                                                         conf["restart_initial"])))

    @property
    def recording(self) -> bool:
        """Whether this camera's segments are written (continuous or event mode)."""
        return self.config.mode != MODE_OFF

    @property
    def incoming(self) -> Path:
        """Where ffmpeg writes segments before they are checked and indexed."""
        return self.manager.storage / self.config.id / INCOMING

    def start(self) -> None:
        """Start the recorder process (the incoming folder exists already)."""
        self._started = self._run_started = self.hub.clock.time()
        self.process.start()

    async def async_stop(self) -> None:
        """Stop the process (ffmpeg finishes and lists its last segment)."""
        await self.process.async_stop()

    def _command(self) -> list[str]:
        self._run_id = f"{int(self.hub.clock.time() * 1000)}"
        pattern = self.incoming / f"{self._run_id}-%06d.mp4" if self.recording else None
        url = self.config.url(self.config.record_stream, self.manager.resolve_sim)
        return recorder_command(url, pattern, self.manager.config["segment_seconds"],
                                timeout_s=self.config.unavailable_after)

    @callback
    def _on_start(self) -> None:
        self._anchor = None
        self._last_frame = -1
        self._run_started = self.hub.clock.time()
        _LOGGER.debug("camera %s: recorder started on %s", self.config.id,
                      redact_url(self.config.main if self.config.record_stream == "main"
                                 else self.config.sub or self.config.main))

    @callback
    def _on_progress_line(self, line: str) -> None:
        if not line.startswith("frame="):
            return
        try:
            frame = int(line[6:])
        except ValueError:
            return
        if frame > self._last_frame:
            self._last_frame = frame
            if frame > 0:
                self._packet(frame)

    @callback
    def _packet(self, frame: int) -> None:
        self.frames = frame
        self.last_packet_ts = self.hub.clock.time()
        if not self.available:
            self.available = True
            if self._offline_fired:
                self._offline_fired = False
                self.hub.bus.async_fire(EVENT_CAMERA_ONLINE, {"camera": self.config.id,
                                                              "entity_id": self.entity_id})
            self._changed()

    @callback
    def _on_segment_line(self, line: str) -> None:
        name, _, times = line.partition(",")
        start_text, _, end_text = times.partition(",")
        try:
            start, end = float(start_text), float(end_text)
        except ValueError:
            return
        now = self.hub.clock.time()
        if self._anchor is None:
            self._anchor = now - end  # the run's first segment ended just now
        segment = IncomingSegment(self.config.id, self.incoming / Path(name).name, self._anchor + start,
                                  self._anchor + end, int(self._run_id))
        self._last_listed_end = segment.end_ts
        self.manager.queue_segment(self, segment)

    @callback
    def _on_exit(self, returncode: int | None, error: str) -> None:
        if self.manager.stopping or not self.recording:
            return
        now = self.hub.clock.time()
        start = self._last_listed_end if self._last_listed_end is not None else self._run_started
        reason = f"recorder exited ({returncode}): {error or 'no message'}"
        self.gaps += 1
        if self._gap_after_run is None:
            self._gap_after_run = int(self._run_id)
        self.hub.async_create_task(self.manager.async_open_gap(self, min(start, now), reason),
                                   f"camera {self.config.id} gap")
        self.hub.bus.async_fire(EVENT_RECORDING_GAP, {"camera": self.config.id, "entity_id": self.entity_id,
                                                      "start": min(start, now), "reason": reason})
        self.manager.check_error(error)

    @callback
    def watchdog(self, now: float) -> None:
        """Called every second: unavailable after `unavailable_after` without a packet (whether or not
        the recorder restarted meanwhile: a restart alone is a gap, not an outage); a run silent for
        twice that is killed (and restarted, with a gap recorded)."""
        last = self.last_packet_ts if self.last_packet_ts is not None else self._started
        silence = now - last
        limit = self.config.unavailable_after
        if silence > limit:
            self._went_silent(f"no packet for {silence:.0f} s")
        if now - max(last, self._run_started) > 2 * limit and self.process.pid is not None:
            _LOGGER.warning("camera %s: no packet for %.0f s, restarting its recorder", self.config.id, silence)
            self._run_started = now
            self.process.kill()

    @callback
    def _went_silent(self, why: str) -> None:
        if self._offline_fired:
            return
        was = self.available
        self.available = False
        self._offline_fired = True
        self.hub.bus.async_fire(EVENT_CAMERA_OFFLINE, {"camera": self.config.id, "entity_id": self.entity_id,
                                                       "reason": why, "area_id": self.config.area})
        if was:
            _LOGGER.warning("camera %s offline: %s", self.config.id, why)
        self._changed()

    @callback
    def closes_gap(self, segment: IncomingSegment) -> bool:
        """Whether this segment ends the open gap: it comes from a run started after the gap opened (the
        last segment of the run that stopped, indexed after the gap opened, does not)."""
        if self._gap_after_run is None or segment.run <= self._gap_after_run:
            return False
        self._gap_after_run = None
        return True

    @callback
    def segment_indexed(self, info: SegmentInfo) -> None:
        """A segment of this camera was indexed: recording works, the backoff starts over."""
        self.process.mark_healthy()
        self.last_segment_end = info.end_ts
        self.segments += 1
        if self.config.mode == MODE_EVENT:
            self.undecided.append(info)
        self._changed()

    @callback
    def add_window(self, start: float, end: float) -> None:
        """Event mode: keep what overlaps [start - pre_roll, end + post_roll]."""
        self.windows.append((start - self.config.pre_roll, end + self.config.post_roll))

    @callback
    def event_drops(self, now: float) -> list[SegmentInfo]:
        """Event mode: undecided segments past their pre-roll that no window keeps (to delete)."""
        drops: list[SegmentInfo] = []
        horizon = now - self.config.pre_roll
        while self.undecided and self.undecided[0].end_ts < horizon:
            info = self.undecided.popleft()
            if not any(start < info.end_ts and end > info.start_ts for start, end in self.windows):
                drops.append(info)
        self.windows = [(start, end) for start, end in self.windows if end > horizon]
        return drops

    @property
    def entity_id(self) -> str:
        """The camera entity's id."""
        return f"camera.{self.config.id}"

    def as_dict(self) -> dict[str, Any]:
        """Counters for the entity's attributes and diagnostics."""
        return {"frames": self.frames, "segments": self.segments, "corrupt_segments": self.corrupt,
                "gaps": self.gaps, "recorder_restarts": max(0, self.process.starts - 1),
                "last_packet": self.last_packet_ts, "last_segment_end": self.last_segment_end}

    @callback
    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
