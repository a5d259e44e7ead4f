"""REST for recorded video (what a live view, wall and playback UI build on; docs/video.md):

- GET /api/camera/{camera_id}/recordings?start=<ts>&end=<ts>[&purpose=<why>]: segments, gaps and playable
  ranges (playback grant); with a purpose, the range is audited as a playback (purpose.py);
- GET /api/camera/{camera_id}/segments/{segment_id}?purpose=<why>: one fragmented-MP4 segment (video/mp4),
  its file verified against the indexed sha256 first (409 when corrupt or altered); the purpose (10 to 500
  characters) is required (400 without it), and the playback is audited once per range (playback grant);
- GET /api/camera/{camera_id}/snapshot[?stream=sub&width=320]: a JPEG now (view grant);
- GET /api/camera/{camera_id}/live?stream=main|sub: a websocket of live fragmented MP4 for Media Source
  Extensions (view grant, same-site Origin only); the first binary message is a 4-byte big-endian length,
  that many bytes of JSON (`{"codec", "mime", "camera", "stream"}`), then the init segment; every later
  one is a fragment (moof + mdat), the first of them starting with a keyframe. Each viewing session is audited
  (`camera.view` at the start, `camera.view_end` with its seconds at the end).
- GET /api/camera/{camera_id}/hls/{stream}/{name}: live HLS, the fallback of the websocket (view grant):
  `index.m3u8` (starting the stream's HLS copy for its first viewer and waiting for its first segment),
  then `init.mp4` and `segNNNNNN.m4s` as the playlist names them (hls.py); each viewer is audited as above.

Each checks the user's video grant and the camera's centre (access.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import Callable
from typing import Any, Final

import orjson
from aiohttp import web

from hub.audit import audit_record
from hub.core import Hub
from hub.exceptions import HubError
from hub.http import HUB_KEY, KEY_USER, ApiError, HubView
from hub.http.access import ROLES_STAFF
from hub.http.server import async_register_views as register_views
from hub.http.view import request_context, same_origin

from .access import VideoDenied, check_video_access
from .const import GRANT_PLAYBACK, GRANT_VIEW, STREAM_MAIN, STREAM_SUB
from .hls import DATA_HLS, PLAYLIST, SEGMENT_NAME, hls_command, hls_output
from .live import DATA_LIVE, LIVE_OUTPUT, LiveClosed, LiveStreams, LiveViewer, live_command
from .manager import CameraManager
from .privacy import BLURRED, DATA_FACE_BLUR, FaceBlurProvider, sees_faces
from .purpose import audit_playback, playback_purpose
from .recorder import CameraStream

__all__ = ["async_register_views"]

MAX_RANGE_SECONDS = 31 * 86400
CLOSE_NO_VIDEO: Final = 4504  # no init segment from the camera in time


def _camera(request: web.Request, camera_id: str, grant: str) -> tuple[Hub, CameraManager, CameraStream]:
    from . import DATA_KEY

    hub: Hub = request.app[HUB_KEY]
    manager = hub.data.get(DATA_KEY)
    if manager is None:
        raise ApiError(404, "not_found", "The camera integration is not loaded")
    camera = manager.cameras.get(camera_id)
    if camera is None:
        raise ApiError(404, "not_found", f"No camera {camera_id!r}")
    try:
        check_video_access(hub, request.get(KEY_USER), camera, grant)
    except VideoDenied as err:
        audit_record(hub, f"camera.{grant}", context=request_context(request), target=camera.entity_id,
                     outcome="denied", data={"camera": camera_id, "reason": str(err)})
        raise ApiError(403, "forbidden", f"{grant} refused: {err}") from None
    return hub, manager, camera


def _face_blur(request: web.Request, hub: Hub, camera: CameraStream, what: str) -> FaceBlurProvider | None:
    """None when the user sees the camera's faces; else the face blurrer (403, audited, when there is none,
    or when `what` is refused outright to a viewer who must not see faces)."""
    if sees_faces(hub, request.get(KEY_USER), camera):
        return None
    provider = hub.data.get(DATA_FACE_BLUR)
    if provider is None or what == GRANT_PLAYBACK:
        reason = ("recordings show faces your role may not see (ask for a redacted export)"
                  if what == GRANT_PLAYBACK else "faces must be blurred for your role; face blurring is not running")
        audit_record(hub, f"camera.{what}", context=request_context(request), target=camera.entity_id,
                     outcome="denied", data={"camera": camera.config.id, "reason": reason})
        raise ApiError(403, "forbidden", f"{what} refused: {reason}")
    return provider


def _ts(request: web.Request, name: str) -> float:
    text = request.query.get(name)
    if text is None:
        raise ApiError(400, "invalid_format", f"query parameter {name!r} is required (a Unix timestamp)")
    try:
        return float(text)
    except ValueError:
        raise ApiError(400, "invalid_format", f"{name}: expected a Unix timestamp, got {text!r}") from None


def _stream_param(request: web.Request) -> str:
    stream = request.query.get("stream", STREAM_MAIN)
    if stream not in (STREAM_MAIN, STREAM_SUB):
        raise ApiError(400, "invalid_format", "stream: expected 'main' or 'sub'")
    return stream


class RecordingsView(HubView):
    """GET /api/camera/{camera_id}/recordings?start=&end=."""

    url = "/api/camera/{camera_id}/recordings"
    roles = ROLES_STAFF  # VIDEO_GRANTS decides per role and camera, and audits a refusal
    name = "api:camera:recordings"
    openapi_tag = "camera"

    async def get(self, request: web.Request, camera_id: str) -> Any:
        """A camera's recorded segments, gaps and playable ranges between start and end (Unix seconds)."""
        hub, manager, camera = _camera(request, camera_id, GRANT_PLAYBACK)
        start, end = _ts(request, "start"), _ts(request, "end")
        if end <= start or end - start > MAX_RANGE_SECONDS:
            raise ApiError(400, "invalid_format", "end must be after start, by at most 31 days")
        purpose = playback_purpose(request, required=False)
        listing = await manager.async_query(camera_id, start, end)
        if purpose is not None:
            audit_playback(hub, request_context(request), camera.entity_id, camera_id, purpose, start, end)
        return listing


