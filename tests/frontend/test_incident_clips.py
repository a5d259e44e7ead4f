"""Video clips on the incident page, with the simulated site recording real video (GStreamer RTSP simulator,
ffmpeg recorders): an operator adds a clip of a camera they may play back (times typed in Europe/Madrid), and the
alarm's camera clip of a linked alarm; the timeline shows both with a link that plays back from the clip's start;
the PDF report names the camera and the range with the segments' sha256; a camera of the other centre is
refused; removing a clip releases its evidence lock."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.recorder import get_recorder
from integrations.alarm.manager import get_manager
from integrations.camera import DATA_KEY, index
from integrations.simulator.cameras import CAMERAS_SCHEMA, SimulatedCameras, rtsp_server_available
from tests.conftest import free_port

from .conftest import MakeClient
from .site import LOCAL, Site, async_start_site
from .test_incidents import _post_form, _run
from .test_legible import raw_values, visible_text
from .test_plates import async_stop_anpr_site

MADRID = ZoneInfo("Europe/Madrid")
CAMERAS = {"port_gate": ("Puerta del puerto", "port"), "tarajal_lane1": ("Tarajal carril 1", "tarajal")}


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    """The site with incidents and two recording cameras (one per centre)."""
    if not rtsp_server_available():
        pytest.skip("ffmpeg or GStreamer's RTSP server missing (scripts/setup-video.sh)")
    cameras = {"storage_dir": str(config_dir / "video"), "segment_seconds": 1, "restart_initial": 0.2,
               "restart_maximum": 2, "min_free_bytes": 0,
               "cameras": [{"id": cid, "name": name, "area": area, "main": f"sim://{cid}", "unavailable_after": 8}
                           for cid, (name, area) in CAMERAS.items()]}
    running = await async_start_site(config_dir, extra_sections={"camera": cameras, "incident": {}})
    server = SimulatedCameras(running.hub, CAMERAS_SCHEMA({
        "port": free_port(), "clip_dir": str(config_dir / "clips"), "clip_seconds": 6, "fps": 10,
        "streams": [{"id": cid, "width": 320, "height": 180, "bitrate_kbps": 300} for cid in CAMERAS]}))
    assert await server.async_start(timeout=120)
    yield running
    await server.async_stop()
    await async_stop_anpr_site(running)


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts, MADRID).strftime("%Y-%m-%dT%H:%M:%S")


async def _locks(site: Site) -> list[dict[str, Any]]:
    return list(await get_recorder(site.hub).async_db_job(lambda s: index.active_locks(s, "incident:")))


async def test_clips_on_the_incident_page_and_in_the_report(site: Site, make_client: MakeClient) -> None:
    import asyncio

    manager = site.hub.data[DATA_KEY]
    camera = manager.cameras["port_gate"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while camera.segments < 4:
        assert loop.time() < deadline, "no recording of port_gate"
        await asyncio.sleep(0.2)
    listing = await manager.async_query("port_gate", 0, site.hub.clock.time() + 60)
    ok = [s for s in listing["segments"] if s["status"] == "ok"]
    start, end = float(int(ok[1]["start"]) + 1), float(int(ok[2]["end"]))  # whole seconds, as typed
    raised: Any = await site.hub.services.async_call("alarm", "raise", {
        "type": "intrusion", "area_id": "port", "title": "Intrusión en la puerta del puerto",
        "entities": ["camera.port_gate"]}, return_response=True)

    op = await make_client("op_local")
    status, url, page = await _post_form(op, f"/c/{LOCAL}/incidents", {"title": "Salto de valla en el puerto"})
    assert status == 200, page
    incident_url = url
    assert 'id="incident-clip"' in page and ">Puerta del puerto</option>" in page
    assert ">Tarajal carril 1</option>" not in page  # the other centre's camera is not offered
    status, _, page = await _post_form(op, incident_url, {"action": "clip", "camera": "port_gate",
                                                          "start": _local(start), "end": _local(end),
                                                          "text": "Salto por la valla norte"})
    assert status == 200, page
    locks = await _locks(site)
    assert [(lock["camera"], lock["reference"]) for lock in locks] == [
        ("port_gate", f"incident:{incident_url.rsplit('/', 1)[1]}")]

    # Not the other centre's camera (no playback grant): refused, nothing more locked.
    status, _, page = await _post_form(op, incident_url, {"action": "clip", "camera": "tarajal_lane1",
                                                          "start": _local(start), "end": _local(end)})
    assert status == 403, page
    assert len(await _locks(site)) == 1

    # The alarm's camera clip, from the linked alarm's entry.
    status, _, page = await _post_form(op, incident_url, {"action": "link_alarm", "alarm_id": raised["alarm_id"]})
    assert status == 200 and "incident-alarm-clip" in page
    status, _, page = await _post_form(op, incident_url, {"action": "clip", "alarm_id": raised["alarm_id"]})
    assert status == 200, page
    assert re.findall(r'class="incident-item" data-kind="(\w+)"', page) == ["created", "clip", "alarm", "clip"]
    plays = re.findall(r'class="incident-clip-play" href="([^"]+)"', page)
    assert plays[0] == f"/c/{LOCAL}/devices/camera.port_gate?t={start:.3f}"
    alarms = get_manager(site.hub)
    alarm = await alarms.async_get(raised["alarm_id"]) if alarms is not None else None
    assert alarm is not None
    assert float(plays[1].rsplit("=", 1)[1]) == pytest.approx(alarm.raised_ts - 30, abs=0.01)
    status, _ = await op.get(plays[0])
    assert status == 200
    ranges = [html_lib.unescape(r) for r in re.findall(
        r'class="incident-clip" data-camera="port_gate">Puerta del puerto · <span class="nowrap">([^<]+)</span>',
        page)]
    assert len(ranges) == 2 and "Salto por la valla norte" in page
    assert raw_values(visible_text(page)) == []  # names and local times, no ids, reprs or ISO stamps

    async with op.session.get(op.url(f"{incident_url}/report.pdf")) as resp:
        assert resp.status == 200
        pdf = await resp.read()
    flat = " ".join((await _run("pdftotext", "-layout", "-", "-", stdin=pdf)).split())
    assert flat.count("Puerta del puerto ·") >= 2, flat
    assert "Clips de vídeo" in flat or "Video clips" in flat, flat  # the reader's language
    assert "no disponible" not in flat and "not available" not in flat  # every clip has its still frame
    assert ranges[0] in flat, (ranges[0], flat)
    hashes = [s["sha256"] for s in ok[1:3]]
    assert all(digest in flat.replace(" ", "") for digest in hashes)

    # Removing the first clip releases its lock; the alarm's clip keeps its own.
    item_id = re.search(r'name="item_id" value="(\d+)"', page)
    assert item_id is not None
    status, _, page = await _post_form(op, incident_url, {"action": "remove_clip", "item_id": item_id.group(1)})
    assert status == 200, page
    assert len(await _locks(site)) == 1
    assert re.findall(r'class="incident-item" data-kind="(\w+)"', page) == ["created", "alarm", "clip", "removed"]
