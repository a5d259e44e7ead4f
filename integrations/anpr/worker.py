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

__all__ = ["CameraWorker", "FrameQueue", "SharedView", "SharedWorker", "WorkerSpec", "run_shared_worker", "run_worker",
           "worker_backoff"]

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


def worker_backoff(spec: WorkerSpec) -> Backoff:
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
        backoff = worker_backoff(self.spec)
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
        while not self.stop.is_set():
            self._control(io.control_messages())
            self.step(reader, shadow, _POLL)

    _last_stats = 0.0

    def step(self, reader: Any, shadow: Any, timeout: float) -> bool:
        """Report the counters when due and read the oldest waiting frame (waiting up to `timeout` for one);
        whether there was a frame."""
        import cv2

        item = self.frames.get(timeout)
        now = time.monotonic()
        if now - self._last_stats >= STATS_INTERVAL:
            self._last_stats = now
            self._emit_stats()
        if item is None:
            return False
        frame, captured = item
        observations = reader.read(frame, self.spec.roi)
        self.processed += 1
        if observations:
            plates = []
            for obs in observations:
                ok, crop = cv2.imencode(".jpg", obs.crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                plate = {**obs.as_dict(), "crop_jpeg": crop.tobytes() if ok else None}
                if shadow is not None:  # the candidate reads the same crop; only compared, never matched
                    match, recognition = shadow.read_plate(obs.crop)
                    plate["shadow"] = {"text": match.text if match else "",
                                       "confidence": recognition.confidence,
                                       "char_confidences": list(recognition.confidences)}
                plates.append(plate)
            ok, full = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            self.emit({"type": "frame", "camera": self.spec.camera, "ts": captured, "done": time.time(),
                       "size": [int(frame.shape[1]), int(frame.shape[0])], "observations": plates,
                       "frame_jpeg": full.tobytes() if ok else None})
        return True

    def _control(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if message.get("type") == "plant" and hasattr(self.source, "plant"):
                self.source.plant(message["plate"])


def _readers(spec: WorkerSpec) -> tuple[Any, Any]:
    """The camera's reader and, while a shadow run lasts, the candidate's (None when it will not load)."""
    from .reader import PlateReader, ReaderError

    options = dict(spec.reader)
    shadow_model = options.pop("shadow_model", None)
    reader = PlateReader(detectors=spec.detectors, **options)
    shadow = None
    if shadow_model:
        try:  # a candidate that will not load costs the shadow run only, never the camera
            shadow = PlateReader(detectors=(), **{**options, "rec_model": shadow_model})
        except ReaderError as err:
            _LOGGER.warning("anpr: camera %s cannot shadow-read with %s: %s", spec.camera, shadow_model, err)
    return reader, shadow


def run_worker(io: WorkerIO, spec: WorkerSpec) -> None:
    """Worker entry point (process or thread): build the reader, capture and process until the hub stops it."""
    from .reader import ReaderError

    try:
        reader, shadow = _readers(spec)
    except (ReaderError, ImportError) as err:
        io.emit({"type": "fatal", "camera": spec.camera, "error": str(err)})
        return
    pipeline = _Pipeline(spec, io.emit, io.stop)
    capture = threading.Thread(target=pipeline.capture, name=f"anpr-capture-{spec.camera}", daemon=True)
    capture.start()
    try:
        pipeline.process(reader, io, shadow)
    finally:
        io.stop.set()
        capture.join(timeout=5)


def run_shared_worker(io: WorkerIO, specs: list[WorkerSpec]) -> None:
    """Entry point of one worker for several cameras (`workers: shared`): one capture thread per camera, one
    reader per distinct camera settings (detectors, recogniser), frames read in turn, oldest first per camera. A camera
    joins while it runs with an {"type": "add", "spec": ...} control message."""
    from .reader import ReaderError

    pipelines: dict[str, _Pipeline] = {}
    captures: list[threading.Thread] = []

    def add(spec: WorkerSpec) -> None:
        if spec.camera in pipelines or spec.camera in failed:
            return
        pipeline = pipelines[spec.camera] = _Pipeline(spec, io.emit, io.stop)
        capture = threading.Thread(target=pipeline.capture, name=f"anpr-capture-{spec.camera}", daemon=True)
        capture.start()
        captures.append(capture)

    failed: dict[str, _Pipeline] = {}  # cameras whose reader will not load (reported fatal)
    readers: dict[str, tuple[Any, Any]] = {}  # one per camera settings (detectors, reader), loaded once

    def readers_for(spec: WorkerSpec) -> tuple[Any, Any]:
        key = repr((spec.detectors, sorted(spec.reader.items())))
        if key not in readers:
            readers[key] = _readers(spec)
        return readers[key]

    try:
        while not io.stop.is_set():
            for message in io.control_messages():
                if message.get("type") == "add":
                    add(message["spec"])
                elif message.get("camera") in pipelines:
                    pipelines[message["camera"]]._control([message])
            for spec in list(specs):
                add(spec)
            specs = []
            if not pipelines:
                io.stop.wait(_POLL)
                continue
            busy = False
            for camera, pipeline in list(pipelines.items()):
                try:
                    reader, shadow = readers_for(pipeline.spec)
                except (ReaderError, ImportError) as err:
                    io.emit({"type": "fatal", "camera": camera, "error": str(err)})
                    failed[camera] = pipelines.pop(camera)  # its capture ends with the worker
                    continue
                busy = pipeline.step(reader, shadow, 0.0) or busy
            if not busy:
                io.stop.wait(0.05)
    finally:
        io.stop.set()
        for capture in captures:
            capture.join(timeout=5)


class SharedWorker:
    """Hub-side handle of one worker process for several cameras; `view(camera)` is what each camera holds
    (the same methods as `CameraWorker`)."""

    def __init__(self, loop: Any, backoff: Backoff, mode: str = WORKER_PROCESS) -> None:
        self._specs: list[WorkerSpec] = []
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._started = False
        self._stopped = False
        self._lock = threading.Lock()
        self._worker = ProcessWorker(f"{__name__}:run_shared_worker", ([],), name="anpr-shared",
                                     on_message=self._relay, loop=loop, mode=mode, backoff=backoff)

    @property
    def restarts(self) -> int:
        return self._worker.counters.restarts

    @property
    def pid(self) -> int | None:
        """The worker process's id while it runs."""
        return self._worker.pid

    def add(self, spec: WorkerSpec, on_message: Callable[[dict[str, Any]], None]) -> SharedView:
        """A camera for this worker (before or after it started)."""
        with self._lock:
            self._handlers[spec.camera] = on_message
            self._specs.append(spec)
            self._worker.set_args((list(self._specs),))  # a restarted worker still reads it
            if self._started:
                self._worker.send({"type": "add", "spec": spec})
        return SharedView(self, spec.camera)

    def start(self) -> None:
        """Start the worker once (blocking for a moment: call it in an executor)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self._worker.start()

    def send(self, message: dict[str, Any]) -> None:
        self._worker.send(message)

    def _relay(self, message: dict[str, Any]) -> None:  # on the loop
        if message.get("type") == MSG_EXITED:
            for camera, handler in list(self._handlers.items()):
                handler({"type": "stats", "camera": camera, "available": False,
                         "error": f"worker exited ({message.get('exitcode')})", "ts": time.time()})
            return
        target = self._handlers.get(str(message.get("camera")))
        if target is not None:
            target(message)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker once (blocking: call it in an executor)."""
        with self._lock:
            if self._stopped or not self._started:
                self._stopped = True
                return
            self._stopped = True
        self._worker.stop(timeout)


@dataclass(slots=True)
class SharedView:
    """One camera's handle on a shared worker (the methods of `CameraWorker` the manager uses)."""

    shared: SharedWorker
    camera: str

    @property
    def restarts(self) -> int:
        return self.shared.restarts

    def start(self) -> None:
        self.shared.start()

    def send(self, message: dict[str, Any]) -> None:
        self.shared.send({**message, "camera": self.camera})

    def stop(self, timeout: float = 5.0) -> None:
        self.shared.stop(timeout)


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
            mode=mode, backoff=worker_backoff(spec))

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