class SegmentView(HubView):
    """GET /api/camera/{camera_id}/segments/{segment_id}."""

    url = "/api/camera/{camera_id}/segments/{segment_id}"
    roles = ROLES_STAFF
    name = "api:camera:segment"
    openapi_tag = "camera"

    async def get(self, request: web.Request, camera_id: str, segment_id: str) -> web.StreamResponse:
        """One recorded segment (fragmented MP4), verified against its sha256; the view is audited."""
        hub, manager, camera = _camera(request, camera_id, GRANT_PLAYBACK)
        _face_blur(request, hub, camera, GRANT_PLAYBACK)  # refused to a viewer who must not see faces
        purpose = playback_purpose(request)
        assert purpose is not None
        try:
            number = int(segment_id)
        except ValueError:
            raise ApiError(400, "invalid_format", f"segment_id: expected an integer, got {segment_id!r}") from None
        try:
            info, path = await manager.async_segment_file(camera_id, number)
        except LookupError as err:
            raise ApiError(404, "not_found", str(err)) from None
        except ValueError as err:
            raise ApiError(409, "corrupt", str(err)) from None
        audit_playback(hub, request_context(request), camera.entity_id, camera_id, purpose, info.start_ts,
                       info.end_ts, segment_id=number)
        return web.FileResponse(path, headers={"Content-Type": "video/mp4", "X-Segment-Sha256": info.sha256,
                                               "Cache-Control": "private, no-store"})


