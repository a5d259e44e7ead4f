"""Per-camera workers: capture at a frame-rate limit into a bounded queue that drops, read plates, report.

The pipeline runs in a worker process (or a thread, for tests and tiny sites), never on the event loop.
The hub side (`CameraWorker`) starts it, relays its messages to the loop, and restarts it if it dies.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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


class FrameQueue:
    """A bounded frame queue that drops the oldest frame when full (fresh frames matter more), counting."""

    def __init__(self, maxsize: int) -> None:
        self._queue: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(maxsize)
        self.dropped = 0

    def put(self, item: tuple[np.ndarray, float]) -> bool:
        """Queue a frame; False when an older one had to be dropped for it."""
        dropped = False
        while True:
            try:
                self._queue.put_nowait(item)
                return not dropped
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                    dropped = True
                except queue.Empty:
                    pass

    def get(self, timeout: float) -> tuple[np.ndarray, float] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def qsize(self) -> int:
        return self._queue.qsize()


class _Pipeline:
    """Capture thread + processing loop of one camera, inside the worker."""

    def __init__(self, spec: WorkerSpec, emit: Callable[[dict[str, Any]], None], stop: Any) -> None:
        from .source import open_source

        self.spec = spec
        self.emit = emit
        self.stop = stop
        self.source = open_source(spec.source_type, spec.source, loop=spec.loop)
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
        backoff = self.spec.retry_interval
        opened = False
        last_frame = time.monotonic()
        next_due = time.monotonic()
        while not self.stop.is_set():
            if not opened:
                try:
                    self.source.open()
                except SourceError as err:
                    self._set_available(False, str(err))
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_RETRY_INTERVAL)
                    continue
                opened = True
                last_frame = time.monotonic()
            if not self.source.live:
                self.stop.wait(max(0.0, next_due - time.monotonic()))
            frame = self.source.read()
            now = time.monotonic()
            if frame is None:
                if now - last_frame > self.spec.unavailable_after:
                    self._set_available(False, "no frames")
                    self.source.close()
                    opened = False
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_RETRY_INTERVAL)
                else:
                    self.stop.wait(min(period, 0.1))
                continue
            last_frame = now
            backoff = self.spec.retry_interval
            if self.available is not True:
                self._set_available(True)
            if now < next_due:  # live source faster than the limit: this frame is not sampled
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

    def process(self, reader: Any, control: Any) -> None:
        import cv2

        last_stats = 0.0
        while not self.stop.is_set():
            self._control(control)
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
                plates.append({**obs.as_dict(), "crop_jpeg": crop.tobytes() if ok else None})
            ok, full = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            self.emit({"type": "frame", "camera": self.spec.camera, "ts": captured, "done": time.time(),
                       "size": [int(frame.shape[1]), int(frame.shape[0])], "observations": plates,
                       "frame_jpeg": full.tobytes() if ok else None})

    def _control(self, control: Any) -> None:
        while True:
            try:
                message = control.get_nowait()
            except queue.Empty:
                return
            if message.get("type") == "plant" and hasattr(self.source, "plant"):
                self.source.plant(message["plate"])


def run_worker(spec: WorkerSpec, out: Any, control: Any, stop: Any) -> None:
    """Worker entry point (process or thread): build the reader, capture and process until `stop` is set."""
    from .reader import PlateReader, ReaderError

    if threading.current_thread() is threading.main_thread():
        # a worker process: Ctrl-C reaches the whole process group, and the hub stops it itself (`stop`)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    try:
        reader = PlateReader(detectors=spec.detectors, **spec.reader)
    except (ReaderError, ImportError) as err:
        out.put({"type": "fatal", "camera": spec.camera, "error": str(err)})
        return
    pipeline = _Pipeline(spec, out.put, stop)
    capture = threading.Thread(target=pipeline.capture, name=f"anpr-capture-{spec.camera}", daemon=True)
    capture.start()
    try:
        pipeline.process(reader, control)
    finally:
        stop.set()
        capture.join(timeout=5)


class CameraWorker:
    """Hub-side handle of one camera's worker: start, stop, send control messages, relay what it reports
    to `on_message` on the event loop, restart it when it dies."""

    def __init__(self, loop: Any, spec: WorkerSpec, on_message: Callable[[dict[str, Any]], None],
                 mode: str = WORKER_PROCESS) -> None:
        self.loop = loop
        self.spec = spec
        self.on_message = on_message
        self.mode = mode
        self.restarts = 0
        self._closing = threading.Event()
        self._relay: threading.Thread | None = None
        self._runner: Any = None
        self._stop: Any = None
        self._out: Any = None
        self._control: Any = None

    def _launch(self) -> None:
        if self.mode == WORKER_PROCESS:
            ctx = mp.get_context("spawn")  # fork is unsafe in a process with threads
            self._out, self._control, self._stop = ctx.Queue(), ctx.Queue(), ctx.Event()
            self._runner = ctx.Process(target=run_worker, args=(self.spec, self._out, self._control, self._stop),
                                       name=f"anpr-{self.spec.camera}", daemon=True)
        else:
            self._out, self._control, self._stop = queue.Queue(), queue.Queue(), threading.Event()
            self._runner = threading.Thread(target=run_worker,
                                            args=(self.spec, self._out, self._control, self._stop),
                                            name=f"anpr-{self.spec.camera}", daemon=True)
        self._runner.start()

    def start(self) -> None:
        """Start the worker and the relay thread (blocking for a moment: call it in an executor)."""
        self._launch()
        self._relay = threading.Thread(target=self._relay_loop, name=f"anpr-relay-{self.spec.camera}",
                                       daemon=True)
        self._relay.start()

    def send(self, message: dict[str, Any]) -> None:
        """A control message for the worker (a planted plate for a simulated camera)."""
        if self._control is not None:
            self._control.put(message)

    def _alive(self) -> bool:
        return self._runner is not None and self._runner.is_alive()

    def _relay_loop(self) -> None:
        backoff = self.spec.retry_interval
        while not self._closing.is_set():
            try:
                message = self._out.get(timeout=_POLL)
            except queue.Empty:
                message = None
            except (EOFError, OSError):  # the queue's pipe broke with the process
                message = None
            if message is not None:
                if message.get("type") == "fatal":
                    self._deliver(message)
                    return
                self._deliver(message)
                continue
            if not self._alive() and not self._closing.is_set():
                code = getattr(self._runner, "exitcode", None)
                self._deliver({"type": "stats", "camera": self.spec.camera, "available": False,
                               "error": f"worker exited ({code})", "ts": time.time()})
                if self._closing.wait(backoff):
                    return
                backoff = min(backoff * 2, MAX_RETRY_INTERVAL)
                self.restarts += 1
                _LOGGER.warning("ANPR worker of camera %s exited (%s); restarting", self.spec.camera, code)
                self._launch()

    def _deliver(self, message: dict[str, Any]) -> None:
        try:
            self.loop.call_soon_threadsafe(self.on_message, message)
        except RuntimeError:  # the loop closed under us
            self._closing.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker and the relay (blocking: call it in an executor)."""
        self._closing.set()
        if self._stop is not None:
            self._stop.set()
        runner = self._runner
        if runner is not None:
            runner.join(timeout)
            if self.mode == WORKER_PROCESS and runner.is_alive():
                runner.terminate()
                runner.join(1.0)
        if self._relay is not None:
            self._relay.join(timeout)
        if self.mode == WORKER_PROCESS:
            for q in (self._out, self._control):
                if q is not None:
                    q.cancel_join_thread()
                    q.close()
