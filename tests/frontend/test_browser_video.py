"""Live video, the camera wall and playback in a real Chromium (Debian's, through Playwright), from real
ffmpeg processes reading the simulator's GStreamer RTSP server, through the hub's websocket into Media
Source Extensions.

The Local Police's camera shows SMPTE HD bars: pixels read back from the playing video (a canvas
drawImage) are compared with the same clip decoded by ffmpeg here. The National Police's operator is
refused that camera on the page, over REST and over the websocket.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from hub.auth import passwords
from hub.core import Context
from integrations.alarm.manager import get_manager
from integrations.camera import DATA_KEY
from integrations.camera.hls import DATA_HLS
from integrations.camera.live import DATA_LIVE
from integrations.simulator.cameras import CAMERAS_SCHEMA, SimulatedCameras, rtsp_server_available
from tests.conftest import free_port

from .browser import launched_chromium, login, require_chromium, screenshot
from .site import LOCAL, NATIONAL, Site, async_start_site, async_stop_site

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOCAL_CAMERA = "port_gate"  # area port: the Local Police's; SMPTE bars
NATIONAL_CAMERA = "tarajal_lane1"  # area tarajal: the National Police's, not shared
WIDTH, HEIGHT = 320, 180


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    """Overrides the package fixture: the module's site set the cheap hasher for its whole life."""
    yield


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def video_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Site, SimulatedCameras]]:
    require_chromium()
    if not rtsp_server_available():
        pytest.skip("ffmpeg or GStreamer's RTSP server missing (scripts/setup-video.sh)")
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    config_dir: Path = tmp_path_factory.mktemp("video")
    cameras = {
        "storage_dir": str(config_dir / "video"), "segment_seconds": 1, "restart_initial": 0.2,
        "restart_maximum": 2, "min_free_bytes": 0,
        "cameras": [{"id": LOCAL_CAMERA, "name": "Puerta del puerto", "area": "port", "main": f"sim://{LOCAL_CAMERA}",
                     "unavailable_after": 8},
                    {"id": NATIONAL_CAMERA, "name": "Tarajal carril 1", "area": "tarajal",
                     "main": f"sim://{NATIONAL_CAMERA}", "unavailable_after": 8}]}
    site = await async_start_site(config_dir, extra_sections={"camera": cameras})
    server = SimulatedCameras(site.hub, CAMERAS_SCHEMA({
        "port": free_port(), "clip_dir": str(config_dir / "clips"), "clip_seconds": 6, "fps": 10,
        "streams": [{"id": LOCAL_CAMERA, "width": WIDTH, "height": HEIGHT, "bitrate_kbps": 300,
                     "pattern": "smptehdbars"},
                    {"id": NATIONAL_CAMERA, "width": WIDTH, "height": HEIGHT, "bitrate_kbps": 300,
                     "pattern": "rgbtestsrc"}]}))
    assert await server.async_start(timeout=120)
    yield site, server
    await server.async_stop()
    await async_stop_site(site)
    passwords.configure_hasher()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(video_site: Any) -> AsyncIterator[Any]:
    async with launched_chromium() as instance:
        yield instance


@pytest_asyncio.fixture(loop_scope="module")
async def open_page(browser: Any, video_site: Any) -> AsyncIterator[Any]:
    """`await open_page("op_local", path)`: a fresh context logged in as that user, at `path`."""
    site: Site = video_site[0]
    contexts: list[Any] = []
    errors: list[str] = []

    async def _open(user: str, path: str, init_script: str | None = None) -> Any:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        if init_script is not None:
            await context.add_init_script(init_script)
        page = await context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: errors.append(f"uncaught: {err}"))
        await login(page, site.base_url, user)
        await page.goto(f"{site.base_url}{path}")
        return page

    yield _open
    for context in contexts:
        await context.close()
    # no script error and no Content-Security-Policy refusal (blob: media, the websocket, posters)
    assert not [e for e in errors if "Content Security Policy" in e or e.startswith(("Refused to", "uncaught"))], errors