class SnapshotView(HubView):
    """GET /api/camera/{camera_id}/snapshot."""

    url = "/api/camera/{camera_id}/snapshot"
    roles = ROLES_STAFF  # live view: engineers too (VIDEO_GRANTS)
    name = "api:camera:snapshot"
    openapi_tag = "camera"

    async def get(self, request: web.Request, camera_id: str) -> web.StreamResponse:
        """A JPEG frame from the camera now (stream=main|sub, width=pixels)."""
        hub, manager, camera = _camera(request, camera_id, GRANT_VIEW)
        blur = _face_blur(request, hub, camera, GRANT_VIEW)
        stream = _stream_param(request)
        width_text = request.query.get("width")
        width = int(width_text) if width_text and width_text.isdigit() else None
        try:
            jpeg = await manager.async_snapshot(camera_id, stream, width)
            if blur is not None:
                jpeg = await blur.async_blur_jpeg(jpeg)
        except (HubError, ValueError) as err:
            raise ApiError(503, "unavailable", str(err)) from None
        return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


class LiveView(HubView):
    """GET /api/camera/{camera_id}/live (websocket)."""

    url = "/api/camera/{camera_id}/live"
    name = "api:camera:live"
    openapi_tag = "camera"
    roles = ROLES_STAFF  # VIDEO_GRANTS "view" decides per role and camera (and its centre), and audits a refusal

    async def get(self, request: web.Request, camera_id: str) -> web.StreamResponse:
        """Live fragmented MP4 of the camera's main or sub stream over a websocket (view grant)."""
        hub, _manager, camera = _camera(request, camera_id, GRANT_VIEW)
        stream = _stream_param(request)
        blur = _face_blur(request, hub, camera, GRANT_VIEW)
        if not same_origin(request):
            raise ApiError(403, "forbidden", "Cross-site websocket refused")
        streams = hub.data.get(DATA_LIVE)
        if streams is None:
            raise ApiError(503, "unavailable", "Live video is not running")
        wsock = web.WebSocketResponse(heartbeat=30.0)
        await wsock.prepare(request)
        context = request_context(request)
        started = time.time()
        blurred = {"blurred": True} if blur is not None else {}
        audit_record(hub, "camera.view", context=context, target=camera.entity_id,
                     data={"camera": camera_id, "stream": stream, "start": started, **blurred})
        try:
            await _async_serve(wsock, streams, camera, stream, blur)
        finally:
            audit_record(hub, "camera.view_end", context=context, target=camera.entity_id,
                         data={"camera": camera_id, "stream": stream, "start": started,
                               "seconds": round(time.time() - started, 1), **blurred})
        return wsock


class HlsView(HubView):
    """GET /api/camera/{camera_id}/hls/{stream}/{name}."""

    url = "/api/camera/{camera_id}/hls/{stream}/{name}"
    name = "api:camera:hls"
    openapi_tag = "camera"
    roles = ROLES_STAFF  # as the websocket: VIDEO_GRANTS "view" decides per role and camera, and audits a refusal

    async def get(self, request: web.Request, camera_id: str, stream: str, name: str) -> web.StreamResponse:
        """Live HLS of the camera's main or sub stream: the playlist, its init segment and its segments."""
        hub, _manager, camera = _camera(request, camera_id, GRANT_VIEW)
        if stream not in (STREAM_MAIN, STREAM_SUB):
            raise ApiError(400, "invalid_format", "stream: expected 'main' or 'sub'")
        if name != PLAYLIST and not SEGMENT_NAME.match(name):
            raise ApiError(404, "not_found", f"No HLS file {name[:40]!r}")
        blur = _face_blur(request, hub, camera, GRANT_VIEW)
        streams = hub.data.get(DATA_HLS)
        if streams is None:
            raise ApiError(503, "unavailable", "Live video is not running")
        resolve = camera.manager.resolve_sim
        if blur is None:
            hls = streams.get(camera_id, stream, lambda: camera.config.url(stream, resolve),
                              camera.config.unavailable_after, hls_command)
        else:  # the blurred stream, from the sub stream, whichever stream was asked for
            provider = blur
            stream = BLURRED
            hls = streams.get(camera_id, BLURRED, lambda: camera.config.url(STREAM_SUB, resolve),
                              camera.config.unavailable_after,
                              lambda url, folder, _timeout: provider.live_command(url, hls_output(folder)))
        if name == PLAYLIST and not await hls.async_wait_ready(camera.config.unavailable_after + 10):
            raise ApiError(503, "unavailable", f"No video from camera {camera_id} ({hls.last_error or 'no segment'})")
        streams.seen(request_context(request), request.remote or "", camera_id, camera.entity_id, stream)
        if name == PLAYLIST:
            body = await hub.async_add_executor_job((hls.folder / PLAYLIST).read_bytes)
            return web.Response(body=body, content_type="application/vnd.apple.mpegurl",
                                headers={"Cache-Control": "no-store"})
        path = hls.folder / name
        if not await hub.async_add_executor_job(path.is_file):
            raise ApiError(404, "not_found", f"No HLS file {name!r} (no longer in the playlist)")
        return web.FileResponse(path, headers={"Content-Type": "video/mp4", "Cache-Control": "no-store"})


