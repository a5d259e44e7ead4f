"""Live video in a real browser: start to first frame and glass-to-glass latency, websocket/MSE against HLS.

Run by `python -m bench.video` (`--glass-seconds`, `--start-trials`) as its own process (a hub of its own, which
sets its event loop's executor), or alone: `python -m bench.video_glass --url rtsp://... --width W --height H`
(JSON at the end). A hub with HTTP, users and the camera
integration (recording off) serves one camera of the simulator's RTSP server; Debian's Chromium (Playwright)
opens a page on the hub's origin that runs the frontend's own `LivePlayer` (frontend/static/js/video.js), once
as is (websocket into MSE) and once with `?video=hls` (hls.js on the hub's HLS copy).

- Start (`*_start_p50_ms`/`p95`): from the player's start to the first frame the browser presents
  (`requestVideoFrameCallback`), cold: no one watches the stream before (its ffmpeg starts, connects, waits
  for a keyframe; for HLS, the first one-second segment is written, the playlist and segments fetched).
- Glass-to-glass (`*_glass_p50_ms`/`p95`): the clips carry a burned-in clock (running time and frame number).
  A reference ffmpeg decodes the same RTSP stream directly (no buffering) and notes when each frame arrives;
  the page grabs the clock's region of the frame it shows (a canvas `drawImage`) several times a second with
  the time of the grab; each grab is matched to the reference frame with the same clock (normalised
  correlation of the pixels) and the latency is grab time minus that frame's arrival. It counts everything from
  the frame leaving the camera (the RTSP server) to the screen, except the camera's own encoder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CROP_WIDTH = 320  # the clock's region is scaled to this width for matching
SAMPLE_MS = 200
SEARCH_S = 8.0  # a grab is matched to reference frames this far back (the clips loop every 10 s)
CLOCK_SCALE = 14  # camera_clips: the clock's font size is height // 14, at the bottom left

_PAGE = """<!doctype html><html lang="es"><head><meta charset="utf-8"><title>bench</title></head>
<body><video id="v" muted playsinline width="640"></video>
<script type="module">
import { LivePlayer } from "/static/frontend/js/video.js";
const video = document.getElementById("v");
window.bench = { began: performance.now(), first: null };
video.requestVideoFrameCallback(() => { window.bench.first = performance.now(); });
window.player = new LivePlayer(video, { live_url: "/api/camera/bench/live",
                                        snapshot_url: "/api/camera/bench/snapshot" }, "main").start();
</script></body></html>"""

_GRAB = """async ([seconds, every, crop, width, height]) => {
  const video = document.getElementById("v");
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const samples = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    ctx.drawImage(video, crop[0], crop[1], crop[2], crop[3], 0, 0, width, height);
    const when = performance.timeOrigin + performance.now();
    const data = ctx.getImageData(0, 0, width, height).data;
    const gray = new Array(width * height);
    for (let i = 0; i < gray.length; i += 1) {
      gray[i] = Math.round(0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2]);
    }
    samples.push([when / 1000, gray, video.dataset.transport]);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  return samples;
}"""


@dataclass
class _Reference:
    """A direct decoder of the stream: each frame's clock region and the time it arrived."""

    url: str
    crop: tuple[int, int, int, int]
    size: tuple[int, int]
    frames: list[tuple[float, np.ndarray]] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    thread: threading.Thread | None = None

    def start(self) -> None:
        w, h, x, y = self.crop[2], self.crop[3], self.crop[0], self.crop[1]
        self.proc = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "fatal", "-fflags", "nobuffer", "-flags", "low_delay",
             "-rtsp_transport", "tcp", "-i", self.url, "-an", "-flush_packets", "1", "-vf",
             f"crop={w}:{h}:{x}:{y},scale={self.size[0]}:{self.size[1]}:flags=bilinear,format=gray",
             "-f", "rawvideo", "-"], stdout=subprocess.PIPE, start_new_session=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        size = self.size[0] * self.size[1]
        while len(data := self.proc.stdout.read(size)) == size:
            self.frames.append((time.time(), np.frombuffer(data, dtype=np.uint8).astype(np.float32)))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)

    def match(self, when: float, gray: np.ndarray) -> tuple[float, float, float] | None:
        """Seconds from the arrival of the reference frame that looks like `gray` to `when`, with the match's
        score and the best score of any frame 0.2 s or more away from it (how distinct the match was)."""
        candidates = [(t, f) for t, f in self.frames if when - SEARCH_S <= t <= when + 0.05]
        if not candidates:
            return None
        # z-scored pictures less their mean over the window: what is left is what changes (the clock), so a
        # frame matches on its clock rather than on the still picture around it
        stack = np.stack([_normalised(frame) for _t, frame in candidates])
        still = stack.mean(axis=0)
        moving = stack - still
        probe = _normalised(gray) - still
        norms = np.linalg.norm(moving, axis=1) * (np.linalg.norm(probe) or 1.0)
        scores = [float(v) for v in (moving @ probe) / np.where(norms > 0, norms, 1.0)]
        best = int(np.argmax(scores))
        if scores[best] < 0.5:  # not the same picture (a blank or unrelated frame)
            return None
        found = candidates[best][0]
        others = [score for (t, _f), score in zip(candidates, scores, strict=True) if abs(t - found) >= 0.2]
        return when - found, scores[best], max(others, default=0.0)


