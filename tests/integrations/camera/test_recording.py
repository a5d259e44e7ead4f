"""Recording real RTSP streams (GStreamer's server) with real ffmpeg: segments indexed and hashed, gaps when a
recorder or the server dies, recording resuming, cameras going offline and online."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from hub.const import STATE_UNAVAILABLE
from integrations.camera import index
from integrations.camera.recorder import IncomingSegment
from integrations.simulator.cameras import SimulatedCameras

from .conftest import STREAMS, VideoSite, camera_conf, start_video_site, stop_video_site


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_several_cameras_record_segments_indexed_with_verified_hashes(video_site: VideoSite) -> None:
    site = video_site
    manager = site.manager
    await site.wait_for(lambda: all(c.segments >= 3 for c in manager.cameras.values()), what="3 segments each")
    for camera_id in STREAMS:
        state = site.hub.states.get(f"camera.{camera_id}")
        assert state is not None and state.state == "recording"
        assert "s3cret" not in str(state.attributes) and state.attributes["sub"].startswith("rtsp://127.0.0.1")
        assert state.attributes["main"] == f"sim://{camera_id}"
        result = await site.query(camera_id)
        segments = result["segments"]
        assert len(segments) >= 3 and result["gaps"] == []
        for segment in segments:
            assert segment["status"] == "ok" and segment["keyframe"] is True
            assert 0.5 <= segment["end"] - segment["start"] <= 4.0
            row_path = await site.hub.async_add_executor_job(lambda sid=segment["id"]: _path_of(site, sid))
            assert row_path.parent.parent.name == camera_id  # <storage>/<camera>/<day>/<file>
            assert row_path.stat().st_size == segment["bytes"]
            assert _sha(row_path) == segment["sha256"]
        # consecutive segments of one run are contiguous: one playable range
        assert len(result["ranges"]) == 1
        assert abs(result["ranges"][0][0] - segments[0]["start"]) < 1e-6
    assert not site.of("camera_recording_gap") and not site.of("camera_offline")


def _path_of(site: VideoSite, segment_id: int) -> Path:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{site.hub.config_dir / 'hacho.db'}")
    with engine.connect() as conn:
        relative = conn.execute(text("SELECT path FROM camera_segments WHERE segment_id = :i"),
                                {"i": segment_id}).scalar_one()
    engine.dispose()
    return site.manager.storage / relative


async def test_killed_recorder_leaves_a_recorded_gap_and_recording_resumes(video_site: VideoSite) -> None:
    site = video_site
    cam = site.manager.cameras["port_gate"]
    await site.wait_for(lambda: cam.segments >= 2, what="two segments")
    pid = cam.process.pid
    assert pid is not None
    before = cam.segments
    os.kill(pid, signal.SIGKILL)  # mid-segment: the open segment is lost, never indexed half-written
    await site.wait_for(lambda: site.of("camera_recording_gap"), what="gap event")
    await site.wait_for(lambda: cam.segments >= before + 4 and cam.process.pid not in (None, pid),
                        what="recording resumed")
    result = await site.query("port_gate")
    assert len(result["gaps"]) == 1
    gap = result["gaps"][0]
    assert gap["end"] is not None and gap["end"] > gap["start"]
    assert "recorder exited" in gap["reason"]
    assert len(result["ranges"]) == 2  # before and after the gap
    assert abs(result["ranges"][1][0] - gap["end"]) < 1e-6
    assert all(s["status"] == "ok" for s in result["segments"])
    event = site.of("camera_recording_gap")[0]
    assert event.data["camera"] == "port_gate"
    assert not site.of("camera_offline")  # restarted within unavailable_after: a gap, not an outage
    assert site.hub.states.get("camera.port_gate").state == "recording"  # type: ignore[union-attr]
    assert site.hub.states.get("camera.port_gate").attributes["recorder_restarts"] >= 1  # type: ignore[union-attr]


async def test_rtsp_server_killed_mid_segment_gaps_every_camera_then_resumes(video_site: VideoSite) -> None:
    site = video_site
    cameras = site.manager.cameras
    await site.wait_for(lambda: all(c.segments >= 2 for c in cameras.values()), what="two segments each")
    counts = {cid: c.segments for cid, c in cameras.items()}
    assert site.server.process is not None
    pid = site.server.process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await site.wait_for(lambda: {e.data["camera"] for e in site.of("camera_recording_gap")} == set(cameras),
                        what="a gap on every camera")
    # +4: a segment being indexed at the kill and the run's last one, then two of the new runs
    await site.wait_for(lambda: all(c.segments >= counts[cid] + 4 for cid, c in cameras.items()),
                        what="every camera recording again")
    for camera_id in cameras:
        result = await site.query(camera_id)
        assert len(result["gaps"]) == 1 and result["gaps"][0]["end"] is not None
        assert len(result["ranges"]) == 2


async def test_a_dead_stream_makes_the_camera_unavailable_with_an_event(config_dir: Path, clip_dir: Path) -> None:
    def cameras(server: SimulatedCameras) -> list[dict[str, Any]]:
        dead = {**camera_conf("plaza_reyes", server), "id": "nowhere", "main": server.url("no_such_mount"),
                "record": {"mode": "off"}}
        return [camera_conf("plaza_reyes", server), dead]

    site = await start_video_site(config_dir, clip_dir, streams=("plaza_reyes",), cameras=cameras)
    try:
        await site.wait_for(lambda: site.of("camera_offline"), what="camera_offline")
        assert [e.data["camera"] for e in site.of("camera_offline")] == ["nowhere"]
        assert site.hub.states.get("camera.nowhere").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
        await site.wait_for(lambda: site.manager.cameras["plaza_reyes"].available, what="live camera")
        assert site.hub.states.get("camera.plaza_reyes").state == "recording"  # type: ignore[union-attr]
    finally:
        await stop_video_site(site)


async def test_segments_finished_together_are_read_in_one_job_and_indexed_in_one_transaction(
        video_site: VideoSite, monkeypatch: pytest.MonkeyPatch) -> None:
    site = video_site
    manager = site.manager
    cam = manager.cameras["port_gate"]
    await site.wait_for(lambda: cam.segments >= 1, what="a segment")
    first = (await site.query("port_gate"))["segments"][0]
    _info, file = await manager.async_segment_file("port_gate", first["id"])
    data = file.read_bytes()
    jobs: list[list[str]] = []
    inserts: list[list[str]] = []
    finish, add = manager._finish_segments, index.add_segments

    def spy_finish(segments: list[IncomingSegment]) -> Any:
        jobs.append([segment.path.name for segment in segments])
        return finish(segments)

    def spy_add(session: Any, infos: list[dict[str, Any]]) -> list[int]:
        inserts.append([info["path"] for info in infos])
        return add(session, infos)

    monkeypatch.setattr(manager, "_finish_segments", spy_finish)
    monkeypatch.setattr(index, "add_segments", spy_add)
    now = site.hub.clock.time()
    (cam.incoming / "dup").mkdir()
    names = ["998-000001.mp4", "998-000002.mp4", "998-000003.mp4", "dup/998-000001.mp4"]
    for name in names:
        (cam.incoming / name).write_bytes(data)
    starts = [now + 200, now + 204, now + 208, now + 200]  # the last one's final path is the first one's
    futures = [manager.queue_segment(cam, IncomingSegment("port_gate", cam.incoming / name, start, start + 4, 998))
               for name, start in zip(names, starts, strict=True)]
    stored = [await future for future in futures]
    # one read job for the four (other cameras' segments may share it), one insert of the four, refused
    # (a path twice), then row by row: only the duplicate is left out
    mine = [[name for name in job if name.startswith("998-")] for job in jobs if "998-000002.mp4" in job]
    assert mine == [[Path(name).name for name in names]]
    ours = [[path for path in rows if "998-" in path] for rows in inserts if any("998-" in path for path in rows)]
    assert len(ours) == 5 and len(ours[0]) == 4 and all(len(rows) == 1 for rows in ours[1:])
    assert [s is not None for s in stored] == [True, True, True, False]
    for segment in stored[:3]:
        assert segment is not None and segment.status == "ok" and segment.sha256 == first["sha256"]
        assert _sha(manager.storage / segment.path) == segment.sha256
    assert {s.segment_id for s in stored[:3] if s is not None} <= \
        {s["id"] for s in (await manager.async_query("port_gate", now + 150, now + 250))["segments"]}
