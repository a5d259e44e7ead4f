"""The REST API for recorded video with real users: permissions per grant and centre, verified segments,
corrupt ones refused, audited playback; snapshots as JPEG through the service and REST."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import signal
from typing import Any

import cv2
import numpy as np
import pytest

from hub.audit import get_audit
from integrations.camera.recorder import IncomingSegment

from .conftest import Api, VideoSite

PURPOSE = "Alarma intrusión puerto 42"
WHY = "purpose=Alarma+intrusi%C3%B3n+puerto+42"


def _range(site: VideoSite) -> str:
    now = site.hub.clock.time()
    return f"start={now - 600}&end={now + 60}"


async def test_playback_is_permission_checked_verified_and_audited(api: Api) -> None:
    site = api.site
    await site.wait_for(lambda: all(c.segments >= 2 for c in site.manager.cameras.values()), what="segments")
    path = f"/api/camera/port_gate/recordings?{_range(site)}"
    assert (await api.get(path, None))[0] == 401
    assert (await api.get(path, "op_n"))[0] == 403  # port_gate is in centro: the local police's
    assert (await api.get(path, "eng"))[0] == 403  # engineers may view live, not play back
    assert (await api.get("/api/camera/port_gate/recordings?start=x&end=1", "op_l"))[0] == 400
    status, body, _ = await api.get(path, "op_l")
    assert status == 200
    import json

    listing: dict[str, Any] = json.loads(body)
    segment = listing["segments"][0]
    status, video, headers = await api.get(f"/api/camera/port_gate/segments/{segment['id']}?{WHY}", "op_l")
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    assert hashlib.sha256(video).hexdigest() == segment["sha256"] == headers["X-Segment-Sha256"]
    assert video[4:8] == b"ftyp"
    assert (await api.get(f"/api/camera/port_gate/segments/{segment['id']}", "op_n"))[0] == 403
    assert (await api.get(f"/api/camera/tarajal_lane1/segments/{segment['id']}?{WHY}", "op_n"))[0] == 404
    audit = get_audit(site.hub)
    assert audit is not None
    await audit.async_flush()
    entries = await audit.async_query(action="camera.playback")
    played = [e for e in entries if e["outcome"] == "ok"]
    assert len(played) == 1 and played[0]["user_id"] == "op_l" and played[0]["target"] == "camera.port_gate"
    assert played[0]["data"]["start"] == segment["start"] and played[0]["data"]["purpose"] == PURPOSE
    assert {e["user_id"] for e in entries if e["outcome"] == "denied"} == {"op_n", "eng"}


async def test_playback_needs_a_purpose_and_is_audited_once_per_range(api: Api) -> None:
    site = api.site
    await site.wait_for(lambda: site.manager.cameras["port_gate"].segments >= 3, what="segments")
    listing = await site.query("port_gate")
    first, second, third = listing["segments"][:3]
    url = f"/api/camera/port_gate/segments/{first['id']}"
    for query in ("", "?purpose=", "?purpose=++ver++", "?purpose=" + "x" * 501):
        status, body, _ = await api.get(url + query, "op_l")
        assert status == 400 and b"'purpose' is required" in body, (query, body)
    audit = get_audit(site.hub)
    assert audit is not None
    await audit.async_flush()
    assert not await audit.async_query(action="camera.playback")  # a refused request plays nothing
    # the segments of one playback (same user, camera and purpose, one after another): one audit row
    for segment in (first, second, third):
        assert (await api.get(f"/api/camera/port_gate/segments/{segment['id']}?{WHY}", "op_l"))[0] == 200
    await audit.async_flush()
    rows = await audit.async_query(action="camera.playback")
    assert len(rows) == 1, rows
    assert rows[0]["data"]["purpose"] == PURPOSE and rows[0]["data"]["camera"] == "port_gate"
    assert rows[0]["data"]["start"] == first["start"] and rows[0]["target"] == "camera.port_gate"
    # another purpose is another playback; a listing asked with a purpose audits the range it lists
    assert (await api.get(f"{url}?purpose=Denuncia+robo+veh%C3%ADculo", "op_l"))[0] == 200
    now = site.hub.clock.time()
    status, _, _ = await api.get(f"/api/camera/port_gate/recordings?start={now - 600}&end={now + 60}"
                                 "&purpose=Revisi%C3%B3n+del+turno+de+noche", "op_l")
    assert status == 200
    await audit.async_flush()
    rows = await audit.async_query(action="camera.playback")
    assert len(rows) == 3
    by_purpose = {row["data"]["purpose"]: row["data"] for row in rows}
    assert set(by_purpose) == {PURPOSE, "Denuncia robo vehículo", "Revisión del turno de noche"}
    assert by_purpose["Revisión del turno de noche"]["start"] == now - 600
    assert by_purpose["Revisión del turno de noche"]["end"] == now + 60


async def test_altered_and_corrupt_segments_are_refused(api: Api) -> None:
    site = api.site
    cam = site.manager.cameras["port_gate"]
    await site.wait_for(lambda: cam.segments >= 2, what="segments")
    listing = await site.query("port_gate")
    victim = listing["segments"][0]
    info, file = await site.manager.async_segment_file("port_gate", victim["id"])
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])  # truncated on disk after indexing
    status, body, _ = await api.get(f"/api/camera/port_gate/segments/{victim['id']}?{WHY}", "op_l")
    assert status == 409 and b"sha256" in body
    assert site.of("camera_segment_corrupt")[-1].data["reason"] == "sha256 mismatch"
    # a segment that fails ffprobe when it is finished is indexed as corrupt, never served, not a range
    garbage = cam.incoming / "999-000001.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(4000))
    now = site.hub.clock.time()
    stored = await site.manager.async_index_segment(cam, IncomingSegment("port_gate", garbage, now + 100,
                                                                         now + 101, 999))
    assert stored is not None and stored.status == "corrupt"
    assert not garbage.exists() and (site.manager.storage / stored.path).parent.name == "corrupt"
    status, _, _ = await api.get(f"/api/camera/port_gate/segments/{stored.segment_id}?{WHY}", "op_l")
    assert status == 409
    # a segment cut short (ffmpeg killed while writing, disk full) is caught the same way
    cut = cam.incoming / "999-000002.mp4"
    cut.write_bytes(data[: len(data) - 1000])
    truncated = await site.manager.async_index_segment(cam, IncomingSegment("port_gate", cut, now + 101,
                                                                            now + 102, 999))
    assert truncated is not None and truncated.status == "corrupt"
    assert [e.data["reason"] for e in site.of("camera_segment_corrupt")][-1].startswith("truncated")
    result = await site.manager.async_query("port_gate", now - 600, now + 600)
    assert all(not (r[0] <= now + 100.5 <= r[1]) for r in result["ranges"])
    assert all(not (r[0] <= now + 101.5 <= r[1]) for r in result["ranges"])
    assert info.sha256 == victim["sha256"]


async def test_snapshot_service_and_view_return_a_jpeg(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    site = api.site
    await site.wait_for(lambda: site.manager.cameras["port_gate"].available, what="camera available")
    response = await site.hub.services.async_call("camera", "snapshot", {"entity_id": "camera.port_gate"},
                                                  return_response=True)
    assert response is not None and response["content_type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(base64.b64decode(response["jpeg_base64"]), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (180, 320)
    assert float(image.std()) > 10  # a test pattern, not a blank frame
    status, jpeg, headers = await api.get("/api/camera/port_gate/snapshot?stream=sub&width=160", "eng")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    small = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert small is not None and small.shape[1] == 160
    assert (await api.get("/api/camera/port_gate/snapshot", "op_n"))[0] == 403
    # a killed recorder logs why it restarts, never the stream's password
    pid = site.manager.cameras["port_gate"].process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await site.wait_for(lambda: site.of("camera_recording_gap"), what="gap")
    await site.wait_for(lambda: site.manager.cameras["port_gate"].process.pid not in (None, pid), what="restart")
    assert "s3cret-pa55" not in caplog.text
