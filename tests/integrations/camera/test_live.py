"""Live video over a websocket: one ffmpeg per viewed stream shared by its viewers and stopped after the
last, the first message carrying the codec and the init segment, then fragments from a keyframe, refusals
per grant, centre and origin, every viewing session audited; a lagging viewer dropped to the newest
fragment and then closed."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import aiohttp
import orjson
import pytest

from hub.audit import get_audit
from integrations.camera.fmp4 import Fmp4Splitter, codec_string, starts_with_keyframe
from integrations.camera.live import CLOSE_TOO_SLOW, DATA_LIVE, LiveClosed, LiveViewer

from .conftest import Api


def _headers(api: Api, user: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens[user]}", **extra}


async def _first_messages(wsock: aiohttp.ClientWebSocketResponse, count: int) -> list[bytes]:
    messages: list[bytes] = []
    while len(messages) < count:
        message = await asyncio.wait_for(wsock.receive(), 40)
        assert message.type is aiohttp.WSMsgType.BINARY, message
        messages.append(message.data)
    return messages


def _init_message(data: bytes) -> tuple[dict[str, Any], bytes]:
    (length,) = struct.unpack_from(">I", data)
    return orjson.loads(data[4:4 + length]), data[4 + length:]


async def test_viewers_share_one_process_get_codec_init_and_keyframe_fragments(api: Api) -> None:
    site = api.site
    streams = site.hub.data[DATA_LIVE]
    url = f"{api.base}/api/camera/port_gate/live?stream=sub"
    first = await api.session.ws_connect(url, headers=_headers(api, "op_l"))
    second = await api.session.ws_connect(url, headers=_headers(api, "eng"))  # engineers may view live
    received = await asyncio.gather(_first_messages(first, 3), _first_messages(second, 2))
    assert list(streams.streams) == [("port_gate", "sub")]  # one process for both viewers
    live = streams.streams[("port_gate", "sub")]
    assert live.running and len(live.viewers) == 2
    for messages in received:
        header, init = _init_message(messages[0])
        assert header["codec"] == codec_string(init) and header["codec"].startswith("avc1.4d")  # x264 main
        assert header["mime"] == f'video/mp4; codecs="{header["codec"]}"' and header["stream"] == "sub"
        assert init[4:8] == b"ftyp" and b"moov" in init
        assert starts_with_keyframe(messages[1])  # a viewer starts at a keyframe
        for fragment in messages[1:]:
            assert fragment[4:8] == b"moof" and b"mdat" in fragment
    # the whole byte stream a viewer got parses as fragmented MP4 again
    splitter = Fmp4Splitter()
    pieces = splitter.feed(_init_message(received[0][0])[1] + b"".join(received[0][1:]))
    assert [p.init for p in pieces] == [True, False, False] and pieces[1].keyframe
    await first.close()
    assert ("port_gate", "sub") in streams.streams  # the second viewer still watches
    await second.close()
    await site.wait_for(lambda: not streams.streams and not live.running, what="the live ffmpeg to stop")

    audit = get_audit(site.hub)
    assert audit is not None
    await audit.async_flush()
    views = await audit.async_query(action="camera.view")
    assert {(e["user_id"], e["target"], e["data"]["stream"]) for e in views} == {
        ("op_l", "camera.port_gate", "sub"), ("eng", "camera.port_gate", "sub")}
    ends = await audit.async_query(action="camera.view_end")
    assert len(ends) == 2 and all(e["data"]["seconds"] >= 0 for e in ends)


async def test_live_refused_to_other_centre_without_grant_or_cross_site(api: Api) -> None:
    url = f"{api.base}/api/camera/port_gate/live"
    refusals = {
        "anonymous": {},
        "other centre": _headers(api, "op_n"),  # port_gate is the local police's, not shared
        "cross-site": _headers(api, "op_l", Origin="https://evil.example"),
    }
    statuses = {}
    for what, headers in refusals.items():
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await api.session.ws_connect(url, headers=headers)
        statuses[what] = err.value.status
    assert statuses == {"anonymous": 401, "other centre": 403, "cross-site": 403}
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await api.session.ws_connect(f"{url}?stream=third", headers=_headers(api, "op_l"))
    assert err.value.status == 400
    assert not api.site.hub.data[DATA_LIVE].streams  # nothing was started for a refused viewer
    # the national police's operator does watch its own camera
    own = await api.session.ws_connect(f"{api.base}/api/camera/tarajal_lane1/live?stream=sub",
                                       headers=_headers(api, "op_n"))
    header, _init = _init_message((await _first_messages(own, 1))[0])
    assert header["camera"] == "tarajal_lane1"
    await own.close()


def test_a_lagging_viewer_drops_to_the_next_keyframe_then_is_closed() -> None:
    viewer = LiveViewer(max_queue=2, max_drops=1)
    viewer.offer(b"p0", False)  # a new viewer waits for a keyframe
    assert viewer.queue.empty()
    for fragment, keyframe in ((b"k1", True), (b"p1", False)):
        viewer.offer(fragment, keyframe)
    viewer.offer(b"p2", False)  # full: k1 and p1 dropped, and p2 (no keyframe) skipped
    viewer.offer(b"p3", False)
    viewer.offer(b"k2", True)
    assert viewer.drops == 1 and [viewer.queue.get_nowait()] == [b"k2"]
    for fragment in (b"p4", b"p5", b"p6"):
        viewer.offer(fragment, False)  # the second drop: closed
    item = viewer.queue.get_nowait()
    assert isinstance(item, LiveClosed) and item.code == CLOSE_TOO_SLOW and viewer.closed
    viewer.offer(b"k3", True)
    assert viewer.queue.empty()
