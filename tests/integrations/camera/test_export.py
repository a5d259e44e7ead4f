"""Recorded clips as evidence: real segments from the simulator's RTSP cameras go into the signed zip with their
sha256 and a video manifest, locked while the export exists, audited; `hacho evidence verify` checks the
hashes and that every segment plays (ffprobe), and names a tampered segment."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hacho.__main__ import main
from hub.audit import get_audit
from hub.core import Context
from hub.evidence import async_setup_evidence, verify_bundle
from hub.evidence.providers import ClipRequest
from hub.exceptions import Unauthorized
from hub.recorder import get_recorder
from integrations.camera import index
from integrations.camera.clips import ClipExporter

from .conftest import VideoSite, start_video_site, stop_video_site

SUPERVISOR = Context(user_id="sup_l", centre="local_police")


async def _recorded(site: VideoSite, camera_id: str, segments: int) -> tuple[float, float]:
    camera = site.manager.cameras[camera_id]
    await site.wait_for(lambda: camera.segments >= segments, what=f"{segments} segments of {camera_id}")
    listing = await site.query(camera_id)
    ok = [s for s in listing["segments"] if s["status"] == "ok"]
    return ok[0]["start"] + 0.1, ok[-1]["end"] - 0.1


async def _export(site: VideoSite, **data: Any) -> dict[str, Any]:
    answer = await site.hub.services.async_call("evidence", "export", {
        "reason": "Vehículo sospechoso en la puerta del puerto", "case_reference": "DP 15/2026", **data},
        context=SUPERVISOR, return_response=True)
    assert isinstance(answer, dict)
    return answer


def _manifest(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as bundle:
        return dict(json.loads(bundle.read("manifest.json")))


def _rewrite(source: Path, target: Path, change: str) -> None:
    """Copy the zip, flipping one byte in the middle of `change` (a tampered segment)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == change:
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
            new.writestr(info, data)


async def _audit(site: VideoSite, action: str) -> list[dict[str, Any]]:
    audit = get_audit(site.hub)
    assert audit is not None
    return await audit.async_query(action=action, limit=100)


async def _stored(site: VideoSite, segment_id: int) -> Path:
    """The recorded file of a segment."""
    info = await get_recorder(site.hub).async_db_job(lambda s: index.get_segment(s, segment_id))
    assert info is not None
    return site.manager.storage / info.path


async def _locks(site: VideoSite) -> list[dict[str, Any]]:
    return list(await get_recorder(site.hub).async_db_job(lambda s: index.active_locks(s, "")))


@pytest.fixture
async def two_cameras(config_dir: Path, clip_dir: Path) -> Any:
    site = await start_video_site(config_dir, clip_dir, streams=("port_gate", "plaza_reyes"))
    await async_setup_evidence(site.hub)
    yield site
    await stop_video_site(site)