def _normalised(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean()
    return centred / (centred.std() or 1.0)


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999) - 1))], 1)


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hacho-bench-glass-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _site(folder: Path, url: str) -> tuple[Any, Any, str]:
    """A started hub with recorder, a user, sessions, HTTP, the frontend's static files and one camera; the
    user's session cookie (the websocket carries no bearer token: a browser sends its cookie)."""
    from frontend.app import STATIC_DIR
    from frontend.const import ROLES_SCREENS, STATIC_URL
    from hub.auth import async_setup_auth
    from hub.auth.sessions import DATA_SESSIONS
    from hub.auth.users import add_user
    from hub.core import Hub
    from hub.http import async_setup_http
    from hub.http.session import install_session_middleware
    from hub.recorder import async_setup_recorder
    from integrations import camera

    password = "bench password 1"
    add_user(folder, "bench", role="admin", centre="bench", password=password)
    hub = Hub(folder)
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{folder / 'hacho.db'}", "commit_interval": 1})
    await async_setup_auth(hub)
    http = await async_setup_http(hub, {"host": "127.0.0.1", "port": 0})
    sessions = hub.data[DATA_SESSIONS]
    install_session_middleware(http, sessions, security_headers=False)
    http.register_static_path(STATIC_URL, STATIC_DIR, roles=ROLES_SCREENS, requires_auth=False)
    assert await camera.async_setup(hub, camera.CONFIG_SCHEMA({
        "storage_dir": str(folder / "video"), "min_free_bytes": 0, "hls_idle_after": 2,
        "cameras": [{"id": "bench", "main": url, "record": {"mode": "off"}}]}))
    await hub.async_start()
    await http.async_start()
    _session, cookie = await sessions.async_login("bench", password)
    return hub, http, cookie


async def _idle(hub: Any) -> None:
    """Wait until no live stream of either kind runs (the next start is cold)."""
    from integrations.camera.hls import DATA_HLS
    from integrations.camera.live import DATA_LIVE

    for _ in range(200):
        if not hub.data[DATA_LIVE].streams and not hub.data[DATA_HLS].streams:
            return
        await asyncio.sleep(0.1)


async def measure(url: str, width: int, height: int, seconds: float, trials: int,
                  chromium: str) -> dict[str, Any]:
    """Start and glass-to-glass figures of both transports (see the module's docstring)."""
    from playwright.async_api import async_playwright

    from hub.http.session import COOKIE_NAME
    from integrations import camera

    size = max(16, height // CLOCK_SCALE)
    crop = (0, max(0, height - 2 * size - 24), width // 2, min(height, 2 * size + 24))
    scaled = (CROP_WIDTH, max(8, round(crop[3] * CROP_WIDTH / crop[2])))
    result: dict[str, Any] = {}
    with _workdir() as folder:
        hub, http, cookie = await _site(folder, url)
        reference = _Reference(url, crop, scaled)
        reference.start()
        try:
            async with async_playwright() as playwright:
                # the page is fulfilled by Playwright (no address of its own): Chromium's local network access
                # checks would treat it as public and refuse its websocket to 127.0.0.1 (the player would
                # then fall back to HLS, as it is meant to)
                browser = await playwright.chromium.launch(executable_path=chromium, args=[
                    "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                    "--disable-features=LocalNetworkAccessChecks"])
                context = await browser.new_context()
                await context.add_cookies([{"name": COOKIE_NAME, "value": cookie, "url": http.base_url}])
                await context.route("**/bench/player*", lambda route: route.fulfill(
                    status=200, content_type="text/html", body=_PAGE))
                for transport, query in (("mse", "auto"), ("hls", "hls")):
                    starts: list[float] = []
                    for _ in range(trials):
                        await _idle(hub)
                        page = await context.new_page()
                        await page.goto(f"{http.base_url}/bench/player?video={query}")
                        await page.wait_for_function("window.bench && window.bench.first !== null", timeout=60000)
                        starts.append(await page.evaluate("(window.bench.first - window.bench.began) / 1000"))
                        await page.close()
                    await _idle(hub)
                    page = await context.new_page()
                    await page.goto(f"{http.base_url}/bench/player?video={query}")
                    await page.wait_for_function("window.bench && window.bench.first !== null", timeout=60000)
                    await asyncio.sleep(3)  # settled at its usual distance from the live edge
                    samples = await page.evaluate(_GRAB, [seconds, SAMPLE_MS, list(crop), *scaled])
                    await page.close()
                    assert all(s[2] == transport for s in samples), {s[2] for s in samples}
                    matches = [found for when, gray, _t in samples
                               if (found := reference.match(when, np.asarray(gray, dtype=np.float32))) is not None]
                    latencies = [latency for latency, _best, _other in matches]
                    result.update({
                        f"{transport}_start_trials": len(starts),
                        f"{transport}_start_p50_ms": _p(starts, 0.5), f"{transport}_start_p95_ms": _p(starts, 0.95),
                        f"{transport}_glass_samples": f"{len(latencies)}/{len(samples)}",
                        f"{transport}_glass_p50_ms": _p(latencies, 0.5),
                        f"{transport}_glass_p95_ms": _p(latencies, 0.95),
                        # median correlation of the matched frame and of the best frame 0.2 s or more from it
                        f"{transport}_glass_match": [round(float(np.median([m[1] for m in matches])), 4),
                                                     round(float(np.median([m[2] for m in matches])), 4)]
                        if matches else None})
                await browser.close()
        finally:
            reference.stop()
            await camera.async_unload(hub)
            await http.async_stop()
            await hub.async_stop()
    return result


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the camera's RTSP URL (a clip with the burned-in clock)")
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=15.0, help="glass-to-glass sampling per transport")
    parser.add_argument("--trials", type=int, default=5, help="cold starts per transport")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _parse()
    print(json.dumps(asyncio.run(measure(arguments.url, arguments.width, arguments.height, arguments.seconds,
                                         arguments.trials, arguments.chromium)), indent=2))