async def _plays(page: Any, selector: str, timeout: float = 40000) -> float:
    """Wait until the video element plays frames (its currentTime advances); returns the time reached."""
    await page.wait_for_function(
        """(sel) => { const v = document.querySelector(sel);
                      return v && v.readyState >= 2 && v.currentTime > 0; }""", arg=selector, timeout=timeout)
    first = await page.eval_on_selector(selector, "v => v.currentTime")
    await page.wait_for_function("([sel, t]) => document.querySelector(sel).currentTime > t + 0.5",
                                 arg=[selector, first], timeout=timeout)
    return float(await page.eval_on_selector(selector, "v => v.currentTime"))


def _clip_frame(clip: Path) -> bytes:
    """The clip's first frame as RGB24, decoded by ffmpeg (the bars do not move)."""
    return subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "h264", "-i", str(clip),
                           "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          check=True, capture_output=True, timeout=60).stdout


def _stable_points(frame: bytes) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Sample points inside the bars (away from edges and the burned-in text), with their colour."""
    def rgb(x: int, y: int) -> tuple[int, int, int]:
        i = (y * WIDTH + x) * 3
        return frame[i], frame[i + 1], frame[i + 2]

    points = []
    for y in (int(HEIGHT * 0.35), int(HEIGHT * 0.5)):
        for x in range(10, WIDTH - 10, 12):
            colour = rgb(x, y)
            neighbours = [rgb(x + dx, y + dy) for dx in (-4, 4) for dy in (-4, 4)]
            if all(max(abs(a - b) for a, b in zip(colour, n, strict=True)) < 12 for n in neighbours):
                points.append((x, y, colour))
    return points


_READ_PIXELS = """([sel, points]) => {
    const v = document.querySelector(sel);
    const canvas = document.createElement("canvas");
    canvas.width = v.videoWidth; canvas.height = v.videoHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(v, 0, 0);
    return points.map(([x, y]) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)));
}"""


async def _shows_the_bars(page: Any, server: SimulatedCameras, selector: str) -> None:
    """The playing video's pixels match the camera's SMPTE bars as ffmpeg decodes the clip."""
    assert await page.eval_on_selector(selector, "v => [v.videoWidth, v.videoHeight]") == [WIDTH, HEIGHT]
    expected = _stable_points(_clip_frame(server.clips[LOCAL_CAMERA]))
    assert len(expected) >= 10
    seen = await page.evaluate(_READ_PIXELS, [selector, [[x, y] for x, y, _ in expected]])
    mismatches = [(x, y, want, got) for (x, y, want), got in zip(expected, seen, strict=True)
                  if max(abs(a - b) for a, b in zip(want, got, strict=True)) > 40]
    assert not mismatches, mismatches[:5]
    assert len({tuple(c) for c in seen}) >= 5  # bars, not a blank or single-colour frame


async def test_live_video_plays_the_cameras_test_pattern(open_page: Any, video_site: Any) -> None:
    site, server = video_site
    page = await open_page("op_local", f"/c/{LOCAL}/devices/camera.{LOCAL_CAMERA}")
    await _plays(page, "#live-video")
    assert (await page.eval_on_selector("#live-video", "v => v.dataset.codec")).startswith("avc1.")
    assert await page.eval_on_selector("#live-video", "v => v.dataset.transport") == "mse"
    await _shows_the_bars(page, server, "#live-video")
    assert ("port_gate", "main") in site.hub.data[DATA_LIVE].streams
    await screenshot(page, "video-01-camera-live")


async def test_a_camera_on_the_map_plays_live_in_its_popup(open_page: Any, video_site: Any) -> None:
    site: Site = video_site[0]
    page = await open_page("op_local", f"/c/{LOCAL}/map")
    await page.wait_for_selector("#map[data-features][data-renderer=leaflet]")
    # both cameras are on the map; only the one the viewer may watch plays in its popup
    assert await page.locator("#map path.map-cameras").count() == 2
    await page.get_by_label("Paneles").uncheck()  # the port's panel stands where the camera does
    await page.get_by_label("Dispositivos").uncheck()
    await page.locator(f"#map path.map-camera-{LOCAL_CAMERA}").click()
    await _plays(page, ".leaflet-popup video.map-video")
    assert ("port_gate", "sub") in site.hub.data[DATA_LIVE].streams
    assert "Puerta del puerto" in await page.inner_text(".leaflet-popup-content")
    await screenshot(page, "video-05-map-popup-live")
    # closing the popup stops the player (its socket closes and the element is gone)
    await page.locator(".leaflet-popup-close-button").click()
    await page.wait_for_selector(".leaflet-popup", state="detached")
    other = page.locator("#map path.map-cameras:not(.map-camera-port_gate)")
    await other.click()
    await page.locator(".leaflet-popup-content").wait_for()
    assert await page.locator(".leaflet-popup video").count() == 0  # not the viewer's to watch


async def test_forced_hls_plays_the_cameras_test_pattern(open_page: Any, video_site: Any) -> None:
    """`?video=hls`: hls.js plays the hub's HLS copy of the stream, and the choice is remembered."""
    site, server = video_site
    page = await open_page("op_local", f"/c/{LOCAL}/devices/camera.{LOCAL_CAMERA}?video=hls")
    await _plays(page, "#live-video")
    assert await page.eval_on_selector("#live-video", "v => v.dataset.transport") == "hls"
    await _shows_the_bars(page, server, "#live-video")
    assert (LOCAL_CAMERA, "main") in site.hub.data[DATA_HLS].streams
    await page.goto(f"{site.base_url}/c/{LOCAL}/devices/camera.{LOCAL_CAMERA}")  # remembered in this browser
    await _plays(page, "#live-video")
    assert await page.eval_on_selector("#live-video", "v => v.dataset.transport") == "hls"


