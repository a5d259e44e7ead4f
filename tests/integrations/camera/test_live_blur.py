"""Faces in live view for roles without the right to see them (camera `live_face_roles`, privacy.py): on the
simulator's plaza_reyes scene with a known face, a supervisor gets the raw picture and an operator gets it with
the face blurred, over the websocket, HLS and snapshots; an operator's playback of recordings is refused, and a
viewer who must get faces blurred is refused when no blurrer runs."""

from __future__ import annotations

import asyncio
import base64
import functools
import struct
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import orjson
import pytest

from hub.audit import get_audit
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


def _person(frame: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box (x, y, w, h) of the scene's person: what differs from the scene's empty square."""
    from integrations.simulator.scene_clips import _square

    height, width = frame.shape[:2]
    diff = np.abs(frame.astype(np.int16) - _square(width, height).astype(np.int16)).sum(axis=2) > 60
    cols, rows = np.flatnonzero(diff.sum(axis=0) > height // 20), np.flatnonzero(diff.sum(axis=1) > width // 40)
    if not len(cols) or not len(rows):
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0]), int(rows[-1] - rows[0])


@functools.cache
def _cascades() -> Any:
    """The test's own face finder: the export blurrer's Haar cascades (not the live view's BlazeFace), loaded once."""
    from integrations.face.blur import FaceBlurrer

    return FaceBlurrer(plates=False)


def face_offset(raw: list[np.ndarray]) -> tuple[float, float, float, float]:
    """Where the face lies in the person's box (fractions of it), from the raw frames' detections."""
    found = []
    for frame in raw:
        person, faces = _person(frame), _cascades().faces(frame)
        if person and faces:
            px, py, pw, ph = person
            x, y, w, h = max(faces, key=lambda b: b[2] * b[3])
            found.append(((x - px) / pw, (y - py) / ph, w / pw, h / ph))
    assert len(found) >= len(raw) // 2, "the raw frames show the face"
    return tuple(float(v) for v in np.median(np.array(found), axis=0))  # type: ignore[return-value]


def face_box(frame: np.ndarray, offset: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """Where the face is in this frame (x, y, w, h): the person's box and the face's place in it."""
    person = _person(frame)
    assert person is not None, "the person is in the frame"
    px, py, pw, ph = person
    fx, fy, fw, fh = offset
    return int(px + fx * pw), int(py + fy * ph), int(fw * pw), int(fh * ph)


def face_sharpness(frame: np.ndarray, offset: tuple[float, float, float, float]) -> float:
    """The variance of the Laplacian over the face: high on a visible face, low where it is blurred."""
    x, y, w, h = face_box(frame, offset)
    region = cv2.cvtColor(frame[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(region, cv2.CV_64F).var())


def faces_found(frame: np.ndarray) -> int:
    return len(_cascades().faces(frame))


def faces_found_on_face(frame: np.ndarray, offset: tuple[float, float, float, float]) -> int:
    """The faces the Haar cascades find where the person's face is (centred inside its box). A cascade's false
    positive elsewhere (it fires now and then on the edge of the blurred block against the portrait's blue
    backdrop, on a few frames after encoding) shows no face: the sharpness check covers the whole face."""
    x, y, w, h = face_box(frame, offset)
    return sum(x <= bx + bw / 2 <= x + w and y <= by + bh / 2 <= y + h for bx, by, bw, bh in _cascades().faces(frame))


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


def _assert_raw(frames: list[np.ndarray]) -> tuple[float, tuple[float, float, float, float]]:
    offset = face_offset(frames)  # the face is there, and found
    return float(np.median([face_sharpness(f, offset) for f in frames])), offset


def _assert_blurred(frames: list[np.ndarray], raw: tuple[float, tuple[float, float, float, float]]) -> None:
    raw_sharpness, offset = raw
    assert all(faces_found_on_face(f, offset) == 0 for f in frames[::3])
    sharpness = [face_sharpness(f, offset) for f in frames]
    assert max(sharpness) < 0.2 * raw_sharpness, (sharpness, raw_sharpness)


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
    audit = get_audit(plaza.site.hub)
    assert audit is not None
    await audit.async_flush()
    views = await audit.async_query(action="camera.view")
    assert {(e["user_id"], e["data"].get("blurred", False)) for e in views} == {("sup_l", False), ("op_l", True)}


async def test_hls_snapshot_and_playback_obey_the_same_rule(plaza: Site, tmp_path: Path) -> None:
    site = plaza.site
    # snapshots: raw for the supervisor, blurred for the operator
    status, sup_jpeg = await plaza.get(f"/api/camera/{CAMERA}/snapshot?stream=sub", "sup_l")
    assert status == 200
    sup_still = cv2.imdecode(np.frombuffer(sup_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert faces_found(sup_still) > 0
    offset = face_offset([sup_still])
    status, op_jpeg = await plaza.get(f"/api/camera/{CAMERA}/snapshot?stream=sub", "op_l")
    assert status == 200
    op_still = cv2.imdecode(np.frombuffer(op_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert faces_found_on_face(op_still, offset) == 0
    assert face_sharpness(op_still, offset) < 0.2 * face_sharpness(sup_still, offset)
    # the camera.snapshot service likewise, per caller
    for user, faces in (("sup_l", True), ("op_l", False)):
        response = await site.hub.services.async_call(
            "camera", "snapshot", {"entity_id": f"camera.{CAMERA}", "stream": "sub"},
            context=Context(user_id=user, centre="local_police"), return_response=True)
        assert response is not None
        still = cv2.imdecode(np.frombuffer(base64.b64decode(response["jpeg_base64"]), np.uint8), cv2.IMREAD_COLOR)
        if faces:
            assert faces_found(still) > 0, user
        else:
            assert faces_found_on_face(still, offset) == 0, user
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
    audit = get_audit(site.hub)
    assert audit is not None
    await audit.async_flush()
    denied = await audit.async_query(action="camera.playback")
    assert [(e["user_id"], e["outcome"]) for e in denied] == [("op_l", "denied")]
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/segments/{segment_id}?purpose=Alarma+Plaza+Reyes",
                                    "sup_l")
    assert status == 200


async def test_without_a_blurrer_the_viewer_is_refused_not_shown_raw(plaza: Site) -> None:
    del plaza.site.hub.data[DATA_FACE_BLUR]
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/snapshot", "op_l")
    assert status == 403
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/hls/sub/index.m3u8", "op_l")
    assert status == 403
    status, _body = await plaza.get(f"/api/camera/{CAMERA}/snapshot", "sup_l")
    assert status == 200


def test_live_face_roles_is_optional_and_names_known_roles() -> None:
    import voluptuous as vol

    from integrations.camera.config import CAMERA_SCHEMA, CameraConfig

    base = {"id": "plaza_reyes", "main": "rtsp://10.0.0.9/main"}
    assert CameraConfig.from_config(CAMERA_SCHEMA(base)).live_face_roles is None  # today's behaviour
    conf = CameraConfig.from_config(CAMERA_SCHEMA({**base, "live_face_roles": ["supervisor", "admin"]}))
    assert conf.live_face_roles == {"supervisor", "admin"}
    for wrong in (["chief"], ["agency"], "supervisor"):
        with pytest.raises(vol.Invalid):
            CAMERA_SCHEMA({**base, "live_face_roles": wrong})