async def _async_serve(wsock: web.WebSocketResponse, streams: LiveStreams, camera: CameraStream,
                       stream: str, blur: FaceBlurProvider | None) -> None:
    """Send the init message and the fragments until either side ends; with `blur`, those of the camera's
    blurred stream (made from its sub stream, whichever stream was asked for), never the raw one."""
    viewer = LiveViewer()
    resolve = camera.manager.resolve_sim
    if blur is None:
        live, remove = streams.watch(camera.config.id, stream, lambda: camera.config.url(stream, resolve), viewer,
                                     camera.config.unavailable_after, live_command)
    else:
        stream = BLURRED
        live, remove = streams.watch(camera.config.id, BLURRED, lambda: camera.config.url(STREAM_SUB, resolve),
                                     viewer, camera.config.unavailable_after,
                                     lambda url, _timeout: blur.live_command(url, list(LIVE_OUTPUT)))
    sender = asyncio.get_running_loop().create_task(_async_send(
        wsock, live.ready, lambda: live.init, lambda: live.codec, viewer, camera, stream))
    try:
        async for _message in wsock:  # the player sends nothing; this notices its close
            pass
    finally:
        remove()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _async_send(wsock: web.WebSocketResponse, ready: asyncio.Event, init: Callable[[], bytes | None],
                      codec: Callable[[], str | None], viewer: LiveViewer, camera: CameraStream,
                      stream: str) -> None:
    pending = asyncio.ensure_future(viewer.queue.get())
    waiter = asyncio.ensure_future(ready.wait())
    try:
        await asyncio.wait({pending, waiter}, timeout=camera.config.unavailable_after + 10,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    data = init()
    if not (pending.done() and isinstance(pending.result(), LiveClosed)) and (not ready.is_set() or data is None):
        pending.cancel()
        await wsock.close(code=CLOSE_NO_VIDEO, message=b"no video from the camera")
        return
    if data is not None:
        header = orjson.dumps({"codec": codec(), "mime": f'video/mp4; codecs="{codec()}"',
                               "camera": camera.config.id, "stream": stream})
        with contextlib.suppress(ConnectionResetError):
            await wsock.send_bytes(struct.pack(">I", len(header)) + header + data)
    while True:
        item = await pending
        if isinstance(item, LiveClosed):
            await wsock.close(code=item.code, message=item.reason.encode())
            return
        try:
            await wsock.send_bytes(item)
        except ConnectionResetError:
            return
        pending = asyncio.ensure_future(viewer.queue.get())


def async_register_views(hub: Hub) -> bool:
    """Serve the camera API (once per hub; the server may already listen); False without an HTTP API."""
    return register_views(hub, (RecordingsView, SegmentView, SnapshotView, LiveView, HlsView), "Camera API")
