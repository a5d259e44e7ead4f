"""Real video for the camera tests: clips encoded once per session, the simulator's GStreamer RTSP server,
real ffmpeg recorders, SQLite recorder, audit log, areas owned by two centres."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.audit import async_setup_audit
from hub.auth.tokens import create_token
from hub.auth.users import add_user
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Event, Hub, callback
from hub.helpers import area_registry
from hub.recorder import async_setup_recorder
from integrations import camera
from integrations.camera.manager import CameraManager
from integrations.simulator.cameras import CAMERAS_SCHEMA, SimulatedCameras, rtsp_server_available
from tests.conftest import free_port
from tests.integrations.alarm.conftest import cheap_hashes  # noqa: F401 - cheap password hashes here too

CENTRES = (ControlCentre("local_police", "Policía Local", ("centro",), True),
           ControlCentre("national_police", "Policía Nacional", ("tarajal",)))
AREAS = [
    {"id": "centro", "name": "Centro", "latitude": 35.8890, "longitude": -5.3180, "radius_m": 300},
    {"id": "tarajal", "name": "Tarajal", "latitude": 35.8710, "longitude": -5.3430, "radius_m": 300},
]
STREAMS = ("tarajal_lane1", "port_gate", "plaza_reyes")
AREA_OF = {"tarajal_lane1": "tarajal", "port_gate": "centro", "plaza_reyes": "centro"}


@pytest.fixture(scope="session")
def video_tools() -> None:
    """Skip (or fail under HACHO_REQUIRE_SERVICES=1) without ffmpeg and GStreamer's RTSP server."""
    if not rtsp_server_available():
        message = "ffmpeg or GStreamer's RTSP server missing (scripts/setup-video.sh)"
        if os.environ.get("HACHO_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory, video_tools: None) -> Path:
    """Where this session's clips are cached (encoded by the first test that starts a server)."""
    return tmp_path_factory.mktemp("clips")


@dataclass
class VideoSite:
    hub: Hub
    server: SimulatedCameras
    manager: CameraManager
    events: list[Event] = field(default_factory=list)

    def of(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.event_type == event_type]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 40.0, what: str = "") -> None:
        """Wait (polling the real system) until predicate() is true."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.1)

    async def query(self, camera_id: str) -> dict[str, Any]:
        now = self.hub.clock.time()
        return await self.manager.async_query(camera_id, now - 3600, now + 3600)


def camera_conf(stream_id: str, server: SimulatedCameras, **record: Any) -> dict[str, Any]:
    return {"id": stream_id, "name": stream_id.replace("_", " ").title(), "area": AREA_OF.get(stream_id, "centro"),
            "main": f"sim://{stream_id}", "sub": server.url(stream_id), "unavailable_after": 8,
            "username": "viewer", "password": "s3cret-pa55",
            "record": {"mode": "continuous", **record}}


async def start_video_site(config_dir: Path, clip_dir: Path, *, streams: tuple[str, ...] = STREAMS,
                           cameras: Callable[[SimulatedCameras], list[dict[str, Any]]] | None = None,
                           http: bool = False, scenes: dict[str, dict[str, Any]] | None = None,
                           **camera_options: Any) -> VideoSite:
    """A started hub with areas, recorder, audit log, the RTSP server and the camera integration.

    `scenes`: stream id -> options of that simulated stream (a rendered `scene`, its size...)."""
    hub = Hub(config_dir)
    hub.config = CoreConfig(control_centres=CENTRES)
    await area_registry.async_setup_areas(hub, AREAS)
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{config_dir / 'hacho.db'}", "commit_interval": 0.2})
    await async_setup_audit(hub, register_views=False)
    if http:
        from hub.auth import async_setup_auth
        from hub.http import async_setup_http

        await async_setup_auth(hub)
        hub.data["_test_http"] = await async_setup_http(hub, {"port": 0})
    server = SimulatedCameras(hub, CAMERAS_SCHEMA({
        "port": free_port(), "clip_dir": str(clip_dir), "clip_seconds": 6, "fps": 10,
        "streams": [{"id": s, "width": 320, "height": 180, "bitrate_kbps": 300, **(scenes or {}).get(s, {})}
                    for s in streams]}))
    assert await server.async_start(timeout=120)
    config = camera.CONFIG_SCHEMA({
        "storage_dir": str(config_dir / "video"), "segment_seconds": 1, "restart_initial": 0.2,
        "restart_maximum": 2, "min_free_bytes": 0,
        "cameras": cameras(server) if cameras is not None else [camera_conf(s, server) for s in streams],
        **camera_options})
    assert await camera.async_setup(hub, config)
    await hub.async_start()
    if http:
        await hub.data["_test_http"].async_start()
    site = VideoSite(hub, server, hub.data[camera.DATA_KEY])

    @callback
    def collect(event: Event) -> None:
        if event.event_type.startswith("camera_"):
            site.events.append(event)

    for event_type in ("camera_offline", "camera_online", "camera_recording_gap", "camera_segment_corrupt",
                       "camera_storage_full", "camera_lock_changed"):
        hub.bus.async_listen(event_type, collect)
    return site


async def stop_video_site(site: VideoSite) -> None:
    await camera.async_unload(site.hub)
    await site.server.async_stop()
    if not site.hub.is_stopping:
        await site.hub.async_stop()


@pytest.fixture
async def video_site(config_dir: Path, clip_dir: Path) -> AsyncIterator[VideoSite]:
    site = await start_video_site(config_dir, clip_dir)
    yield site
    await stop_video_site(site)


PASSWORD = "correct horse battery"
USERS = {"op_l": ("operator", "local_police"), "op_n": ("operator", "national_police"),
         "eng": ("engineer", "local_police")}


class Api:
    """Bearer-token HTTP clients of a video site with HTTP, one token per user of USERS."""

    def __init__(self, site: VideoSite, tokens: dict[str, str], session: aiohttp.ClientSession) -> None:
        self.site = site
        self.tokens = tokens
        self.session = session
        self.base = site.hub.data["_test_http"].base_url

    async def get(self, path: str, user: str | None) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        async with self.session.get(f"{self.base}{path}", headers=headers) as resp:
            return resp.status, await resp.read(), dict(resp.headers)


@pytest.fixture
async def api(config_dir: Path, clip_dir: Path) -> AsyncIterator[Api]:
    tokens = {}
    for user_id, (role, centre) in USERS.items():
        add_user(config_dir, user_id, role=role, centre=centre, password=PASSWORD)
        tokens[user_id] = create_token(config_dir, f"{user_id} console", centre, user_id=user_id)
    site = await start_video_site(config_dir, clip_dir, streams=("port_gate", "tarajal_lane1"), http=True)
    session = aiohttp.ClientSession()
    yield Api(site, tokens, session)
    await session.close()
    await stop_video_site(site)
