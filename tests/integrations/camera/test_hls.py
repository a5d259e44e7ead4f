"""Live HLS, the websocket's fallback: one `ffmpeg -c copy` per watched stream writing fragmented-MP4 HLS,
shared by its viewers, permission-checked like the websocket, audited per viewer, stopped when unused."""

from __future__ import annotations

import asyncio

from hub.audit import get_audit
from integrations.camera.hls import DATA_HLS, hls_command

from .conftest import Api

BASE = "/api/camera/port_gate/hls/sub"


async def _audit(api: Api, action: str) -> list[dict]:
    audit = get_audit(api.site.hub)
    assert audit is not None
    return await audit.async_query(action=action, limit=100)


async def test_hls_is_shared_permission_checked_audited_and_stopped_when_unused(api: Api) -> None:
    hub = api.site.hub
    streams = hub.data[DATA_HLS]
    streams.idle_after = 1.5
    status, body, headers = await api.get(f"{BASE}/index.m3u8", "op_l")
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    playlist = body.decode()
    assert '#EXT-X-MAP:URI="init.mp4"' in playlist and "#EXT-X-PROGRAM-DATE-TIME" in playlist
    segment = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
    status, init, headers = await api.get(f"{BASE}/init.mp4", "op_l")
    assert status == 200 and headers["Content-Type"] == "video/mp4" and init[4:8] == b"ftyp" and b"avc1" in init
    status, data, _ = await api.get(f"{BASE}/{segment}", "op_l")
    assert status == 200 and b"moof" in data[:200] and b"mdat" in data

    # a second viewer shares the same process and folder
    [hls] = streams.streams.values()
    status, _, _ = await api.get(f"{BASE}/index.m3u8", "eng")
    assert status == 200 and list(streams.streams.values()) == [hls] and hls.running

    # the other centre's operator is refused (the camera is not shared), and that is audited
    status, _, _ = await api.get(f"{BASE}/index.m3u8", "op_n")
    assert status == 403
    status, _, _ = await api.get(f"{BASE}/index.m3u8", None)
    assert status == 401
    assert (await api.get(f"{BASE}/hacho.db", "op_l"))[0] == 404
    assert (await api.get("/api/camera/port_gate/hls/other/index.m3u8", "op_l"))[0] == 400
    denied = [e for e in await _audit(api, "camera.view") if e["outcome"] == "denied"]
    assert [e["user_id"] for e in denied] == ["op_n"]

    # unused: stopped, its folder gone, each viewing ended in the audit log
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while streams.streams or hls.running:
        assert loop.time() < deadline, "the unused HLS stream was not stopped"
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.2)
    assert not hls.folder.exists()
    views = [e for e in await _audit(api, "camera.view") if e["outcome"] == "ok"]
    ends = await _audit(api, "camera.view_end")
    assert sorted(e["user_id"] for e in views) == sorted(e["user_id"] for e in ends) == ["eng", "op_l"]
    assert all(e["data"]["transport"] == "hls" and e["target"] == "camera.port_gate" for e in ends)


def test_hls_copies_without_transcoding() -> None:
    command = hls_command("rtsp://127.0.0.1:8554/cam", __import__("pathlib").Path("/tmp/x"))
    assert command[command.index("-c") + 1] == "copy" and "-vf" not in command and "libx264" not in command
    assert command[command.index("-hls_segment_type") + 1] == "fmp4"
