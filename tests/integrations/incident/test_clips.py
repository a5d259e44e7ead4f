"""Video clips in an incident, on real recordings (GStreamer RTSP simulator, ffmpeg recorders): adding one locks
the camera's segments so retention keeps them, the timeline carries it, the PDF report names the camera and the
range (Europe/Madrid) with a still frame and the segments' sha256, a clip of a camera the user may not play back
is refused (and audited), and removing the clip releases the lock."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from hub.audit import get_audit
from hub.auth import async_setup_permissions
from hub.auth.users import add_user
from hub.core import Context
from hub.exceptions import Unauthorized
from hub.recorder import get_recorder
from integrations import incident
from integrations.camera import index
from integrations.incident.clips import async_clip_evidence
from integrations.incident.models import IncidentItemRow, IncidentRow
from integrations.incident.report import build_report
from tests.conftest import REQUIRE_SERVICES
from tests.integrations.camera.conftest import VideoSite, start_video_site, stop_video_site

OPERATOR = Context(user_id="op_l", centre="local_police")
MADRID = ZoneInfo("Europe/Madrid")


def _when(value: Any) -> str:
    return datetime.fromtimestamp(float(value), MADRID).strftime("%d/%m/%Y %H:%M:%S")


async def _audit(site: VideoSite, action: str) -> list[dict[str, Any]]:
    audit = get_audit(site.hub)
    assert audit is not None
    await audit.async_flush()
    return list(await audit.async_query(action=action))


async def _pdftotext(pdf: bytes) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        if REQUIRE_SERVICES:
            pytest.fail("pdftotext is not installed (scripts/setup-test-deps.sh installs poppler-utils)")
        pytest.skip("pdftotext is not installed")
    proc = await asyncio.create_subprocess_exec(tool, "-layout", "-", "-", stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(pdf)
    return " ".join(out.decode().split())


async def test_a_clip_locks_its_segments_shows_in_the_timeline_and_the_report(config_dir: Path,
                                                                               clip_dir: Path) -> None:
    site = await start_video_site(config_dir, clip_dir, streams=("port_gate", "tarajal_lane1"),
                                  retention_interval=3600)
    try:
        add_user(config_dir, "op_l", role="operator", centre="local_police", password="x" * 12)
        add_user(config_dir, "eng_l", role="engineer", centre="local_police", password="x" * 12)
        await async_setup_permissions(site.hub)
        assert await incident.async_setup(site.hub, {})
        cam = site.manager.cameras["port_gate"]
        await site.wait_for(lambda: cam.segments >= 4, what="four segments")
        segments = [s for s in (await site.query("port_gate"))["segments"] if s["status"] == "ok"]
        start, end = segments[1]["start"] + 0.05, segments[2]["end"] - 0.05
        call = site.hub.services.async_call
        created: Any = await call("incident", "create", {"title": "Persona sospechosa en la puerta del puerto"},
                                  context=OPERATOR, return_response=True)
        incident_id = created["incident_id"]
        added: Any = await call("incident", "add_clip", {"incident_id": incident_id, "camera": "camera.port_gate",
                                                         "start": start, "end": end, "text": "Entrada por la valla"},
                                context=OPERATOR, return_response=True)
        assert added["item"]["kind"] == "clip"
        assert added["item"]["clip"]["camera"] == "port_gate" and added["item"]["clip"]["start"] == round(start, 3)
        lock = next(e.data for e in site.of("camera_lock_changed") if e.data["locked"])
        assert lock["reference"] == f"incident:{incident_id}" and lock["camera"] == "port_gate"
        assert [e["user_id"] for e in await _audit(site, "camera.lock")] == ["op_l"]

        # The other centre's camera: no playback grant for this operator, refused and audited, nothing locked.
        with pytest.raises(Unauthorized):
            await call("incident", "add_clip", {"incident_id": incident_id, "camera": "tarajal_lane1",
                                                "start": start, "end": end}, context=OPERATOR)
        denied = await _audit(site, "incident.add_clip")
        assert denied and denied[0]["outcome"] == "denied" and denied[0]["user_id"] == "op_l"
        assert len([e for e in site.of("camera_lock_changed") if e.data["locked"]]) == 1

        # Retention that would take every unlocked segment keeps exactly the clip's.
        for camera in site.manager.cameras.values():
            await camera.async_stop()
        await site.hub.async_block_till_done()
        site.manager.config["max_bytes"] = 1
        await site.manager.retention.async_run()
        left = (await site.query("port_gate"))["segments"]
        assert {segments[1]["id"], segments[2]["id"]} <= {s["id"] for s in left}
        assert all(s["start"] < end and s["end"] > start for s in left)

        # The timeline carries it; the report names the camera, the Madrid range, the hashes and has its still.
        manager = incident.get_incidents(site.hub)
        assert manager is not None
        found = await manager.async_get(incident_id)
        assert found is not None
        clip_item = next(i for i in found["timeline"] if i["kind"] == "clip")
        assert clip_item["text"] == "Port Gate · Entrada por la valla"
        evidence = await async_clip_evidence(site.hub, found)
        assert evidence[clip_item["item_id"]].still_jpeg is not None
        assert evidence[clip_item["item_id"]].sha256 == [s["sha256"] for s in segments[1:3]]
        report = found
        pdf = await site.hub.async_add_executor_job(
            lambda: build_report(report, config_dir, when=_when, labels={}, site="Ceuta", generated_by="op_l",
                                 clips=evidence))
        text = await _pdftotext(pdf)
        assert f"Camera: Port Gate · {_when(start)} \N{EN DASH} {_when(end)}" in text, text
        for digest in evidence[clip_item["item_id"]].sha256:
            assert digest in text.replace(" ", "")
        assert "Video clips" in text and "(still frame not available)" not in text

        # Taking the clip out releases the lock (audited); the next retention pass lets the segments go.
        await call("incident", "remove_clip", {"incident_id": incident_id, "item_id": clip_item["item_id"]},
                   context=OPERATOR)
        released = await _audit(site, "camera.unlock")
        assert released and released[0]["data"]["reference"] == f"incident:{incident_id}"
        found = await manager.async_get(incident_id)
        assert found is not None and [i["kind"] for i in found["timeline"]] == ["created", "removed"]
        await site.manager.retention.async_run()
        assert not {segments[1]["id"], segments[2]["id"]} & {s["id"] for s in (await site.query("port_gate"))
                                                              ["segments"]}

        # An incident that goes from the database (deleted, purged) leaves no lock behind once the hub restarts.
        await call("incident", "add_clip", {"incident_id": incident_id, "camera": "port_gate", "start": start,
                                            "end": end}, context=OPERATOR)
        await incident.async_unload(site.hub)
        await get_recorder(site.hub).async_db_job(lambda s: (
            s.execute(delete(IncidentItemRow).where(IncidentItemRow.incident_id == incident_id)),
            s.execute(delete(IncidentRow).where(IncidentRow.incident_id == incident_id))))
        assert await incident.async_setup(site.hub, {})
        released = await _audit(site, "camera.unlock")
        assert len(released) == 2 and released[0]["data"]["why"] == "the incident was deleted"
        assert not await get_recorder(site.hub).async_db_job(lambda s: index.active_locks(s, "incident:"))
        await incident.async_unload(site.hub)
    finally:
        await stop_video_site(site)
