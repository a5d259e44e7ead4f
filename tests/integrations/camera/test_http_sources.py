"""HTTP cameras, for real: an aiohttp server on loopback serves an MJPEG stream (multipart/x-mixed-replace of
JPEG frames drawn with OpenCV, a running counter on a known colour) behind Basic auth and a snapshot URL
behind Digest auth, the credentials coming from `!secret`; the hub's real ffmpeg records the MJPEG, its
snapshots are compared pixel by pixel, the server's stop and return drive availability, and live view
(H.264 only, never transcoded) refuses the MJPEG source with a reason that says so."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from aiohttp import web

from hub.audit import async_setup_audit
from hub.config.core import CoreConfig
from hub.config.yaml_loader import load_yaml
from hub.core import Event, Hub, callback
from hub.evidence.verify import ffprobe_problem, fmp4_problem
from hub.exceptions import HubError
from hub.helpers import area_registry
from hub.recorder import async_setup_recorder
from integrations import camera
from integrations.camera.hls import DATA_HLS
from integrations.camera.live import CLOSE_STREAM_ENDED, DATA_LIVE, LiveClosed, LiveViewer
from integrations.camera.manager import CameraManager
from integrations.camera.stream import fetch_snapshot, tools_available
from tests.conftest import free_port

from .conftest import AREAS, CENTRES


@pytest.fixture(autouse=True)
def _ffmpeg() -> None:
    """These cameras need ffmpeg and ffprobe only (no RTSP server): skip without them, or fail under
    HACHO_REQUIRE_SERVICES=1."""
    if not (tools_available() and shutil.which("ffprobe")):
        if os.environ.get("HACHO_REQUIRE_SERVICES") == "1":
            pytest.fail("ffmpeg/ffprobe missing (scripts/setup-video.sh)")
        pytest.skip("ffmpeg/ffprobe missing (scripts/setup-video.sh)")


USER, PASSWORD = "operador", "cl@ve secreta"
STREAM_BGR = (40, 160, 220)  # the MJPEG frames' background (an orange)
SNAP_BGR = (200, 60, 30)  # the snapshot URL's picture (a blue)
FPS = 10


def _frame(colour: tuple[int, int, int], counter: int, size: tuple[int, int] = (320, 180)) -> bytes:
    img = np.full((size[1], size[0], 3), colour, np.uint8)
    cv2.putText(img, f"{counter:05d}", (8, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(jpeg)


def _decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, "not a JPEG"
    return img


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # RFC 2617 Digest is MD5


@dataclass
class CameraServer:
    """A loopback HTTP camera that can be stopped and started again on the same port."""

    port: int = field(default_factory=free_port)
    frames: int = 0
    snapshots: list[bytes] = field(default_factory=list)
    refused: int = 0
    runner: web.AppRunner | None = None
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))

    def _basic_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def _digest_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return False
        fields = dict(part.strip().split("=", 1) for part in header[7:].split(","))
        value = {k: v.strip('"') for k, v in fields.items()}
        ha1 = _md5(f"{USER}:cam:{PASSWORD}")
        ha2 = _md5(f"GET:{value.get('uri')}")
        expected = _md5(f"{ha1}:{self.nonce}:{value.get('nc')}:{value.get('cnonce')}:auth:{ha2}")
        return value.get("username") == USER and value.get("nonce") == self.nonce and \
            value.get("response") == expected

    async def mjpeg(self, request: web.Request) -> web.StreamResponse:
        if not self._basic_ok(request):
            self.refused += 1
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="cam"'})
        resp = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace; boundary=hachoframe"})
        await resp.prepare(request)
        while True:
            jpeg = _frame(STREAM_BGR, self.frames)
            self.frames += 1
            await resp.write(b"--hachoframe\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                             % len(jpeg) + jpeg + b"\r\n")
            await asyncio.sleep(1 / FPS)

    async def snapshot(self, request: web.Request) -> web.Response:
        if not self._digest_ok(request):
            self.refused += 1
            raise web.HTTPUnauthorized(headers={
                "WWW-Authenticate": f'Digest realm="cam", qop="auth", nonce="{self.nonce}", algorithm=MD5'})
        jpeg = _frame(SNAP_BGR, len(self.snapshots), (400, 224))
        self.snapshots.append(jpeg)
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def snapshot_basic(self, request: web.Request) -> web.Response:
        if not self._basic_ok(request):
            self.refused += 1
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="cam"'})
        jpeg = _frame(SNAP_BGR, len(self.snapshots), (400, 224))
        self.snapshots.append(jpeg)
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/video.mjpg", self.mjpeg)
        app.router.add_get("/snap.jpg", self.snapshot)
        app.router.add_get("/snap-basic.jpg", self.snapshot_basic)
        self.runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass
class HttpSite:
    hub: Hub
    manager: CameraManager
    server: CameraServer
    events: list[Event] = field(default_factory=list)

    async def wait_for(self, predicate: Any, what: str, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.1)

    def of(self, event_type: str, camera_id: str) -> list[Event]:
        return [e for e in self.events if e.event_type == event_type and e.data["camera"] == camera_id]


@pytest.fixture
async def http_site(config_dir: Path) -> AsyncIterator[HttpSite]:
    server = CameraServer()
    await server.start()
    (config_dir / "secrets.yaml").write_text(f'cam_user: {USER}\ncam_password: "{PASSWORD}"\n')
    (config_dir / "cameras.yaml").write_text(f"""
