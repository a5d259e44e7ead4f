"""Frames for analytics: the camera integration's frame source against reading every frame with OpenCV.

    python -m bench.frames                                  # 2 cameras, 1080p 4 Mbit/s, 20 s each side
    python -m bench.frames --cameras 4 --seconds 60 --fps 2 --width 640

Both sides read the same streams of the simulator's GStreamer RTSP server (one clip, encoded once and cached in
--clip-dir), one side after the other, in the same run. The baseline is how an analytic read an RTSP camera
before (ANPR's `OpenCVSource`): `cv2.VideoCapture(url).read()` in a loop, every frame decoded, converted and
handed over at full size, the analytic keeping the ones it wants. Ours is `integrations.camera.frames`
(`CameraFrames`: one ffmpeg per camera that keeps `--fps` frames a second scaled to `--width`, into a bounded
queue that drops the oldest), with a consumer taking every frame. Each camera is read in its own child process;
CPU is the child's CPU-seconds (with its ffmpeg's) per wall second from its first frame on (start-up left out;
1.0 = one core), RSS the child's peak (its ffmpeg's reported apart). Prints one JSON object at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hub.core import Hub
from integrations.simulator.cameras import CAMERAS_SCHEMA, SimulatedCameras, rtsp_server_available

from ._lib import proc_cpu_s


def _child_opencv(url: str, seconds: float) -> dict[str, Any]:
    import cv2

    cap = cv2.VideoCapture(url)
    frames = 0
    shape: tuple[int, ...] = ()
    steady: tuple[float, float] | None = None  # wall and CPU at the first frame: start-up is not counted
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ok, frame = cap.read()
        if not ok:
            time.sleep(0.05)
            continue
        if steady is None:
            steady = (time.monotonic(), _self_cpu())
            deadline = steady[0] + seconds
            continue
        frames += 1
        shape = frame.shape
    assert steady is not None, "no frame"
    wall, cpu = time.monotonic() - steady[0], _self_cpu() - steady[1]
    cap.release()
    return {"frames": frames, "shape": list(shape), "wall_s": wall, "cpu_s": cpu}


def _child_frames(url: str, seconds: float, fps: float, width: int) -> dict[str, Any]:
    from hub.helpers.workers import DropOldestQueue
    from integrations.camera.frames import CameraFrames, FrameRequest

    queue: DropOldestQueue[Any] = DropOldestQueue(2)
    reader = CameraFrames(FrameRequest("bench", url, fps=fps, width=width), queue)
    reader.start()
    frames = 0
    shape: tuple[int, ...] = ()
    ffmpeg_rss = 0.0
    steady: tuple[float, float, int] | None = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = queue.get(0.2)
        if frame is None:
            continue
        process = getattr(reader._decoder, "_process", None)  # the bench reads its ffmpeg
        if process is None:
            continue
        if steady is None:
            steady = (time.monotonic(), _self_cpu() + proc_cpu_s(process.pid), process.pid)
            deadline = steady[0] + seconds
            continue
        frames += 1
        shape = frame.image.shape
        ffmpeg_rss = max(ffmpeg_rss, _rss_mib(process.pid))
    assert steady is not None, "no frame"
    wall, cpu = time.monotonic() - steady[0], _self_cpu() + proc_cpu_s(steady[2]) - steady[1]
    reader.stop()
    return {"frames": frames, "shape": list(shape), "dropped": queue.dropped, "ffmpeg_rss_mib": round(ffmpeg_rss, 1),
            "wall_s": wall, "cpu_s": cpu}


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime



def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _child(argv: list[str]) -> None:
    kind, url, seconds = argv[0], argv[1], float(argv[2])
    if kind == "opencv":
        result = _child_opencv(url, seconds)
    else:
        result = _child_frames(url, seconds, float(argv[3]), int(argv[4]))
    result["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result), flush=True)


def _side(kind: str, urls: list[str], seconds: float, fps: float, width: int) -> dict[str, Any]:
    """Run one child per camera at once; each measures its CPU (with its ffmpeg's) from its first frame on."""
    children = [subprocess.Popen([sys.executable, "-m", "bench.frames", "--child", kind, url, str(seconds),
                                  str(fps), str(width)], stdout=subprocess.PIPE, text=True) for url in urls]
    results = [json.loads(child.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1])
               for child in children]
    return {
        "cpu_per_camera": round(sum(r["cpu_s"] / r["wall_s"] for r in results) / len(urls), 4),
        "frames_per_s_per_camera": round(sum(r["frames"] / r["wall_s"] for r in results) / len(urls), 2),
        "frame_shape": results[0]["shape"],
        "rss_mib_per_camera": round(sum(r["max_rss_mib"] for r in results) / len(urls), 1),
        **({"ffmpeg_rss_mib_per_camera": round(sum(r["ffmpeg_rss_mib"] for r in results) / len(urls), 1),
            "dropped": sum(r["dropped"] for r in results)} if kind == "frames" else {}),
    }


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-frames-") as tmp:
        hub = Hub(Path(tmp))
        streams = [{"id": f"cam{i}", "width": args.width_source, "height": args.width_source * 9 // 16,
                    "bitrate_kbps": args.bitrate_kbps, "pattern": "testsrc2"} for i in range(args.cameras)]
        server = SimulatedCameras(hub, CAMERAS_SCHEMA({"port": args.port, "clip_dir": str(args.clip_dir),
                                                       "clip_seconds": 10, "fps": 25, "streams": streams}))
        if not await server.async_start(timeout=600):
            raise SystemExit("the simulated RTSP server did not start")
        try:
            urls = [server.url(f"cam{i}") for i in range(args.cameras)]
            loop = asyncio.get_running_loop()
            baseline = await loop.run_in_executor(None, _side, "opencv", urls, args.seconds, args.fps, args.width)
            ours = await loop.run_in_executor(None, _side, "frames", urls, args.seconds, args.fps, args.width)
        finally:
            await server.async_stop()
            await hub.async_stop()
    return {
        "bench": "frames", "cameras": args.cameras, "seconds": args.seconds,
        "source": f"{args.width_source}x{args.width_source * 9 // 16} 25 fps {args.bitrate_kbps} kbit/s H.264",
        "asked": {"fps": args.fps, "width": args.width},
        "baseline_opencv_every_frame": baseline, "camera_frames": ours,
        "cpu_ratio": round(ours["cpu_per_camera"] / baseline["cpu_per_camera"], 3)
        if baseline["cpu_per_camera"] else None,
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=float, default=2.0, help="frames a second the analytic asks for")
    parser.add_argument("--width", type=int, default=640, help="width the analytic asks for")
    parser.add_argument("--width-source", type=int, default=1920)
    parser.add_argument("--bitrate-kbps", type=int, default=4000)
    parser.add_argument("--port", type=int, default=18654)
    parser.add_argument("--clip-dir", type=Path, default=Path(tempfile.gettempdir()) / "hacho-bench-clips")
    args = parser.parse_args()
    if not rtsp_server_available():
        raise SystemExit("ffmpeg or GStreamer's RTSP server missing (scripts/setup-video.sh)")
    print(json.dumps(asyncio.run(_run(args)), indent=2))


if __name__ == "__main__":
    main()