_BROKEN_WEBSOCKET = """window.WebSocket = class extends EventTarget {
    constructor(url) { super(); this.url = url; this.readyState = 0;
                       setTimeout(() => { this.readyState = 3;
                                          this.dispatchEvent(new CloseEvent("close", { code: 1006 })); }, 20); }
    send() {}
    close() {}
};"""


async def test_player_falls_back_to_hls_when_the_websocket_fails(open_page: Any, video_site: Any) -> None:
    """A network that breaks websockets (a proxy): after two failed connections the player plays HLS."""
    _site, server = video_site
    page = await open_page("op_local", f"/c/{LOCAL}/devices/camera.{LOCAL_CAMERA}", init_script=_BROKEN_WEBSOCKET)
    await _plays(page, "#live-video")
    assert await page.eval_on_selector("#live-video", "v => v.dataset.transport") == "hls"
    await _shows_the_bars(page, server, "#live-video")


async def test_wall_layout_is_kept_and_a_tile_enlarges_on_the_main_stream(open_page: Any, video_site: Any) -> None:
    site: Site = video_site[0]
    page = await open_page("op_local", f"/c/{LOCAL}/cameras")
    tiles = await page.eval_on_selector_all(".tile", "ts => ts.map(t => t.dataset.camera)")
    assert tiles == [LOCAL_CAMERA]  # the National Police's camera is not on the Local Police's wall
    await _plays(page, ".tile video")
    assert ("port_gate", "sub") in site.hub.data[DATA_LIVE].streams
    async with page.expect_response(lambda r: r.url.endswith("/api/wall") and r.request.method == "POST") as saved:
        await page.click(".layout-button[data-layout='9']")
    assert (await saved.value).status == 200  # kept on the server for the operator
    await page.reload()
    assert await page.get_attribute("#wall", "data-layout") == "9"
    assert await page.get_attribute(".layout-button[data-layout='9']", "aria-pressed") == "true"
    await page.click(f".tile[data-camera='{LOCAL_CAMERA}']")
    await _plays(page, "#enlarged-video")
    assert ("port_gate", "main") in site.hub.data[DATA_LIVE].streams
    await screenshot(page, "video-02-wall")


