"""Frame processing off the event loop: one worker process per tower behind a bounded queue.

The loop hands frames over with `submit()`, which never blocks: when the queue is full the frame
is dropped and counted (a late frame is worth less than the next one). Commands (exclusions,
dismissals) go through their own queue and are never dropped. A reader thread takes results
from the worker and passes them to a callback, which schedules them onto the loop.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FrameWorker", "WorkerStats"]

_LOGGER = logging.getLogger(__name__)
_CONTEXT = mp.get_context("spawn")  # no fork of a process that runs an event loop and threads


@dataclass(slots=True)
class WorkerStats:
    """Counters of one worker (read on the loop)."""

    submitted: int = 0
    dropped: int = 0
    processed: int = 0
    errors: int = 0
    last_ms: float = 0.0


_IDLE_POLL = 0.2  # seconds an idle worker waits for a frame before it looks at its commands


def _worker_main(spec: dict[str, Any], frames: Any, control: Any, results: Any, gate: Any) -> None:
    """The worker process: build the processor, then frames in, results out, until None."""
    # Ctrl-C reaches the whole process group; the hub stops this process itself (None in the queue)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .processor import TowerProcessor

    try:
        processor = TowerProcessor(spec)
    except Exception as err:  # reported to the hub, which marks the camera failed
        results.put({"type": "fatal", "message": f"{type(err).__name__}: {err}"})
        return
    results.put({"type": "ready"})
    while True:
        try:
            item = frames.get(timeout=_IDLE_POLL)
        except queue.Empty:  # no frame (a camera in error, a pause): commands must not wait for the next one
            _drain_commands(processor, control, results)
            continue
        if item is None:
            break
        gate.wait()
        _drain_commands(processor, control, results)
        seq, ts, preset, data, pan, tilt = item
        try:
            result = processor.process(data, ts, preset, seq, pan, tilt)
        except Exception as err:
            results.put({"type": "error", "seq": seq, "message": f"{type(err).__name__}: {err}"})
            continue
        result["type"] = "result"
        results.put(result)
    _drain_commands(processor, control, results)
    results.put({"type": "stopped"})


def _drain_commands(processor: Any, control: Any, results: Any) -> None:
    while True:
        try:
            command = control.get_nowait()
        except queue.Empty:
            return
        op = command.get("op")
        reply: dict[str, Any] = {"type": "reply", "op": op, "id": command.get("id")}
        try:
            if op == "dismiss":
                reply["ok"] = processor.dismiss(command["preset"], command["track_id"])
                if command.get("exclude") and command.get("bbox"):
                    reply["rect"] = processor.add_exclusion(command["preset"], tuple(command["bbox"]))
            elif op == "exclude":
                reply["rect"] = processor.add_exclusion(command["preset"], tuple(command["bbox"]))
            elif op == "clear_exclusions":
                processor.clear_exclusions(command.get("preset"))
            else:
                reply["error"] = f"unknown command {op!r}"
        except (KeyError, IndexError, ValueError) as err:
            reply["error"] = f"{type(err).__name__}: {err}"
        results.put(reply)


class FrameWorker:
    """A tower's worker process with a bounded frame queue that drops and counts when full."""

    def __init__(
        self,
        spec: dict[str, Any],
        on_message: Callable[[dict[str, Any]], None],
        *,
        queue_size: int = 4,
        name: str | None = None,
    ) -> None:
        self.spec = spec
        self.name = name or f"thermal_fire_{spec['id']}"
        self.stats = WorkerStats()
        self._on_message = on_message
        self._frames: Any = _CONTEXT.Queue(maxsize=queue_size)
        self._control: Any = _CONTEXT.Queue()
        self._results: Any = _CONTEXT.Queue()
        self._gate: Any = _CONTEXT.Event()
        self._gate.set()
        self._process: Any = None
        self._reader: threading.Thread | None = None
        self._seq = 0

    @property
    def alive(self) -> bool:
        """Whether the worker process runs."""
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        """Start the process and the reader thread (blocking for a moment: call from an executor)."""
        self._process = _CONTEXT.Process(
            target=_worker_main,
            name=self.name,
            daemon=True,
            args=(self.spec, self._frames, self._control, self._results, self._gate),
        )
        self._process.start()
        self._reader = threading.Thread(target=self._read, name=f"{self.name}_reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                message = self._results.get()
            except (EOFError, OSError):
                return
            if message is None:
                return
            if message.get("type") == "result":
                self.stats.processed += 1
                self.stats.last_ms = float(message.get("elapsed_ms", 0.0))
            elif message.get("type") == "error":
                self.stats.errors += 1
            try:
                self._on_message(message)
            except Exception:
                _LOGGER.exception("Error handling a message from worker %s", self.name)
            if message.get("type") in ("stopped", "fatal"):
                return

    def submit(
        self, data: np.ndarray[Any, Any], ts: float, preset: int, pan: float | None = None, tilt: float | None = None
    ) -> bool:
        """Queue a frame without blocking; False (and counted) when the queue is full."""
        self.stats.submitted += 1
        self._seq += 1
        try:
            self._frames.put_nowait((self._seq, ts, preset, data, pan, tilt))
        except queue.Full:
            self.stats.dropped += 1
            return False
        return True

    def command(self, command: dict[str, Any]) -> None:
        """Send a command (never dropped); applied before the next frame, or within 0.2 s when no frame comes."""
        self._control.put(command)

    def pause(self) -> None:
        """Stop taking frames off the queue (they pile up, then drop)."""
        self._gate.clear()

    def resume(self) -> None:
        """Take frames again."""
        self._gate.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued frames and stop (blocking: call from an executor)."""
        self._gate.set()
        if self._process is not None:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self._frames.put(None, timeout=0.2)
                    break
                except queue.Full:
                    if time.monotonic() > deadline or not self._process.is_alive():
                        break
            self._process.join(max(0.1, deadline - time.monotonic()))
            if self._process.is_alive():
                _LOGGER.warning("Worker %s did not stop in %.0f s; terminating it", self.name, timeout)
                self._process.terminate()
                self._process.join(2.0)
        if self._reader is not None:
            if self._reader.is_alive():
                self._results.put(None)
            self._reader.join(5.0)
        for q in (self._frames, self._control, self._results):
            q.cancel_join_thread()  # anything still queued is of no use once the worker is gone
            q.close()
