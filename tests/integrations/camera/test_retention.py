"""Retention on real recordings: by days, by a disk watermark, evidence locks surviving both, audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.audit import get_audit
from integrations.simulator.cameras import SimulatedCameras

from .conftest import VideoSite, camera_conf, start_video_site, stop_video_site

DAYS = 0.0001  # 8.64 s


async def _stop_recording(site: VideoSite) -> None:
    """Stop every recorder and let its last segment be indexed, so the index stands still."""
    for camera in site.manager.cameras.values():
        await camera.async_stop()
    await site.hub.async_block_till_done()


def _files_on_disk(site: VideoSite) -> set[str]:
    storage = site.manager.storage
    return {str(p.relative_to(storage)) for p in storage.rglob("*.mp4") if "incoming" not in p.parts}


async def _paths(site: VideoSite) -> set[str]:
    from sqlalchemy import select

    from hub.recorder import get_recorder
    from integrations.camera.models import CameraSegmentRow

    return set(await get_recorder(site.hub).async_db_job(
        lambda s: s.scalars(select(CameraSegmentRow.path)).all()))


async def test_retention_by_days_keeps_locked_segments_and_audits(config_dir: Path, clip_dir: Path) -> None:
    def cameras(server: SimulatedCameras) -> list[dict[str, Any]]:
        return [camera_conf("tarajal_lane1", server, retention_days=DAYS)]

    site = await start_video_site(config_dir, clip_dir, streams=("tarajal_lane1",), cameras=cameras,
                                  retention_interval=3600)
    try:
        cam = site.manager.cameras["tarajal_lane1"]
        await site.wait_for(lambda: cam.segments >= 2, what="two segments")
        first = (await site.query("tarajal_lane1"))["segments"][:2]
        locked = await site.hub.services.async_call(
            "camera", "lock_recording", {"entity_id": "camera.tarajal_lane1", "start": first[0]["start"],
                                         "end": first[1]["end"] - 0.01, "reference": "alarm:test"},
            return_response=True)
        assert locked is not None
        await site.wait_for(lambda: cam.segments >= 2 and site.hub.clock.time() - first[1]["end"] > 13,
                            what="13 s more recording")
        await _stop_recording(site)
        before = (await site.query("tarajal_lane1"))["segments"]
        result = await site.hub.services.async_call("camera", "purge_recordings", {}, return_response=True)
        cutoff = site.hub.clock.time() - DAYS * 86400
        assert result is not None
        left = (await site.query("tarajal_lane1"))["segments"]
        locked_ids = {s["id"] for s in first}
        expected = [s for s in before if s["id"] in locked_ids or s["end"] >= cutoff - 0.5]
        assert {s["id"] for s in left} >= locked_ids  # expired, but locked: kept
        assert len(left) <= len(expected) and len(left) < len(before)
        assert result["expired"] == len(before) - len(left)
        assert _files_on_disk(site) == await _paths(site)  # files and rows went together
        # releasing the lock lets them go on the next pass
        await site.hub.services.async_call("camera", "unlock_recording",
                                           {"entity_id": "camera.tarajal_lane1", "lock_id": locked["lock_id"]})
        await site.hub.services.async_call("camera", "purge_recordings", {})
        assert not locked_ids & {s["id"] for s in (await site.query("tarajal_lane1"))["segments"]}
        audit = get_audit(site.hub)
        assert audit is not None
        await audit.async_flush()
        actions = [e["action"] for e in await audit.async_query()]
        assert {"camera.lock", "camera.unlock", "camera.retention"} <= set(actions)
    finally:
        await stop_video_site(site)


async def test_watermark_deletes_oldest_unlocked_first_and_spares_locks(config_dir: Path, clip_dir: Path) -> None:
    site = await start_video_site(config_dir, clip_dir, streams=("port_gate", "plaza_reyes"),
                                  retention_interval=3600)
    try:
        cams = site.manager.cameras
        await site.wait_for(lambda: all(c.segments >= 6 for c in cams.values()), what="six segments each")
        await _stop_recording(site)
        port = (await site.query("port_gate"))["segments"]
        oldest = port[0]
        await site.manager.async_lock("port_gate", oldest["start"], oldest["end"] - 0.01, "export:1", None)
        everything = sorted(port + (await site.query("plaza_reyes"))["segments"], key=lambda s: s["start"])
        total = sum(s["bytes"] for s in everything)
        limit = total // 2
        site.manager.config["max_bytes"] = limit  # the high watermark, now exceeded
        result = await site.manager.retention.async_run()
        low = int(limit * site.manager.config["low_watermark"])
        assert result["watermark"] > 0 and result["bytes"] <= low
        left = (await site.query("port_gate"))["segments"] + (await site.query("plaza_reyes"))["segments"]
        left_ids = {s["id"] for s in left}
        assert oldest["id"] in left_ids  # locked: the oldest of all, still there
        gone = [s for s in everything if s["id"] not in left_ids]
        kept = [s for s in everything if s["id"] in left_ids and s["id"] != oldest["id"]]
        assert max(s["start"] for s in gone) <= min(s["start"] for s in kept)  # oldest unlocked went first
        assert sum(s["bytes"] for s in left) == result["bytes"]
        assert _files_on_disk(site) == await _paths(site)
        # nothing more goes while under the watermark
        assert (await site.manager.retention.async_run())["watermark"] == 0
    finally:
        await stop_video_site(site)


async def test_an_alarm_naming_a_camera_locks_its_recordings_as_evidence(config_dir: Path, clip_dir: Path) -> None:
    from integrations import alarm

    site = await start_video_site(config_dir, clip_dir, streams=("port_gate",), retention_interval=3600,
                                  alarm_lock={"before": 2, "after": 1})
    assert await alarm.async_setup(site.hub, alarm.CONFIG_SCHEMA(
        {"types": [{"id": "intrusion", "severity": "major", "sla_ack_seconds": 120}]}))
    try:
        cam = site.manager.cameras["port_gate"]
        await site.wait_for(lambda: cam.segments >= 3, what="three segments")
        raised = await site.hub.services.async_call("alarm", "raise", {
            "type": "intrusion", "area_id": "centro", "entities": ["camera.port_gate"]}, return_response=True)
        assert raised is not None
        await site.wait_for(lambda: site.of("camera_lock_changed"), what="the alarm's lock")
        lock = site.of("camera_lock_changed")[0].data
        assert lock["reference"] == f"alarm:{raised['alarm_id']}" and lock["camera"] == "port_gate"
        assert lock["end"] - lock["start"] == 3
        await site.wait_for(lambda: site.hub.clock.time() > lock["end"] + 2, what="past the lock")
        await _stop_recording(site)
        before = (await site.query("port_gate"))["segments"]
        site.manager.config["max_bytes"] = 1  # everything unlocked must go
        await site.manager.retention.async_run()
        left = (await site.query("port_gate"))["segments"]
        assert left and len(left) < len(before)
        assert all(s["start"] < lock["end"] and s["end"] > lock["start"] for s in left)  # exactly the alarm's
        audit = get_audit(site.hub)
        assert audit is not None
        await audit.async_flush()
        locks = await audit.async_query(action="camera.lock")
        assert [e["data"]["reference"] for e in locks] == [lock["reference"]]
    finally:
        await alarm.async_unload(site.hub)
        await stop_video_site(site)
