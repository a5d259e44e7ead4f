"""Video recording cost: N cameras recorded by the camera integration against N plain `ffmpeg -c copy`,
how many cameras fit a CPU budget, live start, seeks and retention.

    python -m bench.video                      # 4 cameras, 1080p 4 Mbit/s, 20 s each side (short default)
    python -m bench.video --cameras 64 --seconds 30 --counts 16,32,64,96,128   # the README's figures
    python -m bench.video --live-only --live-trials 20   # live start only

With `--pairs N` the two sides run N times, interleaved, and medians are reported (`pair_ratios`: each
pair's ratio). Both sides record the same streams of the simulator's GStreamer RTSP server (one clip, encoded once and
cached in --clip-dir) in the same run, one after the other. The baseline is what Frigate runs per camera:
`ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time S ...mp4`. Our side is the whole
integration: the same ffmpeg with progress and segment-list output, plus the hub's share (per
segment: sha256 and an MP4 box walk in one read, the index in SQLite) measured as the hub process's
CPU and its waited children's.
CPU is CPU-seconds per wall second per camera (1.0 = one core); RSS is per camera (ffmpeg processes;
the hub's RSS is reported on its own), and PSS beside it (pages shared by the ffmpeg processes, their
libraries mostly, divided among them: what one more camera adds).
The RTSP server's cost is the same for both and reported apart.
Live start (`live_*`): a viewer asks for a camera stream through the camera integration's LiveStreams
(what the /live websocket does) and the time until its first media fragment (init segment + a
keyframe-led fragment: the first decodable frame) is measured, cold (no viewer yet: ffmpeg starts,
connects, waits for a keyframe) and warm (joining a running stream: the last fragment is sent at once).
The browser's decode of that first fragment is not included.
In a browser (`glass_*`, bench/video_glass.py, Debian's Chromium through Playwright, 1080p by default): the
frontend's own player started cold to its first presented frame, over the websocket into MSE and over HLS
(`mse_start_*`, `hls_start_*`), and glass-to-glass latency from the burned-in clock (`mse_glass_*`,
`hls_glass_*`): each frame the page shows is matched to the same frame of a reference ffmpeg reading the RTSP
stream directly, and timed against its arrival there. `--glass-seconds 0` leaves it out.
Hub idle (`hub_idle_cpu_cores`): the hub process with no camera, measured first; `ours_marginal_*` is
ours less that idle cost, per camera (what one more camera costs).
Capacity (`--counts`): our recorder alone at each count in turn, `--seconds` each; a count passes when
ffmpeg + hub CPU stays within `--budget-cores` (1.0: one of this machine's two cores left free) and every
camera kept recording (segments at least 90 % of what the time allows, no gap); `capacity_cameras` is the
largest passing count (the step-up stops at the first failure).
Seek (`seek_*`): a random camera and time in what was recorded: the recordings listing around it, the
segment holding it verified against its sha256 and read, as the segment view serves it (server side: the
browser's fetch and decode of that segment are not included).
Glass-to-glass (`g2g_*`, bench/video_latency.py): a live camera with a burned-in wall clock through the hub's
live path into the frontend's MSE player in Chromium, the clock read back from each presented frame.
Retention (`retention_*`): every segment of the baseline-size run deleted the way the retention pass does
(batches of its size: files, then index rows), segments per second.
Prints one JSON object at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hub.core import Context, Hub
from hub.recorder import async_setup_recorder
from integrations import camera
from integrations.camera import index as segment_index
from integrations.camera.live import LiveStreams, LiveViewer
from integrations.camera.purpose import audit_playback
from integrations.simulator.cameras import CAMERAS_SCHEMA, SimulatedCameras, rtsp_server_available

from ._lib import proc_cpu_s

_PAGE = os.sysconf("SC_PAGE_SIZE")



def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return 0.0


def _pss_mib(pid: int) -> float:
    """Proportional set size: shared pages (ffmpeg's libraries) divided among the processes mapping them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _self_cpu_s() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _sample(pids: list[int], seconds: float) -> dict[str, float]:
    """CPU over `seconds` and mean RSS of the given processes (sampled every second)."""
    start = {pid: proc_cpu_s(pid) for pid in pids}
    rss: list[float] = []
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        await asyncio.sleep(1.0)
        rss.append(sum(_rss_mib(pid) for pid in pids))
    wall = time.monotonic() - began
    cpu = sum(proc_cpu_s(pid) - start[pid] for pid in pids)
    pss = sum(_pss_mib(pid) for pid in pids)
    return {"cpu_cores": cpu / wall, "rss_mib": sum(rss) / max(1, len(rss)), "pss_mib": pss, "wall_s": wall}


async def _baseline(urls: list[str], out: Path, seconds: float, segment: float) -> dict[str, Any]:
    procs = []
    for index, url in enumerate(urls):
        folder = out / f"plain{index}"
        folder.mkdir(parents=True)
        procs.append(subprocess.Popen(  # noqa: ASYNC220 - a benchmark starting its baseline processes
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
             "-c", "copy", "-f", "segment", "-segment_time", f"{segment:g}", "-segment_format", "mp4",
             "-reset_timestamps", "1", str(folder / "%06d.mp4")], start_new_session=True))
    await asyncio.sleep(3)  # connected and past the first keyframe
    result = await _sample([p.pid for p in procs], seconds)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        await asyncio.to_thread(proc.wait, 10)
    segments = await asyncio.to_thread(lambda: sum(1 for _ in out.rglob("*.mp4")))
    return {**result, "segments": segments}


