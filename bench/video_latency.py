"""Glass-to-glass latency of live video on Media Source Extensions, read from a burned-in clock.

The "glass" at the camera: this process draws each frame with the wall-clock time (ms since the epoch) as
a 42-bit barcode of black and white blocks, and ffmpeg encodes it live (x264 ultrafast, zerolatency,
1-second GOP) as a camera would, served as MPEG-TS over HTTP. The path is then the hub's own: the camera
integration's LiveStreams (one ffmpeg copying into fragmented MP4, no decoding) and a websocket with the
/api/camera/<id>/live protocol, into the frontend's LivePlayer (frontend/static/js/video.js) in a headless
Chromium. The "glass" at the operator: for every frame Chromium presents (requestVideoFrameCallback), the
page draws it on a canvas, reads the barcode and subtracts it from the frame's expected display time.
Both clocks are this machine's. Chromium decodes in software here (--disable-gpu).

Used by `python -m bench.video --latency-seconds N`; on its own: `python -m bench.video_latency`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from hub.core import Hub
from integrations.camera.live import LiveClosed, LiveStreams, LiveViewer

__all__ = ["async_glass_to_glass"]

WIDTH, HEIGHT, FPS = 640, 360, 25
BITS = 42  # ms since the epoch fit in 41
BLOCK, STEP, PER_ROW = 30, 40, 14
STATIC = Path(__file__).resolve().parents[1] / "frontend" / "static"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]

_PAGE = """<!doctype html><html lang="es"><body>
<video id="v" muted playsinline autoplay width="%(w)d" height="%(h)d"></video>
<script type="module">
import { LivePlayer } from "/static/js/video.js";
const video = document.getElementById("v");
new LivePlayer(video, { live_url: "/live", snapshot_url: "/none" }, "main").start();
const canvas = document.createElement("canvas");
canvas.width = %(w)d; canvas.height = %(h)d;
const ctx = canvas.getContext("2d", { willReadFrequently: true });
window.samples = [];
function onFrame(_now, meta) {
  ctx.drawImage(video, 0, 0, %(w)d, %(h)d);
  let ms = 0;
  for (let b = %(bits)d - 1; b >= 0; b -= 1) {
    const x = (b %% %(per_row)d) * %(step)d + 20 + %(half)d, y = Math.floor(b / %(per_row)d) * %(step)d + 20 + %(half)d;
    const bit = ctx.getImageData(x, y, 1, 1).data[0] > 128 ? 1 : 0;
    ms = ms * 2 + bit;
  }
  const shown = performance.timeOrigin + meta.expectedDisplayTime;
  window.samples.push(shown - ms);
  video.requestVideoFrameCallback(onFrame);
}
video.requestVideoFrameCallback(onFrame);
</script></body></html>"""


def _frames(encoder: subprocess.Popen[bytes], stop: threading.Event) -> None:
    """Write gray frames with the wall-clock barcode at FPS until stopped (blocking: a thread)."""
    began = time.time()
    count = 0
    white = b"\xff" * BLOCK
    assert encoder.stdin is not None
    while not stop.is_set():
        frame = bytearray(WIDTH * HEIGHT)
        ms = int(time.time() * 1000)
        for bit in range(BITS):
            if (ms >> bit) & 1:
                x0 = (bit % PER_ROW) * STEP + 20
                y0 = (bit // PER_ROW) * STEP + 20
                for y in range(y0, y0 + BLOCK):
                    frame[y * WIDTH + x0:y * WIDTH + x0 + BLOCK] = white
        try:
            encoder.stdin.write(frame)
            encoder.stdin.flush()
        except (BrokenPipeError, ValueError):
            return
        count += 1
        late = time.time() - (began + count / FPS)
        if late > 1 / FPS:  # blocked (no client yet): drop the missed frames as a camera does, no burst
            began += late
        time.sleep(max(0.0, began + count / FPS - time.time()))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _serve_live(request: web.Request) -> web.WebSocketResponse:
    """The /api/camera/<id>/live protocol: length + JSON header + init, then fragments."""
    streams: LiveStreams = request.app["streams"]
    url: str = request.app["url"]
    wsock = web.WebSocketResponse()
    await wsock.prepare(request)
    viewer = LiveViewer()
    live, remove = streams.watch("g2g", "main", lambda: url, viewer, 10.0)
    try:
        await asyncio.wait_for(live.ready.wait(), 30)
        assert live.init is not None
        header = orjson.dumps({"codec": live.codec, "mime": f'video/mp4; codecs="{live.codec}"',
                               "camera": "g2g", "stream": "main"})
        await wsock.send_bytes(struct.pack(">I", len(header)) + header + live.init)
        while not wsock.closed:
            item = await viewer.queue.get()
            if isinstance(item, LiveClosed):
                break
            await wsock.send_bytes(item)
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        remove()
    return wsock


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999) - 1))], 1)


async def async_glass_to_glass(hub: Hub, seconds: float, warmup: float = 3.0) -> dict[str, Any]:
    """Latency (ms) from the frame's drawing to its display in Chromium through the hub's live path."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return {"g2g_error": "chromium is not installed"}
    from playwright.async_api import async_playwright

    port, web_port = _free_port(), _free_port()
    encoder = subprocess.Popen(  # noqa: ASYNC220 - the benchmark's camera
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray",
         "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast",
         "-tune", "zerolatency", "-g", str(FPS), "-pix_fmt", "yuv420p", "-b:v", "1M", "-f", "mpegts",
         "-muxdelay", "0", "-flush_packets", "1", "-listen", "1", f"http://127.0.0.1:{port}/live.ts"],
        stdin=subprocess.PIPE, start_new_session=True)
    stop = threading.Event()
    writer = threading.Thread(target=_frames, args=(encoder, stop), daemon=True)
    writer.start()
    streams = LiveStreams(hub)
    app = web.Application()
    app["streams"] = streams
    app["url"] = f"http://127.0.0.1:{port}/live.ts"
    page_html = _PAGE % {"w": WIDTH, "h": HEIGHT, "bits": BITS, "per_row": PER_ROW, "step": STEP,
                         "half": BLOCK // 2}

    async def _page(_request: web.Request) -> web.Response:
        return web.Response(text=page_html, content_type="text/html")

    app.router.add_get("/", _page)
    app.router.add_get("/live", _serve_live)
    app.router.add_static("/static", STATIC)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", web_port)
    await site.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{web_port}/")
                await page.wait_for_function("() => window.samples && window.samples.length > 0", timeout=30000)
                await asyncio.sleep(warmup)
                await page.evaluate("() => { window.samples = []; }")
                await asyncio.sleep(seconds)
                samples: list[float] = await page.evaluate("() => window.samples")
            finally:
                await browser.close()
    finally:
        stop.set()
        await runner.cleanup()
        await streams.async_stop()
        with contextlib.suppress(OSError):
            if encoder.stdin is not None:
                encoder.stdin.close()
        encoder.terminate()
        await asyncio.to_thread(encoder.wait, 10)
    valid = [s for s in samples if 0 <= s < 60000]  # a misread barcode is far off
    return {"g2g_frames": len(valid), "g2g_misread": len(samples) - len(valid),
            "g2g_p50_ms": _quantile(valid, 0.5), "g2g_p95_ms": _quantile(valid, 0.95),
            "g2g_source": f"{WIDTH}x{HEIGHT} {FPS} fps x264 zerolatency, 1 s GOP"}


async def _main() -> dict[str, Any]:
    import tempfile

    hub = Hub(Path(tempfile.mkdtemp(prefix="hacho-bench-g2g-")))
    await hub.async_start()
    try:
        return await async_glass_to_glass(hub, 10.0)
    finally:
        await hub.async_stop()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_main()), indent=2))