async def test_clip_export_verifies_is_locked_and_audited(two_cameras: VideoSite,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    site = two_cameras
    start, end = await _recorded(site, "port_gate", 4)
    await _recorded(site, "plaza_reyes", 4)
    answer = await _export(site, start=start, end=end, entity_id=["camera.port_gate", "camera.plaza_reyes"])
    path = Path(answer["path"])
    manifest = _manifest(path)

    # every recorded segment of the window, as recorded, with its hash, per camera
    assert [clip["entity_id"] for clip in manifest["video"]] == ["camera.port_gate", "camera.plaza_reyes"]
    with zipfile.ZipFile(path) as bundle:
        for clip in manifest["video"]:
            listing = await site.manager.async_query(clip["camera"], start, end)
            recorded = {s["id"]: s for s in listing["segments"] if s["status"] == "ok"}
            assert [s["segment_id"] for s in clip["segments"]] == list(recorded)
            assert clip["start_ts"] == start and clip["end_ts"] == end and clip["withheld"] == []
            for segment in clip["segments"]:
                data = bundle.read(segment["path"])
                assert segment["sha256"] == segment["recorded_sha256"] == recorded[segment["segment_id"]]["sha256"]
                assert data == (await _stored(site, segment["segment_id"])).read_bytes()
    assert answer["video_segments"] == sum(len(clip["segments"]) for clip in manifest["video"]) >= 6
    assert "camera.port_gate" in manifest["source_devices"]

    result = await site.hub.async_add_executor_job(verify_bundle, path)
    assert result.ok, result.problems
    assert result.video_checked == answer["video_segments"]
    assert await site.hub.async_add_executor_job(main, ["evidence", "verify", str(path)]) == 0
    assert f"{answer['video_segments']} video segments play" in capsys.readouterr().out

    # locked while the export exists: each camera's window, under the export's name, audited
    locks = await _locks(site)
    assert {(lock["camera"], lock["reference"]) for lock in locks} == {
        ("port_gate", f"evidence:{answer['name']}"), ("plaza_reyes", f"evidence:{answer['name']}")}
    lock_audit = await _audit(site, "camera.lock")
    assert {entry["target"] for entry in lock_audit} == {"camera.port_gate", "camera.plaza_reyes"}
    assert all(entry["user_id"] == "sup_l" for entry in lock_audit)

    # the export is audited: who, which cameras, which range, why
    [entry] = await _audit(site, "export")
    assert entry["user_id"] == "sup_l" and entry["target"] == f"evidence/{answer['name']}"
    assert entry["data"]["reason"] == "Vehículo sospechoso en la puerta del puerto"
    assert [(v["camera"], v["start"], v["end"]) for v in entry["data"]["video"]] == [
        ("camera.port_gate", manifest["video"][0]["start"], manifest["video"][0]["end"]),
        ("camera.plaza_reyes", manifest["video"][1]["start"], manifest["video"][1]["end"])]

    # a tampered segment: verify fails and names it
    victim = manifest["video"][0]["segments"][1]["path"]
    tampered = path.with_name("tampered.zip")
    await site.hub.async_add_executor_job(_rewrite, path, tampered, victim)
    result = await site.hub.async_add_executor_job(verify_bundle, tampered)
    assert not result.ok
    assert [p for p in result.problems if p.startswith(victim)], result.problems
    assert await site.hub.async_add_executor_job(main, ["evidence", "verify", str(tampered)]) == 1
    assert victim in capsys.readouterr().err

    # the export deleted: the retention pass releases its locks, audited with why
    await site.hub.async_add_executor_job(path.unlink)
    await site.manager.retention.async_run()
    assert await _locks(site) == []
    unlocks = await _audit(site, "camera.unlock")
    assert len(unlocks) == 2 and all(u["data"]["why"] == "the evidence export was deleted" for u in unlocks)


async def test_alarm_export_takes_the_linked_cameras_clip(two_cameras: VideoSite) -> None:
    from integrations import alarm
    from integrations.alarm.manager import get_manager

    site = two_cameras
    await _recorded(site, "port_gate", 3)
    assert await alarm.async_setup(site.hub, alarm.CONFIG_SCHEMA({"types": [
        {"id": "intrusion", "name": "Intrusión", "severity": "major",
         "sop": [{"id": "look", "title": "Ver la cámara"}]}]}))
    manager = get_manager(site.hub)
    assert manager is not None
    raised = manager.async_raise("intrusion", title="Intrusión en la puerta del puerto", context=Context(),
                                 entities=["camera.port_gate"], area_id="centro")
    await _recorded(site, "port_gate", site.manager.cameras["port_gate"].segments + 2)
    answer = await _export(site, alarm_id=raised.id)
    manifest = _manifest(Path(answer["path"]))
    assert manifest["scope"]["alarm_id"] == raised.id
    [clip] = manifest["video"]  # the alarm names one camera
    assert clip["entity_id"] == "camera.port_gate" and clip["start_ts"] <= raised.raised_ts <= clip["end_ts"]
    assert len(clip["segments"]) >= 3
    result = await site.hub.async_add_executor_job(verify_bundle, Path(answer["path"]))
    assert result.ok, result.problems


async def test_an_altered_recording_is_withheld_and_export_needs_the_grant(two_cameras: VideoSite) -> None:
    from hub.auth import async_setup_permissions
    from hub.auth.users import add_user

    site = two_cameras
    start, end = await _recorded(site, "port_gate", 3)
    listing = await site.manager.async_query("port_gate", start, end)
    first = listing["segments"][0]
    stored = await _stored(site, first["id"])
    await site.hub.async_add_executor_job(lambda: stored.write_bytes(stored.read_bytes()[:-10]))
    answer = await _export(site, start=start, end=end, entity_id=["camera.port_gate"])
    [clip] = _manifest(Path(answer["path"]))["video"]
    assert [w["segment_id"] for w in clip["withheld"]] == [first["id"]]
    assert first["id"] not in [s["segment_id"] for s in clip["segments"]]
    assert (await site.hub.async_add_executor_job(verify_bundle, Path(answer["path"]))).ok

    # with users: an operator may not export video (VIDEO_GRANTS), and nothing stays locked for it
    add_user(site.hub.config_dir, "sup_l", role="supervisor", centre="local_police", password="x" * 12)
    add_user(site.hub.config_dir, "op_l", role="operator", centre="local_police", password="x" * 12)
    await async_setup_permissions(site.hub)
    before = len(await _locks(site))
    exporter = site.manager.clips
    assert isinstance(exporter, ClipExporter)
    with pytest.raises(Unauthorized):
        await exporter.async_collect_clips(site.hub, ClipRequest(
            "evidence_x.zip", start, end, ("camera.port_gate",), "curiosidad", "-",
            Context(user_id="op_l", centre="local_police")))
    assert len(await _locks(site)) == before
    denied = await _audit(site, "camera.export")
    assert denied and denied[0]["outcome"] == "denied" and denied[0]["user_id"] == "op_l"


async def test_press_export_carries_the_clip_blurred_and_playable(two_cameras: VideoSite) -> None:
    pytest.importorskip("cv2")
    site = two_cameras
    start, end = await _recorded(site, "port_gate", 3)
    answer = await _export(site, start=start, end=end, entity_id=["camera.port_gate"], audience="press")
    manifest = _manifest(Path(answer["path"]))
    [clip] = manifest["video"]
    assert manifest["audience"] == "press" and manifest["blurred"] is not None
    assert len(clip["segments"]) >= 2
    for segment in clip["segments"]:  # decoded, blurred and re-encoded: not the recorded bytes
        assert segment["redacted"] is True and segment["sha256"] != segment["recorded_sha256"]
    result = await site.hub.async_add_executor_job(verify_bundle, Path(answer["path"]))
    assert result.ok, result.problems
    assert result.video_checked == len(clip["segments"])