async def _ours(hub: Hub, server: SimulatedCameras, streams: list[str], out: Path, seconds: float,
                segment: float, seek_trials: int = 0, retention: bool = False) -> dict[str, Any]:
    config = camera.CONFIG_SCHEMA({
        "storage_dir": str(out / "ours"), "segment_seconds": segment, "min_free_bytes": 0,
        "retention_interval": 3600,  # no retention pass during the measurement
        "cameras": [{"id": f"cam{i}", "main": server.url(stream)} for i, stream in enumerate(streams)]})
    assert await camera.async_setup(hub, config)
    manager = hub.data[camera.DATA_KEY]
    deadline = time.monotonic() + 120
    while any(c.process.pid is None for c in manager.cameras.values()) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)  # many recorders take a while to start on a loaded machine
    await asyncio.sleep(3)  # connected and past the first keyframe, as the baseline
    pids = [pid for c in manager.cameras.values() if (pid := c.process.pid) is not None]
    hub_cpu, began = _self_cpu_s(), time.monotonic()
    result = await _sample(pids, seconds)
    hub_share = (_self_cpu_s() - hub_cpu) / (time.monotonic() - began)
    segments = sum(c.segments for c in manager.cameras.values())
    gaps = sum(c.gaps for c in manager.cameras.values())
    extra: dict[str, Any] = {}
    if seek_trials:
        extra.update(await _seeks(manager, seek_trials))
    if retention:
        manager.stopping = True  # the recorders stop before the deletion is timed (no gap recorded for that)
        for cam in manager.cameras.values():
            await cam.async_stop()
        extra.update(await _retention(hub, manager))
    await camera.async_unload(hub)
    return {**result, "hub_cpu_cores": hub_share, "hub_rss_mib": _rss_mib(os.getpid()), "segments": segments,
            "gaps": gaps, "recorders": len(pids), **extra}


SEEK_PURPOSE = "benchmark: seek to a random recorded time"


