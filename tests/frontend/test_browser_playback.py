"""Playback as operators use it, in a real Chromium from real recordings (ffmpeg from the simulator's GStreamer
RTSP server): event markers on the camera's timeline (an alarm raised during recording, an ANPR read of the
camera's area; another area's read left out), a click on a marker seeking to its time less the pre-roll,
frame steps of one frame (the test clip runs at 10 fps), and two cameras played in sync from one timeline.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.audit import get_audit
from hub.core import Context
from hub.recorder import get_recorder
from integrations.alarm.manager import get_manager
from integrations.camera import DATA_KEY

from . import test_browser_video as video
from .browser import screenshot
from .site import LOCAL, NATIONAL, Site
from .test_browser_video import LOCAL_CAMERA, NATIONAL_CAMERA, _plays

# The video module's fixtures, for a site of this module's own (module scope).
video_site = video.video_site
browser = video.browser
open_page = video.open_page
cheap_hashes = video.cheap_hashes

pytestmark = pytest.mark.asyncio(loop_scope="module")

FRAME = 0.1  # the simulator's clips of this module run at 10 fps
PRE_ROLL = 10.0  # frontend.const.ALARM_PRE_ROLL


async def _recorded(site: Site, camera_id: str, segments: int) -> None:
    camera = site.hub.data[DATA_KEY].cameras[camera_id]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    while camera.segments < segments:
        assert loop.time() < deadline, f"{camera_id}: no recording"
        await asyncio.sleep(0.2)


async def _recorded_together(site: Site, cameras: tuple[str, ...], seconds: float) -> float:
    """The end of the latest stretch that every camera recorded without a gap for `seconds` (waits up to 90 s
    for one): a recorder restarted under load leaves a gap in one camera's recording, and a synchronised
    playback started in it would wait for that camera."""
    manager = site.hub.data[DATA_KEY]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    while True:
        now = site.hub.clock.time()
        common: list[tuple[float, float]] = [(now - 600, now)]
        for camera_id in cameras:
            ranges = (await manager.async_query(camera_id, now - 600, now))["ranges"]
            common = [(max(lo, a), min(hi, b)) for lo, hi in common for a, b in ranges if min(hi, b) > max(lo, a)]
        long_enough = [hi for lo, hi in common if hi - lo >= seconds]
        if long_enough:
            return max(long_enough)
        assert loop.time() < deadline, f"{cameras}: no common recording of {seconds} s"
        await asyncio.sleep(0.5)


async def _state_purpose(page: Any, purpose: str = "Revisión de la intrusión del puerto") -> None:
    """Fill and send the playback's purpose form (nothing recorded is listed or fetched before it)."""
    await page.wait_for_selector("#pb-purpose-text")
    assert await page.query_selector("#pb-timeline .rec") is None
    await page.fill("#pb-purpose-text", purpose)
    await page.click("#pb-purpose-go")


async def test_markers_show_an_alarm_and_a_click_plays_from_before_it(open_page: Any, video_site: Any) -> None:
    site: Site = video_site[0]
    await _recorded(site, LOCAL_CAMERA, 14)  # more than the pre-roll recorded before the alarm
    alarms = get_manager(site.hub)
    assert alarms is not None
    alarm = alarms.async_raise("intrusion", title="Intrusión en la puerta del puerto", context=Context(),
                               entities=[f"camera.{LOCAL_CAMERA}"], area_id="port")
    site.hub.bus.async_fire("anpr_plate_read", {"camera": "port_lane", "area": "port", "plate": "1234BCD",
                                                "plate_hash": "h1", "direction": "approaching"})
    site.hub.bus.async_fire("anpr_plate_read", {"camera": "tarajal_in", "area": "tarajal", "plate": "9999ZZZ",
                                                "plate_hash": "h2", "direction": "approaching"})
    await get_recorder(site.hub).async_flush()
    page = await open_page("op_local", f"/c/{LOCAL}/devices/camera.{LOCAL_CAMERA}")
    await _state_purpose(page)
    await page.wait_for_selector("#pb-timeline .marker-alarm", state="attached", timeout=20000)
    markers = await page.eval_on_selector_all(
        "#pb-timeline .marker", "ms => ms.map(m => [m.dataset.kind, Number(m.dataset.ts), m.title])")
    kinds = {kind for kind, _ts, _title in markers}
    assert kinds == {"alarm", "anpr"}, markers
    alarm_marker = next(m for m in markers if m[0] == "alarm")
    assert abs(alarm_marker[1] - alarm.raised_ts) < 0.01 and "Intrusión" in alarm_marker[2]
    labels = [title for kind, _ts, title in markers if kind == "anpr"]
    assert labels == ["Lectura de matrícula: 1234BCD"], labels  # Spanish, the operator may read plates,
    # and not the read of the National Police's area
    audit = get_audit(site.hub)
    assert audit is not None
    await audit.async_flush()
    shown = await audit.async_query(action="camera.markers", user_id="op_local")
    assert shown and shown[-1]["data"]["plates"] == 1 and shown[-1]["target"] == f"camera.{LOCAL_CAMERA}"

    await page.click("#pb-timeline .marker-alarm")
    await _plays(page, "#pb-video")
    requested = float(await page.eval_on_selector("#pb-video", "v => v.dataset.requested"))
    assert abs(requested - (alarm.raised_ts - PRE_ROLL)) < 0.01
    first_wall = float(await page.eval_on_selector("#pb-video", "v => v.dataset.wall"))
    assert requested - 0.2 <= first_wall <= requested + 5, (first_wall, requested)
    await screenshot(page, "video-04-markers")

    # frame steps, paused: one frame (0.1 s at 10 fps) forward, then back
    await page.click("#pb-step-forward")
    assert await page.eval_on_selector("#pb-video", "v => v.paused")
    before = float(await page.eval_on_selector("#pb-video", "v => v.currentTime"))
    await page.click("#pb-step-forward")
    after = float(await page.eval_on_selector("#pb-video", "v => v.currentTime"))
    assert after - before == pytest.approx(FRAME, abs=0.002)
    await page.click("#pb-step-back")
    await page.click("#pb-step-back")
    back = float(await page.eval_on_selector("#pb-video", "v => v.currentTime"))
    assert before - back == pytest.approx(FRAME, abs=0.002)
    await page.wait_for_function("() => document.querySelector('#pb-video').readyState >= 2")