async def test_alarm_shows_its_camera_live_and_plays_back_from_its_time(open_page: Any,
                                                                       video_site: Any) -> None:
    site: Site = video_site[0]
    manager = site.hub.data[DATA_KEY]
    camera = manager.cameras[LOCAL_CAMERA]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while camera.segments < 14:  # more than the pre-roll recorded before the alarm
        assert loop.time() < deadline, "no recording"
        await asyncio.sleep(0.2)
    alarms = get_manager(site.hub)
    assert alarms is not None
    alarm = alarms.async_raise("intrusion", title="Vehículo en la puerta del puerto", context=Context(),
                               entities=[f"camera.{LOCAL_CAMERA}"], area_id="port")
    page = await open_page("op_local", f"/c/{LOCAL}/alarms/{alarm.id}")
    await _plays(page, ".alarm-camera video")
    href = await page.get_attribute(".alarm-playback", "href")
    start = alarm.raised_ts - 10
    assert href == (f"/c/{LOCAL}/devices/camera.{LOCAL_CAMERA}?t={start:.3f}"
                    "&purpose=Alarma%20Veh%C3%ADculo%20en%20la%20puerta%20del%20puerto")
    await page.click(".alarm-playback")
    # nothing recorded is fetched before the purpose is stated; the alarm's link pre-filled it
    await page.wait_for_selector("#pb-purpose-text")
    assert await page.input_value("#pb-purpose-text") == "Alarma Vehículo en la puerta del puerto"
    assert await page.eval_on_selector("#pb-video", "v => v.dataset.segment === undefined")
    await page.click("#pb-purpose-go")
    await _plays(page, "#pb-video")
    assert await page.text_content("#pb-purpose-shown") == "Motivo: Alarma Vehículo en la puerta del puerto"
    now = site.hub.clock.time()
    listing = await manager.async_query(LOCAL_CAMERA, now - 600, now + 60)
    holding = [s["id"] for s in listing["segments"] if s["start"] <= start < s["end"]]
    assert len(holding) == 1
    first_wall = float(await page.eval_on_selector("#pb-video", "v => v.dataset.wall"))
    assert start - 0.2 <= first_wall <= start + 5, (first_wall, start)
    await page.select_option("#pb-speed", "16")
    assert await page.eval_on_selector("#pb-video", "v => v.playbackRate") == 16
    ranges = int(await page.get_attribute("#pb-timeline", "data-ranges") or 0)
    assert ranges >= 1
    await page.select_option("#pb-span", "600")  # ten minutes: the recording of this test is visible
    widths = await page.eval_on_selector_all(
        "#pb-timeline .rec", "bars => bars.map(b => b.getBoundingClientRect().width / b.parentNode.clientWidth)")
    assert widths and sum(widths) > 0.03, widths
    await screenshot(page, "video-03-playback")
    # One audit row for the playback: the day the page listed, with the purpose (not one row per segment).
    from hub.audit import get_audit

    audit = get_audit(site.hub)
    assert audit is not None
    await audit.async_flush()
    played = await audit.async_query(action="camera.playback", user_id="op_local")
    assert len(played) == 1, played
    assert played[0]["data"]["purpose"] == "Alarma Vehículo en la puerta del puerto"
    assert played[0]["data"]["start"] <= start < played[0]["data"]["end"]
    assert played[0]["target"] == f"camera.{LOCAL_CAMERA}"


async def test_other_centre_is_refused_a_camera_not_shared(open_page: Any, video_site: Any) -> None:
    page = await open_page("op_national", f"/c/{NATIONAL}/devices/camera.{LOCAL_CAMERA}")
    assert await page.is_visible("#live-refused")
    assert await page.query_selector("#live-video") is None and await page.query_selector("#pb-video") is None
    refused = await page.evaluate("""async (camera) => {
        const rest = {};
        for (const what of ["snapshot", "recordings?start=0&end=60"]) {
          rest[what] = (await fetch(`/api/camera/${camera}/${what}`, {credentials: "same-origin"})).status;
        }
        const opened = await new Promise((resolve) => {
          const ws = new WebSocket(`ws://${location.host}/api/camera/${camera}/live`);
          ws.binaryType = "arraybuffer";
          ws.onmessage = () => resolve("message");
          ws.onopen = () => setTimeout(() => resolve("opened"), 3000);
          ws.onclose = () => resolve("refused");
        });
        return {rest, opened};
    }""", LOCAL_CAMERA)
    assert refused == {"rest": {"snapshot": 403, "recordings?start=0&end=60": 403}, "opened": "refused"}
    own = await open_page("op_national", f"/c/{NATIONAL}/devices/camera.{NATIONAL_CAMERA}")
    await _plays(own, "#live-video")