storage_dir: {config_dir / 'video'}
segment_seconds: 1
restart_initial: 0.2
restart_maximum: 1
min_free_bytes: 0
cameras:
  - id: portal_mjpeg
    name: Portal MJPEG
    area: centro
    main: {server.url('/video.mjpg')}
    username: !secret cam_user
    password: !secret cam_password
    unavailable_after: 3
    record: {{mode: continuous}}
  - id: portal_snapshot
    name: Portal con instantánea
    area: centro
    main: {server.url('/video.mjpg')}
    snapshot_url: {server.url('/snap.jpg')}
    username: !secret cam_user
    password: !secret cam_password
    unavailable_after: 3
    record: {{mode: "off"}}
""")
    conf = camera.CONFIG_SCHEMA(load_yaml(config_dir / "cameras.yaml"))
    hub = Hub(config_dir)
    hub.config = CoreConfig(control_centres=CENTRES)
    await area_registry.async_setup_areas(hub, AREAS)
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{config_dir / 'hacho.db'}", "commit_interval": 0.2})
    await async_setup_audit(hub, register_views=False)
    assert await camera.async_setup(hub, conf)
    await hub.async_start()
    site = HttpSite(hub, hub.data[camera.DATA_KEY], server)

    @callback
    def collect(event: Event) -> None:
        site.events.append(event)

    for event_type in ("camera_offline", "camera_online", "camera_recording_gap"):
        hub.bus.async_listen(event_type, collect)
    yield site
    await camera.async_unload(hub)
    await server.stop()
    if not hub.is_stopping:
        await hub.async_stop()


def _state(site: HttpSite, entity_id: str) -> str:
    state = site.hub.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _snapshot(site: HttpSite, entity_id: str, **data: Any) -> bytes:
    answer = await site.hub.services.async_call("camera", "snapshot", {"entity_id": entity_id, **data},
                                                return_response=True)
    assert answer is not None and answer["content_type"] == "image/jpeg"
    jpeg = base64.b64decode(answer["jpeg_base64"])
    assert jpeg.startswith(b"\xff\xd8") and answer["bytes"] == len(jpeg)
    return jpeg


async def test_mjpeg_camera_is_recorded_snapshotted_and_goes_offline_with_its_server(
        http_site: HttpSite) -> None:
    site = http_site
    cam = site.manager.cameras["portal_mjpeg"]
    await site.wait_for(lambda: cam.available and _state(site, "camera.portal_mjpeg") != "unavailable",
                        "the MJPEG camera available")
    # a snapshot is a frame of the served stream: the served colour, the served size
    img = _decode(await _snapshot(site, "camera.portal_mjpeg"))
    assert img.shape == (180, 320, 3)
    patch = img[90:170, 100:300].reshape(-1, 3).mean(axis=0)
    assert np.abs(patch - np.array(STREAM_BGR)).max() < 12, patch
    assert img[5:40, 5:120].max() > 200, "the counter's white text is in the picture"
    # recorded by stream copy: MJPEG in fragmented-MP4 segments, indexed at the stream's real rate
    await site.wait_for(lambda: cam.segments >= 5, "five MJPEG segments")
    now = site.hub.clock.time()
    found = await site.manager.async_query("portal_mjpeg", now - 600, now + 60)
    segments = [s for s in found["segments"] if s["status"] == "ok"]
    assert len(segments) >= 5
    # indexed at wall time: the newest ends about now (at 25 fps assumed, 10 fps would fall behind 1.5 s a segment)
    assert now - segments[-1]["end"] < 3.5, (now, segments[-1])
    for segment in segments[1:]:  # 1 s segments of a 10 fps camera span about 1 s of wall time
        assert 0.5 <= segment["end"] - segment["start"] <= 2.2, segment
    _info, path = await site.manager.async_segment_file("portal_mjpeg", segments[1]["id"])
    proc = await asyncio.create_subprocess_exec(
        "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
        "stream=codec_name,nb_read_frames", "-of", "csv=p=0", str(path), stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    codec, frames = out.decode().strip().split(",")
    assert codec == "mjpeg" and 4 <= int(frames) <= 20, out
    # and it passes the checks `hacho evidence verify` makes of an exported segment
    data = path.read_bytes()
    assert fmp4_problem(data) is None
    assert ffprobe_problem("ffprobe", data) is None
    # the server goes away: unavailable with camera_offline; back: available with camera_online
    await site.server.stop()
    await site.wait_for(lambda: site.of("camera_offline", "portal_mjpeg"), "camera_offline", timeout=20)
    assert _state(site, "camera.portal_mjpeg") == "unavailable"
    assert not cam.available
    await site.server.start()
    await site.wait_for(lambda: site.of("camera_online", "portal_mjpeg") and cam.available, "camera_online",
                        timeout=30)
    assert _state(site, "camera.portal_mjpeg") != "unavailable"
    assert site.of("camera_recording_gap", "portal_mjpeg"), "the outage is a recorded gap"


async def test_snapshot_url_answers_with_digest_credentials_from_secrets(http_site: HttpSite) -> None:
    site = http_site
    cam = site.manager.cameras["portal_snapshot"]
    await site.wait_for(lambda: cam.available, "the camera available (its MJPEG main stream)")
    jpeg = await _snapshot(site, "camera.portal_snapshot")
    # the snapshot URL's picture, as served (not a frame decoded from the MJPEG stream)
    assert site.server.snapshots and jpeg == site.server.snapshots[-1]
    assert site.server.refused >= 1, "the camera challenged first; the hub answered with Digest"
    img = _decode(jpeg)
    assert img.shape == (224, 400, 3)
    assert np.abs(img[100:220, 150:390].reshape(-1, 3).mean(axis=0) - np.array(SNAP_BGR)).max() < 12
    small = _decode(await _snapshot(site, "camera.portal_snapshot", width=200))
    assert small.shape == (112, 200, 3)
    assert np.abs(small[50:110, 75:195].reshape(-1, 3).mean(axis=0) - np.array(SNAP_BGR)).max() < 12
    assert cam.segments == 0, "record mode off: packets for liveness only"
    attrs = site.hub.states.get("camera.portal_snapshot")
    assert attrs is not None and PASSWORD not in str(attrs.attributes)
    # a camera that asks for Basic gets Basic; a wrong password is an error that says so and shows no password
    assert await fetch_snapshot(site.server.url("/snap-basic.jpg"), USER, PASSWORD) == site.server.snapshots[-1]
    for path in ("/snap.jpg", "/snap-basic.jpg"):
        with pytest.raises(OSError, match="HTTP 401"):
            await fetch_snapshot(site.server.url(path), USER, "wrong")
    await site.server.stop()
    with pytest.raises(HubError) as err:
        await _snapshot(site, "camera.portal_snapshot")
    assert "snapshot URL failed" in str(err.value) and PASSWORD not in str(err.value)


async def test_live_view_refuses_mjpeg_with_the_reason(http_site: HttpSite) -> None:
    """Live view copies H.264 into MSE without transcoding (docs/video.md): an MJPEG stream is refused,
    its viewer closed with a reason that names the codec, and nothing keeps running."""
    site = http_site
    cam = site.manager.cameras["portal_mjpeg"]
    await site.wait_for(lambda: cam.available, "the MJPEG camera available")
    viewer = LiveViewer()
    live, remove = site.hub.data[DATA_LIVE].watch(
        "portal_mjpeg", "main", lambda: cam.config.url("main"), viewer, timeout_s=3)
    closed = await asyncio.wait_for(viewer.queue.get(), 20)
    assert isinstance(closed, LiveClosed) and closed.code == CLOSE_STREAM_ENDED
    assert "not H.264" in closed.reason, closed.reason
    assert PASSWORD not in closed.reason
    assert live.init is None and live.fragments == 0
    remove()
    await site.wait_for(lambda: not live.running, "the live process ended")


async def test_hls_fallback_refuses_mjpeg_with_the_reason(http_site: HttpSite) -> None:
    """The HLS fallback copies too: for an MJPEG camera it answers no playlist, with the reason, and its ffmpeg
    does not go on writing segments nobody can play."""
    site = http_site
    cam = site.manager.cameras["portal_mjpeg"]
    await site.wait_for(lambda: cam.available, "the MJPEG camera available")
    hls = site.hub.data[DATA_HLS].get("portal_mjpeg", "main", lambda: cam.config.url("main"), 3)
    assert not await hls.async_wait_ready(15)
    assert "not H.264" in hls.last_error and PASSWORD not in hls.last_error, hls.last_error
    await site.wait_for(lambda: hls.ended, "its ffmpeg ended")
    assert "not H.264" in hls.last_error
    assert not await hls.async_wait_ready(1), "asked again: refused again at once"