async def _seeks(manager: Any, trials: int) -> dict[str, Any]:
    """Seeks to random recorded times: listing, the segment holding the time verified, audited with its
    purpose and read."""
    rng = random.Random(1)
    now = time.time()
    times: list[float] = []
    misses = 0
    ids = sorted(manager.cameras)
    for _ in range(trials):
        camera_id = rng.choice(ids)
        listing = await manager.async_query(camera_id, now - 3600, now + 60)
        ranges = listing["ranges"]
        if not ranges:
            misses += 1
            continue
        start, end = rng.choice(ranges)
        target = rng.uniform(start, end)
        began = time.monotonic()
        around = await manager.async_query(camera_id, target - 300, target + 300)
        holding = [s for s in around["segments"] if s["start"] <= target < s["end"] and s["status"] == "ok"]
        if not holding:
            misses += 1
            continue
        info, path = await manager.async_segment_file(camera_id, holding[0]["id"])
        # as the segment view does: a playback states its purpose, audited once per range (purpose.py)
        audit_playback(manager.hub, Context(user_id="bench"), f"camera.{camera_id}", camera_id, SEEK_PURPOSE,
                       info.start_ts, info.end_ts, segment_id=holding[0]["id"])
        data = await asyncio.to_thread(path.read_bytes)
        times.append(time.monotonic() - began)
        assert data[4:8] == b"ftyp"
    return {"seek_trials": len(times), "seek_misses": misses, "seek_p50_ms": _p(times, 0.5),
            "seek_p95_ms": _p(times, 0.95)}


def _expired_batch(session: Any, *, camera: str, before: float) -> list[Any]:
    return segment_index.expired_segments(session, camera, before, 500)


async def _retention(hub: Hub, manager: Any) -> dict[str, Any]:
    """Delete every indexed segment as the retention pass does (batches of 500: files, then rows)."""
    from hub.recorder import get_recorder

    recorder = get_recorder(hub)
    await recorder.async_flush()
    before = time.time() + 3600
    deleted = 0
    began = time.monotonic()
    for camera_id in manager.cameras:
        expired = functools.partial(_expired_batch, camera=camera_id, before=before)
        while batch := await recorder.async_db_job(expired):
            gone = await manager.retention.async_delete(batch, "benchmark")
            deleted += gone
            if gone < len(batch):
                break
    seconds = time.monotonic() - began
    return {"retention_deleted": deleted, "retention_seconds": round(seconds, 3),
            "retention_segments_per_s": round(deleted / seconds, 1) if seconds else None}


async def _hub_idle(seconds: float) -> float:
    """The hub process's CPU (cores) with no camera, over `seconds`."""
    before, began = _self_cpu_s(), time.monotonic()
    await asyncio.sleep(seconds)
    return (_self_cpu_s() - before) / (time.monotonic() - began)


async def _capacity(hub: Hub, server: SimulatedCameras, work: Path, args: argparse.Namespace,
                    idle: float) -> dict[str, Any]:
    """Step the number of recorded cameras up until the CPU budget is exceeded or recording falls behind."""
    steps = []
    best = 0
    for count in [int(c) for c in args.counts.split(",") if c.strip()]:
        out = work / f"capacity{count}"
        run = await _ours(hub, server, ["scene"] * count, out, args.seconds, args.segment_seconds)
        await asyncio.to_thread(shutil.rmtree, out, True)
        total = run["cpu_cores"] + run["hub_cpu_cores"]
        expected = count * (args.seconds + 3) / args.segment_seconds
        kept_up = run["segments"] >= 0.9 * (expected - count) and run["gaps"] == 0
        ok = total <= args.budget_cores and kept_up and run["recorders"] == count
        steps.append({"cameras": count, "cpu_cores": round(total, 4), "ffmpeg_cpu_cores": round(run["cpu_cores"], 4),
                      "hub_cpu_cores": round(run["hub_cpu_cores"], 4), "hub_marginal_cores": round(
                          run["hub_cpu_cores"] - idle, 4), "rss_mib": round(run["rss_mib"], 1),
                      "segments": run["segments"], "segments_expected": int(expected), "gaps": run["gaps"],
                      "within_budget": ok})
        if not ok:
            break
        best = count
    return {"capacity_cameras": best, "capacity_budget_cores": args.budget_cores, "capacity_steps": steps}


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each numeric figure over interleaved runs."""
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    return {k: statistics.median(run[k] for run in runs) for k in keys}


def _p(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) in milliseconds."""
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999) - 1))], 1)


