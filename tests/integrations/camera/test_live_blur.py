"""Faces in live view for roles without the right to see them (camera `live_face_roles`, privacy.py): on the
simulator's plaza_reyes scene with a known face, a supervisor gets the raw picture and an operator gets it with
the face blurred, over the websocket, HLS and snapshots; an operator's playback of recordings is refused, and a
viewer who must get faces blurred is refused when no blurrer runs."""

from __future__ import annotations

import asyncio
import base64
import struct
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import orjson
import pytest

from hub.auth.tokens import create_token
from hub.auth.users import add_user
from hub.core import Context
from integrations.camera.hls import DATA_HLS
from integrations.camera.privacy import BLURRED, DATA_FACE_BLUR

from .conftest import PASSWORD, VideoSite, camera_conf, start_video_site, stop_video_site

cv2 = pytest.importorskip("cv2")
CAMERA = "plaza_reyes"
USERS = {"sup_l": "supervisor", "op_l": "operator"}


class Site:
    def __init__(self, site: VideoSite, tokens: dict[str, str], session: aiohttp.ClientSession) -> None:
        self.site, self.tokens, self.session = site, tokens, session
        self.base = site.hub.data["_test_http"].base_url

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def get(self, path: str, user: str) -> tuple[int, bytes]:
        async with self.session.get(f"{self.base}{path}", headers=self.headers(user)) as resp:
            return resp.status, await resp.read()


@pytest.fixture
async def plaza(config_dir: Path, clip_dir: Path) -> AsyncIterator[Site]:
    from integrations.face.live import LiveBlur

    tokens = {}
    for user_id, role in USERS.items():
        add_user(config_dir, user_id, role=role, centre="local_police", password=PASSWORD)
        tokens[user_id] = create_token(config_dir, f"{user_id} console", "local_police", user_id=user_id)
    site = await start_video_site(
        config_dir, clip_dir, streams=(CAMERA,), http=True,
        scenes={CAMERA: {"scene": "face", "width": 640, "height": 360, "bitrate_kbps": 900}},
        cameras=lambda server: [{**camera_conf(CAMERA, server), "live_face_roles": ["supervisor"]}])
    site.hub.data[DATA_FACE_BLUR] = LiveBlur(site.hub)
    session = aiohttp.ClientSession()
    yield Site(site, tokens, session)
    await session.close()
    await stop_video_site(site)


def _decode(video: bytes, tmp: Path) -> list[np.ndarray]:
    """Every frame of a (fragmented) MP4 byte stream, as BGR."""
    path = tmp / f"v{len(video)}.mp4"
    path.write_bytes(video)
    run = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                          "-of", "json", str(path)], capture_output=True, check=True)
    size = orjson.loads(run.stdout)["streams"][0]
    width, height = int(size["width"]), int(size["height"])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
                         capture_output=True, check=True).stdout
    count = len(raw) // (width * height * 3)
    assert count > 0
    return list(np.frombuffer(raw[:count * width * height * 3], np.uint8).reshape(count, height, width, 3))


