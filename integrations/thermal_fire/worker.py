"""Frame processing off the event loop: one worker process per tower, through the hub's worker harness.

The loop hands frames over with `submit()`, which never blocks: when the queue is full the OLDEST frame
is dropped and counted (a late frame is worth less than the next one). Commands (exclusions,
dismissals) go through their own queue and are never dropped. A worker that dies is restarted with
backoff, and none outlives the hub (hub.helpers.workers.ProcessWorker).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.helpers.workers import ProcessWorker, WorkerIO, run_once

if TYPE_CHECKING:
    import numpy as np

    from .elevation import Terrain

__all__ = ["FrameWorker", "RenderRequest", "WorkerStats", "build_terrain_in_worker", "simulator_spec"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class WorkerStats:
    """Counters of one worker (read on the loop)."""

    submitted: int = 0
    dropped: int = 0
    processed: int = 0
    errors: int = 0
    last_ms: float = 0.0


_IDLE_POLL = 0.2  # seconds an idle worker waits for a frame before it looks at its commands


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """What the hub queues instead of a frame for a simulated camera: the worker renders the frame itself
    (the simulated scene and its numpy/scipy rendering live in the worker, not in the hub).

    `visit` counts the hub's moves to a preset (the head settles with a new pointing offset on each);
    `ignitions` are the fires started at run time so far, as (lat, lon, start_ts, spread_ms).
    """

    visit: int
    ignitions: tuple[tuple[float, float, float, float], ...] = ()


def simulator_spec(tower: dict[str, Any], config: dict[str, Any], start_ts: float) -> dict[str, Any]:
    """The picklable part of the configuration a worker builds its simulated camera from."""
    return {"tower": tower, "config": {"simulator": config["simulator"]}, "start_ts": start_ts}


class _SimulatedCamera:
    """The worker's side of a simulated tower camera: its world, the head's visits and the fires started."""

    def __init__(self, spec: dict[str, Any], processor: Any) -> None:
        from .world import SimWorld

        self.world = SimWorld(spec["config"], processor.terrain, float(spec["start_ts"]))
        self.camera = self.world.camera_for(spec["tower"], processor.site)
        self.visit: int | None = None
        self.ignited = 0

    def render(self, request: RenderRequest, preset: int, ts: float) -> Any:
        for lat, lon, start, spread in request.ignitions[self.ignited:]:
            self.world.ignite(lat, lon, start, spread)
        self.ignited = max(self.ignited, len(request.ignitions))
        if request.visit != self.visit:
            self.visit = request.visit
            self.camera.goto(preset)
        return self.world.render(self.camera, ts)


def _worker_main(io: WorkerIO, spec: dict[str, Any]) -> None:
    """The worker process: build the processor (and the simulated camera, for a simulated tower), then frames
    (or render requests) in, results out, until the hub stops it (the frames already queued are processed first)."""
    from .processor import TowerProcessor

    try:
        processor = TowerProcessor(spec)
        simulated = _SimulatedCamera(spec["simulator"], processor) if spec.get("simulator") else None
    except Exception as err:  # reported to the hub, which marks the camera failed
        io.emit({"type": "fatal", "message": f"{type(err).__name__}: {err}"})
        return
    io.emit({"type": "ready"})
    while True:
        item = io.get(_IDLE_POLL)
        _drain_commands(processor, io)  # no frame (a camera in error, a pause): commands must not wait
        if item is None:
            if io.stopping:
                break
            continue
        seq, ts, preset, data, pan, tilt = item
        try:
            if isinstance(data, RenderRequest):
                if simulated is None:
                    raise ValueError("a render request for a tower that has no simulated camera")
                data = simulated.render(data, preset, ts)
            result = processor.process(data, ts, preset, seq, pan, tilt)
        except Exception as err:
            io.emit({"type": "error", "seq": seq, "message": f"{type(err).__name__}: {err}"})
            continue
        result["type"] = "result"
        io.emit(result)
    io.emit({"type": "stopped"})


def _terrain_main(io: WorkerIO, spec: dict[str, Any]) -> None:
    """A one-shot worker process: build the terrain of `spec` and hand it to the hub."""
    from .processor import build_terrain

    try:
        io.emit({"type": "terrain", "terrain": build_terrain(spec)})
    except Exception as err:
        io.emit({"type": "fatal", "message": f"{type(err).__name__}: {err}"})


def build_terrain_in_worker(spec: dict[str, Any], timeout: float = 600.0) -> Terrain:
    """The terrain of `spec`, built in a one-shot worker process (blocking: call from an executor).

    The synthetic terrain takes scipy and its temporaries; the hub keeps only the finished grid.
    """
    answer = run_once(f"{__name__}:_terrain_main", (spec,), name="thermal_fire_terrain", timeout=timeout)
    if "terrain" not in answer:
        raise RuntimeError(f"terrain {spec} could not be built: {answer.get('message', 'the worker gave no answer')}")
    terrain: Terrain = answer["terrain"]
    return terrain


def _drain_commands(processor: Any, io: WorkerIO) -> None:
    for command in io.control_messages():
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
        io.emit(reply)


class FrameWorker:
    """A tower's worker process with a bounded frame queue that drops the oldest frame and counts."""

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
        self._worker = ProcessWorker(f"{__name__}:_worker_main", (spec,), name=self.name, on_message=self._relay,
                                     queue_size=queue_size)
        self._seq = 0

    @property
    def alive(self) -> bool:
        """Whether the worker process runs."""
        return self._worker.alive

    @property
    def restarts(self) -> int:
        """How often the worker was restarted after it died."""
        return self._worker.counters.restarts

    def start(self) -> None:
        """Start the process (blocking for a moment: call from an executor)."""
        self._worker.start()

    def _relay(self, message: dict[str, Any]) -> None:  # the harness's supervisor thread
        kind = message.get("type")
        if kind == "result":
            self.stats.processed += 1
            self.stats.last_ms = float(message.get("elapsed_ms", 0.0))
        elif kind == "error":
            self.stats.errors += 1
        self._on_message(message)

    def submit(
        self, data: np.ndarray[Any, Any] | RenderRequest, ts: float, preset: int, pan: float | None = None,
        tilt: float | None = None,
    ) -> bool:
        """Queue a frame (or a simulated camera's render request) without blocking; False (and counted) when the
        oldest queued one was dropped for it."""
        self.stats.submitted += 1
        self._seq += 1
        accepted = self._worker.submit((self._seq, ts, preset, data, pan, tilt))
        self.stats.dropped = self._worker.counters.dropped
        return accepted

    def command(self, command: dict[str, Any]) -> None:
        """Send a command (never dropped); applied before the next frame, or within 0.2 s when no frame comes."""
        self._worker.send(command)

    def pause(self) -> None:
        """Stop taking frames off the queue (they pile up, then the oldest drop)."""
        self._worker.pause()

    def resume(self) -> None:
        """Take frames again."""
        self._worker.resume()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued frames and stop (blocking: call from an executor)."""
        self._worker.stop(timeout)
