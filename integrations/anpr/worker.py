"""Per-camera workers: capture at a frame-rate limit into a bounded queue that drops the oldest frame,
read plates, report.

The pipeline runs in a worker process (or a thread, for tests and tiny sites), never on the event loop,
through the hub's worker harness (`hub.helpers.workers.ProcessWorker`): `CameraWorker` starts it, its
messages reach the loop, a dead worker is restarted with backoff, and none outlives the hub.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hub.helpers.backoff import Backoff
from hub.helpers.workers import MSG_EXITED, DropOldestQueue, ProcessWorker, WorkerIO

from .const import MAX_RETRY_INTERVAL, STATS_INTERVAL, WORKER_PROCESS

__all__ = ["CameraWorker", "FrameQueue", "WorkerSpec", "run_worker"]

_LOGGER = logging.getLogger(__name__)

JPEG_QUALITY = 85
_POLL = 0.2  # seconds between checks of the stop flag while waiting


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Everything a worker needs (picklable): the camera's source and limits, and the reader's settings."""

    camera: str
    source: str
    source_type: str
    fps: float
    roi: tuple[int, int, int, int] | None
    queue_size: int
    unavailable_after: float
    retry_interval: float
    loop: bool = True
    detectors: tuple[str, ...] = ("morph",)
    reader: dict[str, Any] = field(default_factory=dict)
    width: int | None = None  # a camera entity's stream is scaled to this width


def _backoff(spec: WorkerSpec) -> Backoff:
    """Reconnecting to the camera and restarting its worker: from retry_interval, doubling up to a minute."""
    return Backoff(spec.retry_interval, max(spec.retry_interval, MAX_RETRY_INTERVAL))


# A bounded frame queue that drops the oldest frame when full (fresh frames matter more), counting.
FrameQueue = DropOldestQueue[tuple[np.ndarray, float]]


