"""Live view without faces: the CPU one blurred live stream costs (integrations/face/live.py), with the cost of a
raw live stream (the `-c copy` ffmpeg of integrations/camera/live.py) measured in the same run as its baseline.

    python -m bench.live_blur                      # 640x360 and 1280x720 at 10 fps, 20 s of video each
    python -m bench.live_blur --seconds 5 --sizes 640x360

The input is the simulator's `face` scene (one person with a known face walking across a square), encoded
once as H.264 in a temporary folder. Each command runs on that file as fast as it can (no -re); its CPU
seconds (user + system of it and every process it started, from getrusage of waited children) divided by the
video's seconds is the share of one core a stream of that size and frame rate costs when watched live.
`realtime_x` is video seconds per wall second (above 1: it keeps up).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from integrations.camera.live import LIVE_OUTPUT, live_command
from integrations.face.live import LiveBlur
from integrations.simulator.camera_clips import ClipSpec, ensure_clip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(command: list[str], video_seconds: float) -> dict[str, float]:
    cpu, wall = _children_cpu(), time.perf_counter()
    run = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         timeout=600, check=False)
    wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    if run.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({run.returncode}): {run.stderr[-500:]!r}")
    return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "cores_per_stream": round(cpu / video_seconds, 3),
            "realtime_x": round(video_seconds / wall, 2)}


def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"fps": args.fps, "video_seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="bench-live-blur-") as folder:
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            spec = ClipSpec(name="plaza", scene="face", width=width, height=height, fps=args.fps,
                            seconds=args.seconds, bitrate_kbps=max(300, width * height * args.fps // 4000))
            clip = str(ensure_clip(Path(folder), spec))
            raw = _measure(live_command(clip), args.seconds)  # the baseline: a raw live stream, copied
            blurred = _measure(LiveBlur.live_command(None, clip, list(LIVE_OUTPUT)),  # type: ignore[arg-type]
                               args.seconds)
            results[size] = {"raw_copy": raw, "blurred": blurred}
    results["cpu_count_note"] = "cores_per_stream: CPU seconds per second of video (1.0 = one core busy)"
    return results


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="640x360,1280x720")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=20)
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(main(_parse()), indent=2), file=sys.stdout)
