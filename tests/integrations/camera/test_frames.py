"""The one frame source for analytics: a camera entity's sub stream decoded at the analytic's rate and size
(real GStreamer RTSP server, real ffmpeg), into a bounded queue that drops the oldest frame, reconnecting."""

from __future__ import annotations

import asyncio
import time

import pytest

from hub.helpers.workers import DropOldestQueue
from integrations.camera.analytics import async_frame_request, frame_request
from integrations.camera.frames import CameraFrames, Frame, StreamDecoder

from .conftest import VideoSite


async def _until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_a_camera_entity_gives_its_sub_stream_at_the_rate_and_size_asked(video_site: VideoSite) -> None:
    request = await async_frame_request(video_site.hub, "camera.plaza_reyes", fps=2, width=160)
    assert request.stream == "sub" and request.url == video_site.server.url("plaza_reyes").replace(
        "rtsp://", "rtsp://viewer:s3cret-pa55@")
    assert "s3cret" not in repr(request)  # the URL (with credentials) stays out of logs
    frames: DropOldestQueue[Frame] = DropOldestQueue(64)
    reader = CameraFrames(request, frames)
    reader.start()
    try:
        await _until(lambda: reader.decoded >= 1, 30, "a first frame")
        first = reader.decoded
        await asyncio.sleep(4.0)
        decoded = reader.decoded - first
    finally:
        await video_site.hub.async_add_executor_job(reader.stop)
    frame = frames.get(0)
    assert frame is not None and frame.camera == "plaza_reyes" and frame.area == "centro"
    assert frame.image.shape == (90, 160, 3)  # 320x180 sent, scaled to the width asked
    # the stream has 10 frames a second; the analytic asked for 2: about 8 in 4 s, never the stream's 40
    assert 4 <= decoded <= 12, decoded


async def test_frames_nobody_takes_are_dropped_oldest_first(video_site: VideoSite) -> None:
    request = frame_request(video_site.hub, "camera.tarajal_lane1", fps=5, width=160)
    frames: DropOldestQueue[Frame] = DropOldestQueue(2)
    reader = CameraFrames(request, frames)
    reader.start()
    try:
        await _until(lambda: frames.dropped >= 3, 30, "frames to be dropped")
    finally:
        await video_site.hub.async_add_executor_job(reader.stop)
    assert frames.qsize() == 2  # bounded: the queue never grows past its size
    newest = [frames.get(0), frames.get(0)]
    assert all(f is not None for f in newest)
    assert newest[0].ts <= newest[1].ts  # type: ignore[union-attr]
    assert newest[1].ts >= time.time() - 5  # type: ignore[union-attr]  # the fresh ones were kept


async def test_the_decoder_reconnects_after_the_stream_goes_and_stops_cleanly(video_site: VideoSite) -> None:
    request = frame_request(video_site.hub, "camera.port_gate", fps=4, width=160)
    request = type(request)(**{**{f: getattr(request, f) for f in request.__dataclass_fields__},
                               "retry_initial": 0.2, "retry_maximum": 1.0, "stall_after": 2.0})
    states: list[tuple[str, bool]] = []
    reader = CameraFrames(request, DropOldestQueue(2), on_state=lambda c, a, _e: states.append((c, a)))
    reader.start()
    try:
        await _until(lambda: reader.available is True, 30, "the stream")
        await video_site.server.async_stop()  # the RTSP server goes away
        await _until(lambda: reader.available is False, 30, "the loss to be seen")
        assert "s3cret" not in reader.error
        decoded = reader.decoded
        assert await video_site.server.async_start(timeout=60)
        await _until(lambda: reader.decoded > decoded + 2, 40, "frames after the server came back")
        assert reader.reconnects >= 1 and states[:3] == [("port_gate", True), ("port_gate", False),
                                                         ("port_gate", True)]
        decoder = reader._decoder
        assert isinstance(decoder, StreamDecoder) and decoder._process is not None
        process = decoder._process
    finally:
        await video_site.hub.async_add_executor_job(reader.stop)
    assert reader._thread is not None and not reader._thread.is_alive()
    assert process.poll() is not None  # ffmpeg is gone


async def test_an_unknown_camera_is_refused(video_site: VideoSite) -> None:
    with pytest.raises(LookupError, match=r"camera\.nowhere"):
        await async_frame_request(video_site.hub, "camera.nowhere", fps=1)
