"""Cameras end to end on simulated traffic: hits within a second, one read per pass, hashes for non-hits,
counts, journeys, hit review, a camera that drops and comes back, frames dropped when the queue is full."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import cv2
import pytest
from aiohttp import web
from sqlalchemy import select

from hub.core import Hub
from hub.recorder import async_setup_recorder, get_recorder
from integrations.anpr.models import AnprRead
from integrations.anpr.sim_camera import SimCamera
from integrations.anpr.worker import SharedView
from tests.conftest import free_port

from .conftest import HASH_KEY, SetupAnpr, collect, sim_camera, state_of, wait_for

FAST = {"tracking": {"timeout": 0.4}}


def _state(hub: Hub, entity_id: str) -> str | None:
    state = hub.states.get(entity_id)
    return state.state if state is not None else None


async def _plant(hub: Hub, camera: str, plate: str) -> None:
    await hub.services.async_call("anpr", "simulate_vehicle", {"camera": camera, "plate": plate}, blocking=True)


async def test_planted_stolen_plate_raises_a_hit_within_a_second(
    hub: Hub, setup_anpr: SetupAnpr, config_dir: Path
) -> None:
    """The real path: a worker process reads the simulated frames, the hub matches and fires."""
    await setup_anpr(workers="process", cameras=[sim_camera()])
    await wait_for(lambda: _state(hub, "camera.anpr_tarajal_in") == "streaming", 60, "the camera to stream")
    await hub.services.async_call(
        "anpr", "hotlist_add", {"list": "stolen", "plate": "4321FGH", "reason": "stolen in Algeciras"}, blocking=True
    )
    hits = collect(hub, "anpr_hotlist_hit")
    planted = time.monotonic()
    await _plant(hub, "tarajal_in", "4321FGH")
    await wait_for(lambda: bool(hits), 1.0, "the hotlist hit")
    assert time.monotonic() - planted < 1.0
    data = hits[0].data
    assert data["list"] == "stolen" and data["list_kind"] == "deny" and data["priority"] == 1
    assert data["entry"]["plate"] == "4321FGH" and data["entry"]["reason"] == "stolen in Algeciras"
    assert data["plate"] == "4321FGH" and data["confidence"] >= 0.6
    assert data["camera"] == "tarajal_in" and data["area"] == "tarajal"
    assert data["location"] == {"latitude": 35.8728, "longitude": -5.3433}
    for ref in (data["evidence"]["crop"], data["evidence"]["frame"]):
        assert ref.startswith("media/anpr/hits/tarajal_in/")
        image = cv2.imread(str(config_dir / ref))
        assert image is not None and image.size > 0
    frame = cv2.imread(str(config_dir / data["evidence"]["frame"]))
    assert frame is not None and frame.shape[:2] == (720, 1280)
    assert hits[0].context is not None


async def test_one_read_per_pass_hashed_unless_a_hit(
    hub: Hub, setup_anpr: SetupAnpr, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{tmp_path / 'hacho.db'}", "commit_interval": 3600})
    manager = await setup_anpr(cameras=[sim_camera(source="sim://x?seed=1&rate=0&pass_seconds=1.5")], **FAST)
    await wait_for(lambda: _state(hub, "camera.anpr_tarajal_in") == "streaming", 20, "the camera")
    await hub.services.async_call("anpr", "hotlist_add", {"list": "stolen", "plate": "4321FGH"}, blocking=True)
    reads = collect(hub, "anpr_plate_read")
    await _plant(hub, "tarajal_in", "7777BCD")
    await wait_for(lambda: len(reads) == 1, 10, "the first pass")
    await _plant(hub, "tarajal_in", "4321FGH")
    await wait_for(lambda: len(reads) == 2, 10, "the second pass")
    await asyncio.sleep(0.6)
    assert len(reads) == 2  # one read per vehicle, however many frames it was seen in
    plain, hit = reads[0].data, reads[1].data
    assert plain["frames"] > 1 and plain["hit"] is False and plain["lists"] == []
    assert "plate" not in plain  # a non-hit travels as its keyed hash only
    expected = hmac.new(HASH_KEY.encode(), b"7777BCD", hashlib.sha256).hexdigest()[:32]
    assert plain["plate_hash"] == expected
    assert plain["format"] == "es_current" and plain["direction"] == "approaching"
    assert plain["heading"] == "to_border"
    assert hit["hit"] is True and hit["plate"] == "4321FGH" and hit["lists"] == ["stolen"]
    await manager.read_log.async_flush()

    def _rows(session: Any) -> list[tuple[str | None, str, bool]]:
        return [(r.plate, r.plate_hash, r.hit) for r in session.scalars(select(AnprRead).order_by(AnprRead.ts))]

    rows = await get_recorder(hub).async_db_job(_rows)
    assert rows == [(None, expected, False), ("4321FGH", hit["plate_hash"], True)]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)
    assert "7777BCD" not in logged and "4321FGH" not in logged
    assert _state(hub, "sensor.anpr_tarajal_in_count_1m") == "2"
    assert _state(hub, "sensor.anpr_tarajal_in_count_15m") == "2"


async def test_hit_review_and_acceptance_rates(hub: Hub, setup_anpr: SetupAnpr) -> None:
    await setup_anpr(cameras=[sim_camera(source="sim://x?seed=1&rate=0&pass_seconds=1.5")], **FAST)
    await wait_for(lambda: _state(hub, "camera.anpr_tarajal_in") == "streaming", 20, "the camera")
    for plate in ("4321FGH", "5555KLM"):
        await hub.services.async_call("anpr", "hotlist_add", {"list": "stolen", "plate": plate}, blocking=True)
    hits = collect(hub, "anpr_hotlist_hit")
    await _plant(hub, "tarajal_in", "4321FGH")
    await wait_for(lambda: len(hits) == 1, 5, "the first hit")
    await _plant(hub, "tarajal_in", "5555KLM")
    await wait_for(lambda: len(hits) == 2, 5, "the second hit")
    reviewed = collect(hub, "anpr_hit_reviewed")
    await hub.services.async_call("anpr", "hit_accept", {"hit_id": hits[0].data["hit_id"]}, blocking=True)
    with pytest.raises(Exception, match="reason"):
        await hub.services.async_call("anpr", "hit_reject", {"hit_id": hits[1].data["hit_id"]}, blocking=True)
    await hub.services.async_call(
        "anpr", "hit_reject", {"hit_id": hits[1].data["hit_id"], "reason": "misread: a taxi"}, blocking=True
    )
    assert [e.data["status"] for e in reviewed] == ["accepted", "rejected"]
    assert reviewed[1].data["reason"] == "misread: a taxi"
    stats: Any = await hub.services.async_call("anpr", "hit_stats", {}, blocking=True, return_response=True)
    assert stats["by_list"]["stolen"] == {"accepted": 1, "rejected": 1, "pending": 0, "acceptance_rate": 0.5}
    assert stats["by_camera"]["tarajal_in"]["acceptance_rate"] == 0.5
    assert _state(hub, "sensor.anpr_hit_acceptance") == "50.0"


@pytest.mark.parametrize("workers", ["thread", "shared"])
async def test_journey_times_between_cameras(hub: Hub, setup_anpr: SetupAnpr, workers: str) -> None:
    """`shared`: both cameras in one worker process, each planted vehicle read on its own camera."""
    fast = "rate=0&pass_seconds=1.2"
    manager = await setup_anpr(
        workers=workers,
        cameras=[
            sim_camera("border", source=f"sim://a?seed=1&{fast}"),
            sim_camera("port", source=f"sim://b?seed=2&{fast}"),
        ],
        journeys=[{"id": "border_port", "name": "Border to port", "from": "border", "to": "port", "distance_m": 30}],
        **FAST,
    )
    await wait_for(
        lambda: _state(hub, "camera.anpr_border") == "streaming" and _state(hub, "camera.anpr_port") == "streaming",
        20,
        "the cameras",
    )
    if workers == "shared":
        border, port = manager.cameras["border"].worker, manager.cameras["port"].worker
        assert isinstance(border, SharedView) and isinstance(port, SharedView) and border.shared is port.shared
    reads = collect(hub, "anpr_plate_read")
    await _plant(hub, "border", "2468CDF")
    await wait_for(lambda: len(reads) == 1, 10, "the pass at the border")
    await _plant(hub, "port", "2468CDF")
    await wait_for(lambda: len(reads) == 2, 10, "the pass at the port")
    assert [r.data["camera"] for r in reads] == ["border", "port"]
    assert reads[0].data["plate_hash"] == reads[1].data["plate_hash"]
    journey = hub.states.get("sensor.anpr_border_port_journey_time")
    assert journey is not None and float(journey.state) > 0
    assert journey.attributes["samples"] == 1
    speed = float(_state(hub, "sensor.anpr_border_port_speed") or 0)
    assert speed == pytest.approx(30 / float(journey.state) * 3.6, rel=0.05)
    assert _state(hub, "sensor.anpr_border_port_congestion") in ("free", "heavy", "congested")


async def test_a_shared_worker_that_dies_comes_back_with_every_camera(hub: Hub, setup_anpr: SetupAnpr) -> None:
    """`workers: shared`: killing the one process takes both cameras down; the restart brings both back,
    each still reading its own vehicles."""
    cameras = [sim_camera("border", source="sim://a?seed=1&rate=0&pass_seconds=1.2", retry_interval=0.2),
               sim_camera("port", source="sim://b?seed=2&rate=0&pass_seconds=1.2", retry_interval=0.2)]
    manager = await setup_anpr(workers="shared", cameras=cameras, **FAST)

    def streaming() -> bool:
        return _state(hub, "camera.anpr_border") == "streaming" and _state(hub, "camera.anpr_port") == "streaming"

    await wait_for(streaming, 60, "the cameras")
    view = manager.cameras["port"].worker
    assert isinstance(view, SharedView)
    pid = view.shared.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await wait_for(lambda: not manager.cameras["border"].available and not manager.cameras["port"].available,
                   10, "both cameras to turn unavailable")
    await wait_for(streaming, 60, "both cameras back")
    assert view.shared.pid not in (None, pid) and view.restarts == 1
    reads = collect(hub, "anpr_plate_read")
    await _plant(hub, "port", "2468CDF")
    await wait_for(lambda: len(reads) == 1, 10, "the pass at the port")
    assert reads[0].data["camera"] == "port"


async def test_a_camera_that_drops_turns_unavailable_and_comes_back(hub: Hub, setup_anpr: SetupAnpr) -> None:
    """An HTTP snapshot camera whose server goes away and comes back on the same port."""
    frame, _truth = SimCamera(seed=1, rate=0).frame(0.0)
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()

    async def _snapshot(_request: web.Request) -> web.Response:
        return web.Response(body=jpeg, content_type="image/jpeg")

    port = free_port()

    async def _serve() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/snap.jpg", _snapshot)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    runner = await _serve()
    await setup_anpr(
        cameras=[
            {
                "id": "gate",
                "source": f"http://127.0.0.1:{port}/snap.jpg",
                "type": "snapshot",
                "fps": 10,
                "unavailable_after": 0.5,
                "retry_interval": 0.1,
                "detectors": ["morph"],
            }
        ]
    )
    entity = "camera.anpr_gate"
    await wait_for(lambda: _state(hub, entity) == "streaming", 20, "the camera")
    await runner.cleanup()
    await wait_for(lambda: _state(hub, entity) == "unavailable", 5, "the camera to turn unavailable")
    runner = await _serve()
    try:
        await wait_for(lambda: _state(hub, entity) == "streaming", 5, "the camera to come back")
        frames = state_of(hub, entity).attributes["frames"]
        await wait_for(lambda: (state_of(hub, entity).attributes.get("frames") or 0) > frames, 5, "new frames")
    finally:
        await runner.cleanup()


async def test_frames_are_dropped_not_queued_when_reading_falls_behind(hub: Hub, setup_anpr: SetupAnpr) -> None:
    """60 frames/s of busy traffic into a queue of one: the worker drops frames and says how many."""
    await setup_anpr(
        cameras=[
            sim_camera(source="sim://busy?seed=4&rate=90&lanes=3", fps=60, queue_size=1, detectors=["morph", "haar"])
        ]
    )

    def _dropped() -> int:
        state = hub.states.get("camera.anpr_tarajal_in")
        return int(state.attributes.get("dropped_frames") or 0) if state is not None else 0

    await wait_for(lambda: _dropped() > 0, 20, "dropped frames to be counted")
    attrs = state_of(hub, "camera.anpr_tarajal_in").attributes
    assert attrs["queue"] <= 1
    assert attrs["frames"] >= attrs["processed_frames"] + attrs["dropped_frames"] - 1