def face_sharpness(frame: np.ndarray) -> float:
    """The sharpest face-sized window (variance of the Laplacian) in the band of rows where the scene's person
    walks: high on a visible face, low where it is blurred."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    lap = cv2.Laplacian(gray, cv2.CV_64F)
    side = height // 6  # about the size of the scene's face
    band = lap[height // 3:, :]
    best = 0.0
    for y in range(0, band.shape[0] - side, side // 2):
        for x in range(0, width - side, side // 2):
            best = max(best, float(band[y:y + side, x:x + side].var()))
    return best


def faces_found(frame: np.ndarray) -> int:
    from integrations.face.blur import FaceBlurrer

    return len(FaceBlurrer(plates=False).faces(frame))


async def _live(plaza: Site, user: str, fragments: int = 12) -> tuple[dict[str, Any], bytes]:
    url = f"{plaza.base}/api/camera/{CAMERA}/live?stream=main"
    wsock = await plaza.session.ws_connect(url, headers=plaza.headers(user))
    data = b""
    header: dict[str, Any] = {}
    try:
        for index in range(fragments + 1):
            message = await asyncio.wait_for(wsock.receive(), 60)
            assert message.type is aiohttp.WSMsgType.BINARY, message
            if index == 0:
                (length,) = struct.unpack_from(">I", message.data)
                header = orjson.loads(message.data[4:4 + length])
                data += message.data[4 + length:]
            else:
                data += message.data
    finally:
        await wsock.close()
    return header, data


def _assert_raw(frames: list[np.ndarray]) -> float:
    assert sum(faces_found(f) > 0 for f in frames[::3]) >= len(frames[::3]) // 2  # the face is there
    return float(np.median([face_sharpness(f) for f in frames]))


def _assert_blurred(frames: list[np.ndarray], raw_sharpness: float) -> None:
    assert all(faces_found(f) == 0 for f in frames[::3])
    blurred = float(np.median([face_sharpness(f) for f in frames]))
    assert blurred < 0.5 * raw_sharpness, (blurred, raw_sharpness)


async def test_live_websocket_blurs_faces_for_a_role_without_the_right(plaza: Site, tmp_path: Path) -> None:
    raw_header, raw = await _live(plaza, "sup_l")
    assert raw_header["stream"] == "main" and "blurred" not in raw_header
    raw_frames = _decode(raw, tmp_path)
    sharp = _assert_raw(raw_frames)
    header, blurred = await _live(plaza, "op_l")
    assert header["stream"] == BLURRED and header["codec"].startswith("avc1")
    frames = _decode(blurred, tmp_path)
    assert frames[0].shape == (360, 640, 3)  # the sub stream's size
    _assert_blurred(frames, sharp)


async def test_hls_snapshot_and_playback_obey_the_same_rule(plaza: Site, tmp_path: Path) -> None:
    site = plaza.site
    # snapshots: raw for the supervisor, blurred for the operator
    status, sup_jpeg = await plaza.get(f"/api/camera/{CAMERA}/snapshot?stream=sub", "sup_l")
    assert status == 200
    sup_still = cv2.imdecode(np.frombuffer(sup_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert faces_found(sup_still) > 0
    status, op_jpeg = await plaza.get(f"/api/camera/{CAMERA}/snapshot?stream=sub", "op_l")
    assert status == 200
    op_still = cv2.imdecode(np.frombuffer(op_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert faces_found(op_still) == 0
    assert face_sharpness(op_still) < 0.5 * face_sharpness(sup_still)
    # the camera.snapshot service likewise, per caller
    for user, faces in (("sup_l", True), ("op_l", False)):
        response = await site.hub.services.async_call(
            "camera", "snapshot", {"entity_id": f"camera.{CAMERA}", "stream": "sub"},
            context=Context(user_id=user, centre="local_police"), return_response=True)
        assert response is not None
        still = cv2.imdecode(np.frombuffer(base64.b64decode(response["jpeg_base64"]), np.uint8), cv2.IMREAD_COLOR)
        assert (faces_found(still) > 0) is faces, user
    # HLS: the operator's playlist is the blurred stream's (its own process), the supervisor's the raw one
    for user in ("op_l", "sup_l"):
        status, playlist = await plaza.get(f"/api/camera/{CAMERA}/hls/sub/index.m3u8", user)
        assert status == 200, playlist
    hls = site.hub.data[DATA_HLS].streams
    assert set(hls) == {(CAMERA, BLURRED), (CAMERA, "sub")}
    videos = {}
    for user in ("sup_l", "op_l"):
        _status, playlist = await plaza.get(f"/api/camera/{CAMERA}/hls/sub/index.m3u8", user)
        segment = next(line for line in playlist.decode().splitlines() if line.endswith(".m4s"))
        _s, init = await plaza.get(f"/api/camera/{CAMERA}/hls/sub/init.mp4", user)
        status, body = await plaza.get(f"/api/camera/{CAMERA}/hls/sub/{segment}", user)
        assert status == 200
        videos[user] = _decode(init + body, tmp_path)
    _assert_blurred(videos["op_l"], _assert_raw(videos["sup_l"]))
    # playback of recordings: refused to the operator (faces), served to the supervisor
    for _ in range(100):
        result = await site.query(CAMERA)
        if result["segments"]:
            break
        await asyncio.sleep(0.2)
    segment_id = result["segments"][0]["id"]
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/segments/{segment_id}", "op_l")
    assert status == 403
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/segments/{segment_id}", "sup_l")
    assert status == 200


async def test_without_a_blurrer_the_viewer_is_refused_not_shown_raw(plaza: Site) -> None:
    del plaza.site.hub.data[DATA_FACE_BLUR]
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/snapshot", "op_l")
    assert status == 403
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/hls/sub/index.m3u8", "op_l")
    assert status == 403
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/snapshot", "sup_l")
    assert status == 200
