"""The worker process: a bounded queue that drops and counts, commands never dropped, clean stop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from integrations.thermal_fire.elevation import ElevationGrid
from integrations.thermal_fire.worker import FrameWorker, build_terrain_in_worker
from tests.processes import Inbox, fresh_import, worker_modules

from .conftest import TERRAIN_ARCSEC

SPEC = {
    "id": "tiny",
    "lat": 35.9,
    "lon": -5.3,
    "height_m": 100.0,
    "camera": {"width": 32, "height": 32, "hfov": 10.0, "vfov": 10.0},
    "presets": [{"name": "p", "pan": 270.0, "tilt": -2.0}],
    "terrain": {"type": "flat"},
}


def test_full_queue_drops_and_counts_frames() -> None:
    inbox = Inbox()
    worker = FrameWorker(SPEC, inbox, queue_size=2)
    worker.start()
    try:
        inbox.wait(lambda: inbox.of("ready"))
        worker.pause()
        frame = np.full((32, 32), 290.0, dtype=np.float32)
        accepted = [worker.submit(frame, 1000.0 + i, 0) for i in range(20)]
        assert worker.stats.submitted == 20
        assert worker.stats.dropped == accepted.count(False)
        assert worker.stats.dropped >= 20 - 2 - 1  # the queue holds 2, the paused worker at most 1 more
        # commands go through even while frames are being dropped
        worker.command({"op": "exclude", "preset": 0, "bbox": [4, 4, 6, 6], "id": 1})
        worker.resume()
        inbox.wait(lambda: len(inbox.of("result")) == accepted.count(True))
        inbox.wait(lambda: inbox.of("reply"))
        assert inbox.of("reply")[0]["rect"] == [1, 1, 9, 9]
        assert worker.stats.processed == accepted.count(True)
        assert worker.stats.processed + worker.stats.dropped == worker.stats.submitted
        assert inbox.of("result")[-1]["ts"] == 1019.0  # the oldest frames went, the newest was processed
    finally:
        worker.stop()
    assert not worker.alive
    assert inbox.of("stopped")


def test_bad_frame_is_reported_not_fatal() -> None:
    inbox = Inbox()
    worker = FrameWorker(SPEC, inbox, queue_size=4)
    worker.start()
    try:
        worker.submit(np.zeros((8, 8), dtype=np.float32), 1.0, 0)
        worker.submit(np.full((32, 32), 290.0, dtype=np.float32), 2.0, 0)
        inbox.wait(lambda: inbox.of("error") and inbox.of("result"))
        assert "camera tiny is 32x32" in inbox.of("error")[0]["message"]
        assert worker.stats.errors == 1 and worker.stats.processed == 1
    finally:
        worker.stop()


def test_a_command_is_answered_while_no_frame_comes() -> None:
    inbox = Inbox()
    worker = FrameWorker(SPEC, inbox, queue_size=2)
    worker.start()
    try:
        inbox.wait(lambda: inbox.of("ready"))
        # a camera in error sends no frames: an operator's exclusion must still be applied
        worker.command({"op": "exclude", "preset": 0, "bbox": [4, 4, 6, 6], "id": 7})
        inbox.wait(lambda: inbox.of("reply"), timeout=10)
        assert inbox.of("reply")[0]["id"] == 7 and inbox.of("reply")[0]["rect"] == [1, 1, 9, 9]
        assert not inbox.of("result")
    finally:
        worker.stop()


HEAVY_ELSEWHERE = {"cv2", "onnxruntime", "sqlalchemy", "aiohttp", "jinja2", "hub.recorder", "hub.http"}


def test_the_worker_process_starts_with_its_own_modules_only() -> None:
    """The package's __init__ (the hub side: manager, services, entities) does not run in the worker, and the
    renderer loads only where a tower is simulated (reported by the worker process itself)."""
    modules = worker_modules("integrations.thermal_fire.worker:_worker_main")
    assert "integrations.thermal_fire.worker" in modules
    hub_side = {"integrations.thermal_fire.manager", "integrations.thermal_fire.services",
                "integrations.thermal_fire.entity", "integrations.thermal_fire.simulator", "scipy"}
    assert not modules & (hub_side | HEAVY_ELSEWHERE), modules & (hub_side | HEAVY_ELSEWHERE)


def test_the_hub_side_does_not_load_the_renderer() -> None:
    """The simulated camera renders in the worker: importing the integration in the hub loads neither the
    simulator's rendering nor scipy."""
    modules = fresh_import("integrations.thermal_fire")
    assert "integrations.thermal_fire.manager" in modules
    assert not modules & {"integrations.thermal_fire.simulator", "integrations.thermal_fire.world", "scipy"}


def test_the_synthetic_terrain_is_built_in_a_worker_process_and_is_the_same(terrain: ElevationGrid) -> None:
    """The hub gets the simulator's terrain from a one-shot worker (scipy stays out of the hub): the same grid."""
    built = build_terrain_in_worker({"type": "synthetic", "arcsec": TERRAIN_ARCSEC})
    assert isinstance(built, ElevationGrid)
    assert built.land_cover is not None and terrain.land_cover is not None
    assert np.array_equal(built.data, terrain.data) and np.array_equal(built.land_cover, terrain.land_cover)
    assert (built.north, built.west, built.dlat, built.dlon) == (terrain.north, terrain.west, terrain.dlat,
                                                                 terrain.dlon)


def test_a_terrain_that_cannot_be_built_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="cannot read elevation"):
        build_terrain_in_worker({"type": "grid", "path": str(tmp_path / "missing.npy")})