async def _first_fragment(streams: LiveStreams, url: str, viewer: LiveViewer) -> tuple[float, Any]:
    began = time.monotonic()
    live, remove = streams.watch("bench", "main", lambda: url, viewer)
    item = await asyncio.wait_for(viewer.queue.get(), 30)
    assert isinstance(item, bytes) and live.init is not None, item
    return time.monotonic() - began, remove


async def _live(hub: Hub, url: str, trials: int) -> dict[str, Any]:
    streams = LiveStreams(hub)
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(trials):
        seconds, remove = await _first_fragment(streams, url, LiveViewer())
        cold.append(seconds)
        seconds, remove_second = await _first_fragment(streams, url, LiveViewer())
        warm.append(seconds)
        live = streams.streams[("bench", "main")]
        remove_second()
        remove()
        while live.running:  # noqa: ASYNC110 - the benchmark waits for the stop the last remover started
            await asyncio.sleep(0.05)
    await streams.async_stop()
    return {"live_trials": trials, "live_start_cold_p50_ms": _p(cold, 0.5), "live_start_cold_p95_ms": _p(cold, 0.95),
            "live_start_warm_p50_ms": _p(warm, 0.5), "live_start_warm_p95_ms": _p(warm, 0.95)}


async def _glass(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """Browser start and glass-to-glass figures (bench/video_glass.py), or why they were not measured."""
    if not args.glass_seconds:
        return {}
    chromium = os.environ.get("HACHO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        return {"glass": "not measured: no chromium or playwright"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.video_glass", "--url", url, "--width", str(args.width), "--height",
        str(args.height), "--seconds", str(args.glass_seconds), "--trials", str(args.start_trials),
        "--chromium", chromium, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        return {"glass": f"not measured: bench.video_glass exited {proc.returncode}"}
    return dict(json.loads(out[out.index(b"{"):]))


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if not rtsp_server_available():
        raise SystemExit("ffmpeg or GStreamer's RTSP server missing (scripts/setup-video.sh)")
    work = Path(tempfile.mkdtemp(prefix="hacho-bench-video-"))
    hub = Hub(work)
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{work / 'hacho.db'}", "commit_interval": 1})
    await hub.async_start()
    server = SimulatedCameras(hub, CAMERAS_SCHEMA({
        "port": _free_port(), "clip_dir": args.clip_dir, "clip_seconds": 10, "fps": 25,
        "streams": [{"id": "scene", "width": args.width, "height": args.height,
                     "bitrate_kbps": args.bitrate_kbps}]}))
    try:
        assert await server.async_start(timeout=900)
        urls = [server.url("scene")] * args.cameras  # one shared mount: the server's cost stays flat
        assert server.process is not None and server.process.pid is not None
        server_pid = server.process.pid
        live = await _live(hub, urls[0], args.live_trials) if args.live_trials else {}
        live.update(await _glass(args, urls[0]))
        if args.latency_seconds:
            from .video_latency import async_glass_to_glass

            live.update(await async_glass_to_glass(hub, args.latency_seconds))
        if args.live_only:
            return {"stream": f"{args.width}x{args.height} {args.bitrate_kbps} kbit/s", **live}
        idle = await _hub_idle(args.idle_seconds)
        server_before, t0 = proc_cpu_s(server_pid), time.monotonic()
        plains, ourses = [], []
        for pair in range(args.pairs):  # interleaved: the machine's load changes between runs
            last = pair == args.pairs - 1
            plains.append(await _baseline(urls, work / "plain", args.seconds, args.segment_seconds))
            await asyncio.to_thread(shutil.rmtree, work / "plain", True)
            ourses.append(await _ours(hub, server, ["scene"] * args.cameras, work, args.seconds,
                                      args.segment_seconds, seek_trials=args.seek_trials if last else 0,
                                      retention=last))
        ratios = [round((o["cpu_cores"] + o["hub_cpu_cores"]) / p["cpu_cores"], 3) if p["cpu_cores"] else None
                  for p, o in zip(plains, ourses, strict=True)]
        plain = _medians(plains)
        ours = {**ourses[-1], **_medians(ourses)}
        server_cpu = (proc_cpu_s(server_pid) - server_before) / (time.monotonic() - t0)
        capacity = await _capacity(hub, server, work, args, idle) if args.counts else {}
    finally:
        await server.async_stop()
        await hub.async_stop()
        shutil.rmtree(work, ignore_errors=True)
    n = args.cameras
    ours_total = ours["cpu_cores"] + ours["hub_cpu_cores"]
    return {
        "cameras": n, "seconds": args.seconds, "stream": f"{args.width}x{args.height} {args.bitrate_kbps} kbit/s",
        "baseline_cpu_per_camera": round(plain["cpu_cores"] / n, 5),
        "ours_ffmpeg_cpu_per_camera": round(ours["cpu_cores"] / n, 5),
        "ours_hub_cpu_per_camera": round(ours["hub_cpu_cores"] / n, 5),
        "ours_cpu_per_camera": round(ours_total / n, 5),
        "ours_vs_baseline_cpu": round(ours_total / plain["cpu_cores"], 3) if plain["cpu_cores"] else None,
        "hub_idle_cpu_cores": round(idle, 5),
        "ours_marginal_cpu_per_camera": round((ours_total - idle) / n, 5),
        "ours_marginal_vs_baseline_cpu": round((ours_total - idle) / plain["cpu_cores"], 3)
        if plain["cpu_cores"] else None,
        "ours_ffmpeg_vs_baseline_cpu": round(ours["cpu_cores"] / plain["cpu_cores"], 3) if plain["cpu_cores"] else None,
        "baseline_rss_mib_per_camera": round(plain["rss_mib"] / n, 2),
        "ours_rss_mib_per_camera": round(ours["rss_mib"] / n, 2),
        "baseline_pss_mib_per_camera": round(plain["pss_mib"] / n, 2),
        "ours_pss_mib_per_camera": round(ours["pss_mib"] / n, 2),
        "hub_rss_mib": round(ours["hub_rss_mib"], 1),
        "segments": {"baseline": plain["segments"], "ours": ours["segments"]}, "gaps": ours["gaps"],
        "pairs": args.pairs, "pair_ratios": ratios,
        "rtsp_server_cpu_cores": round(server_cpu, 4), **live,
        **{k: ours[k] for k in ("seek_trials", "seek_misses", "seek_p50_ms", "seek_p95_ms", "retention_deleted",
                                "retention_seconds", "retention_segments_per_s") if k in ours},
        **capacity, "load_average": os.getloadavg(), "cpu_count": os.cpu_count(),
    }


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--segment-seconds", type=float, default=4.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--bitrate-kbps", type=int, default=4000)
    parser.add_argument("--live-trials", type=int, default=10, help="live starts measured (0: none)")
    parser.add_argument("--live-only", action="store_true", help="measure live start (and the browser's) only")
    parser.add_argument("--glass-seconds", type=float, default=15.0,
                        help="seconds of glass-to-glass sampling per transport in Chromium (0: none)")
    parser.add_argument("--start-trials", type=int, default=5, help="cold browser starts per transport")
    parser.add_argument("--counts", default="", help="capacity step-up: camera counts to try in order (e.g. 16,32,64)")
    parser.add_argument("--budget-cores", type=float, default=1.0, help="CPU budget of the recorder (cores)")
    parser.add_argument("--seek-trials", type=int, default=50, help="seeks to random recorded times (0: none)")
    parser.add_argument("--latency-seconds", type=float, default=10.0,
                        help="glass-to-glass in Chromium measured this long (0: not measured; bench/video_latency.py)")
    parser.add_argument("--pairs", type=int, default=1, help="baseline/ours runs, interleaved (medians reported)")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="hub idle CPU measured this long")
    parser.add_argument("--clip-dir", default=str(Path(tempfile.gettempdir()) / "hacho-bench-video-clips"))
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(_parse())), indent=2))