class _Pipeline:
    """Capture thread + processing loop of one camera, inside the worker."""

    def __init__(self, spec: WorkerSpec, emit: Callable[[dict[str, Any]], None], stop: Any) -> None:
        from .source import open_source

        self.spec = spec
        self.emit = emit
        self.stop = stop
        self.source = open_source(spec.source_type, spec.source, loop=spec.loop, fps=spec.fps, width=spec.width,
                                  timeout=spec.unavailable_after)
        self.frames = FrameQueue(spec.queue_size)
        self.available: bool | None = None
        self.captured = 0
        self.processed = 0
        self.error: str | None = None
        self._lock = threading.Lock()

    # ---- capture

    def _set_available(self, available: bool, error: str | None = None) -> None:
        with self._lock:
            changed = available != self.available
            self.available = available
            self.error = error
        if changed:
            self._emit_stats()

    def capture(self) -> None:
        from .source import SourceError

        period = 1.0 / self.spec.fps
        paced = bool(getattr(self.source, "paced", False))  # the source delivers at the rate already
        backoff = _backoff(self.spec)
        opened = False
        last_frame = time.monotonic()
        next_due = time.monotonic()
        while not self.stop.is_set():
            if not opened:
                try:
                    self.source.open()
                except (SourceError, OSError) as err:  # a camera stream's decoder raises an OSError
                    self._set_available(False, str(err))
                    self.stop.wait(backoff.delay())
                    continue
                opened = True
                last_frame = time.monotonic()
            if not self.source.live:
                self.stop.wait(max(0.0, next_due - time.monotonic()))
            frame = self.source.read()
            now = time.monotonic()
            if frame is None:
                ended = bool(getattr(self.source, "ended", False))  # a decoder whose stream closed
                if ended or now - last_frame > self.spec.unavailable_after:
                    self._set_available(False, getattr(self.source, "last_error", "") or "no frames")
                    self.source.close()
                    opened = False
                    self.stop.wait(backoff.delay())
                else:
                    self.stop.wait(min(period, 0.1))
                continue
            last_frame = now
            backoff.reset()
            if self.available is not True:
                self._set_available(True)
            if now < next_due and not paced:  # live source faster than the limit: this frame is not sampled
                continue
            next_due = max(next_due + period, now)
            self.captured += 1
            self.frames.put((frame, time.time()))
        self.source.close()

    # ---- processing

    def _emit_stats(self) -> None:
        self.emit({"type": "stats", "camera": self.spec.camera, "available": bool(self.available),
                   "error": self.error, "frames": self.captured, "processed": self.processed,
                   "dropped": self.frames.dropped, "queue": self.frames.qsize(), "ts": time.time()})

    def process(self, reader: Any, io: WorkerIO, shadow: Any = None) -> None:
        import cv2

        last_stats = 0.0
        while not self.stop.is_set():
            self._control(io)
            item = self.frames.get(_POLL)
            now = time.monotonic()
            if now - last_stats >= STATS_INTERVAL:
                last_stats = now
                self._emit_stats()
            if item is None:
                continue
            frame, captured = item
            observations = reader.read(frame, self.spec.roi)
            self.processed += 1
            if not observations:
                continue
            plates = []
            for obs in observations:
                ok, crop = cv2.imencode(".jpg", obs.crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                plate = {**obs.as_dict(), "crop_jpeg": crop.tobytes() if ok else None}
                if shadow is not None:  # the candidate reads the same crop; only compared, never matched
                    match, recognition = shadow.read_plate(obs.crop)
                    plate["shadow"] = {"text": match.text if match else "", "confidence": recognition.confidence,
                                       "char_confidences": list(recognition.confidences)}
                plates.append(plate)
            ok, full = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            self.emit({"type": "frame", "camera": self.spec.camera, "ts": captured, "done": time.time(),
                       "size": [int(frame.shape[1]), int(frame.shape[0])], "observations": plates,
                       "frame_jpeg": full.tobytes() if ok else None})

    def _control(self, io: WorkerIO) -> None:
        for message in io.control_messages():
            if message.get("type") == "plant" and hasattr(self.source, "plant"):
                self.source.plant(message["plate"])


def run_worker(io: WorkerIO, spec: WorkerSpec) -> None:
    """Worker entry point (process or thread): build the reader, capture and process until the hub stops it."""
    from .reader import PlateReader, ReaderError

    options = dict(spec.reader)
    shadow_model = options.pop("shadow_model", None)
    try:
        reader = PlateReader(detectors=spec.detectors, **options)
    except (ReaderError, ImportError) as err:
        io.emit({"type": "fatal", "camera": spec.camera, "error": str(err)})
        return
    shadow = None
    if shadow_model:
        try:  # a candidate that will not load costs the shadow run only, never the camera
            shadow = PlateReader(detectors=(), **{**options, "rec_model": shadow_model})
        except ReaderError as err:
            _LOGGER.warning("anpr: camera %s cannot shadow-read with %s: %s", spec.camera, shadow_model, err)
    pipeline = _Pipeline(spec, io.emit, io.stop)
    capture = threading.Thread(target=pipeline.capture, name=f"anpr-capture-{spec.camera}", daemon=True)
    capture.start()
    try:
        pipeline.process(reader, io, shadow)
    finally:
        io.stop.set()
        capture.join(timeout=5)


class CameraWorker:
    """Hub-side handle of one camera's worker: start, stop, send control messages; what it reports goes
    to `on_message` on the event loop; the harness restarts it when it dies."""

    def __init__(self, loop: Any, spec: WorkerSpec, on_message: Callable[[dict[str, Any]], None],
                 mode: str = WORKER_PROCESS) -> None:
        self.spec = spec
        self.on_message = on_message
        self.mode = mode
        self._worker = ProcessWorker(
            f"{__name__}:run_worker", (spec,), name=f"anpr-{spec.camera}", on_message=self._relay, loop=loop,
            mode=mode, backoff=_backoff(spec))

    @property
    def restarts(self) -> int:
        """How often the worker was restarted after it died."""
        return self._worker.counters.restarts

    def start(self) -> None:
        """Start the worker (blocking for a moment: call it in an executor)."""
        self._worker.start()

    def send(self, message: dict[str, Any]) -> None:
        """A control message for the worker (a planted plate for a simulated camera)."""
        self._worker.send(message)

    def _relay(self, message: dict[str, Any]) -> None:  # on the loop
        if message.get("type") == MSG_EXITED:
            message = {"type": "stats", "camera": self.spec.camera, "available": False,
                       "error": f"worker exited ({message.get('exitcode')})", "ts": time.time()}
        self.on_message(message)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker (blocking: call it in an executor)."""
        self._worker.stop(timeout)