async def test_markers_refused_without_the_playback_grant(open_page: Any, video_site: Any) -> None:
    page = await open_page("op_national", f"/c/{NATIONAL}/cameras")
    status = await page.evaluate("""async ([centre, camera]) => (await fetch(
        `/c/${centre}/api/cameras/${camera}/markers?start=0&end=60`, {credentials: "same-origin"})).status""",
                                 [NATIONAL, LOCAL_CAMERA])
    assert status == 403


_DRIFT = """() => {
    const [a, b] = Array.from(document.querySelectorAll("#sync-grid video"));
    const wall = (v) => v.currentTime + Number(v.dataset.base);
    return {drift: Math.abs(wall(a) - wall(b)), paused: [a.paused, b.paused], times: [a.currentTime, b.currentTime],
            rates: [a.playbackRate, b.playbackRate], walls: [wall(a), wall(b)]};
}"""


async def _drifts(page: Any, samples: int, pause_s: float) -> list[float]:
    found = []
    for _ in range(samples):
        result = await page.evaluate(_DRIFT)
        found.append(result["drift"])
        await asyncio.sleep(pause_s)
    return found


async def test_two_cameras_play_in_sync_and_stay_so_after_a_seek(open_page: Any, video_site: Any) -> None:
    site: Site = video_site[0]
    # 40 s both cameras recorded without a gap (1-second segments); play 35 s before its end, well before
    # what the page lists when it opens
    start = await _recorded_together(site, (LOCAL_CAMERA, NATIONAL_CAMERA), 40) - 35
    page = await open_page("admin", f"/c/{LOCAL}/playback?cameras={LOCAL_CAMERA},{NATIONAL_CAMERA}&t={start:.3f}")
    await _state_purpose(page, "Comparar las dos cámaras del puerto")
    assert await page.eval_on_selector_all("#sync-grid video", "vs => vs.map(v => v.dataset.camera)") == [
        LOCAL_CAMERA, NATIONAL_CAMERA]
    await _plays(page, "#sync-grid figure:nth-child(1) video")
    await _plays(page, "#sync-grid figure:nth-child(2) video")
    await asyncio.sleep(1.0)  # the follower caught up
    drifts = await _drifts(page, 10, 0.3)
    assert max(drifts) < 0.2, drifts
    assert await page.eval_on_selector_all("#pb-timeline .row", "rows => rows.length") == 2
    # a seek elsewhere in the recording: both show that time and stay together
    target = start + 10
    await page.evaluate("(ts) => window.hachoSync.seek(ts)", target)
    await page.wait_for_function("() => !document.querySelector('#sync-grid video').paused")
    await asyncio.sleep(1.0)
    drifts = await _drifts(page, 8, 0.3)
    assert max(drifts) < 0.2, drifts
    # a frame step pauses both on the same frame
    await page.click("#pb-step-forward")
    await asyncio.sleep(0.3)
    result = await page.evaluate(_DRIFT)
    assert result["paused"] == [True, True] and result["drift"] < 0.2, result
    await screenshot(page, "video-05-sync")
