"""Live view without faces: what one blurred live stream costs and what its viewer gets
(integrations/face/live.py), with a raw live stream (the `-c copy` ffmpeg of integrations/camera/live.py)
measured in the same run as its baseline.

    python -m bench.live_blur                      # 640x360 and 1280x720 at 10 fps, 20 s of each stream
    python -m bench.live_blur --seconds 10 --sizes 640x360 --detectors blazeface

The camera is the simulator's RTSP server (integrations/simulator/rtsp_server_gst.py, as the simulated
cameras use) looping the simulator's `face` scene (one person with a known face walking across a square,
H.264 encoded once in a temporary folder) at the frame rate, with the clip's timestamps. Each command reads
it over RTSP as it would a camera's sub stream, for `--seconds` of wall time, and is then stopped with SIGINT
(as when the last viewer leaves; the blurring process stops and waits for its ffmpegs). The raw copy runs
first, then a blurred stream per face detector (`--detectors`: `blurred_haar`, `blurred_blazeface`), each the
server's only client. Reported per stream:

- `cores`: CPU seconds (user + system) of the command's process and of every process it started and waited
  for (its ffmpegs), from `os.wait4`, per wall second of its run (start-up included; the server is not
  counted: it is the camera). `steady_cores`: the same tree's CPU read from /proc between its first fragment
  and the stop, per second: the share of one core the stream costs while someone watches it.
- `frames_out`: frames in the fragmented MP4 the viewer receives (the `trun` sample counts of its fragments);
  `frames_in_est`: the source's rate times the time from the connection (the ffmpeg's start) to the stop;
  `delivered_fps`: frames out per second between the first and the last fragment before the stop, against
  `source_fps`.
- `lag_min_s`, `lag_growth_s`: when the k-th frame came out, less k frame intervals and the connection time;
  its least value is the stream's latency plus the RTSP set-up, its growth by the stop how far the picture fell
  behind the camera (0: it keeps up). `added_latency_max_s` is the blurred stream's least lag minus the raw
  copy's (both cut into the same fragments): an upper bound of what blurring adds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from integrations.camera.live import LIVE_OUTPUT, live_command
from integrations.face.live import LiveBlur
from integrations.simulator.camera_clips import ClipSpec, ensure_clip
from integrations.simulator.cameras import SERVER_SCRIPT, SYSTEM_PYTHON


class _Camera:
    """The simulator's RTSP server (integrations/simulator/rtsp_server_gst.py) looping one clip at `fps`."""

    def __init__(self, clip: Path, fps: int) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", "0", "--fps", str(fps),
                                      "--mount", f"plaza={clip}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().split()
        if line[:1] != ["ready"]:
            self.close()
            raise RuntimeError("the simulator's RTSP server did not start")
        self.url = f"rtsp://127.0.0.1:{line[1]}/plaza"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the server exits when its stdin closes
        self.proc.wait(10)


def _fragments(stdout: IO[bytes], out: list[tuple[float, int]]) -> None:
    """Appends (arrival time, frames) of each fragment of the fragmented MP4 on `stdout` as it comes, to its end."""
    pending = 0
    while True:
        header = stdout.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        if size == 1:
            size = struct.unpack(">Q", stdout.read(8))[0] - 8
        body = stdout.read(size - 8)
        if kind == b"moof":
            pending = _samples(body)
        elif kind == b"mdat" and pending:
            out.append((time.perf_counter(), pending))
            pending = 0


def _samples(moof: bytes) -> int:
    """The sample count of every `trun` in a `moof` (inside its `traf`s)."""
    count, i = 0, 0
    while i + 8 <= len(moof):
        size, kind = struct.unpack(">I4s", moof[i:i + 8])
        if kind == b"traf":
            count += _samples(moof[i + 8:i + size])
        elif kind == b"trun":
            count += struct.unpack(">I", moof[i + 12:i + 16])[0]
        i += max(size, 8)
    return count


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    except OSError:
        return []


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) so far of a running process and its running descendants."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_tree_cpu(child) for child in _children(pid))


def _measure(command: list[str], seconds: float, fps: float, *, starts_decoder: bool) -> dict[str, Any]:
    """Run `command` (a live stream on stdout) for `seconds`, then stop it with SIGINT as a viewer leaving
    would (its ffmpegs are stopped and waited for, so their CPU is counted). `steady_cores`: the CPU of the
    process tree from /proc between its first fragment and the stop, per second (start-up left out).
    `starts_decoder`: the command is a process that starts the ffmpeg that connects (the blurring one), whose
    start is then taken as the connection; otherwise the command's own start is."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        fragments: list[tuple[float, int]] = []
        reader = threading.Thread(target=_fragments, args=(proc.stdout, fragments), daemon=True)
        reader.start()
        connected = started
        while not fragments and time.perf_counter() - started < seconds:
            if connected == started and starts_decoder and _children(proc.pid):
                connected = time.perf_counter()
            time.sleep(0.01)
        steady_from, steady_cpu = time.perf_counter(), _tree_cpu(proc.pid)
        time.sleep(max(0.0, started + seconds - time.perf_counter()))
        stopped, steady_cpu = time.perf_counter(), _tree_cpu(proc.pid) - steady_cpu
        proc.send_signal(signal.SIGINT)
        reader.join(30)
        if reader.is_alive():  # it did not stop: its children are then not waited for, and not counted
            proc.kill()
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # SIGINT may end the blurring process with 1
        wall = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read()
    live = [(t - started, n) for t, n in fragments if t < stopped]
    if len(live) < 3:
        raise RuntimeError(f"{command[:3]}: {len(live)} fragments in {seconds} s: {stderr[-500:]!r}")
    frames, lags = 0, []
    for at, n in live:
        frames += n
        lags.append(at - frames / fps)  # when frame k came out, less k frame intervals: constant if in step
    first, last = live[0], live[-1]
    cpu = usage.ru_utime + usage.ru_stime
    return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 1), "cores": round(cpu / wall, 3),
            "steady_cores": round(steady_cpu / (stopped - steady_from), 3),
            "frames_in_est": round((stopped - connected) * fps),
            "frames_out": frames + sum(n for t, n in fragments if t >= stopped), "source_fps": fps,
            "delivered_fps": round((frames - first[1]) / (last[0] - first[0]), 2),
            "connect_s": round(connected - started, 2), "first_fragment_s": round(first[0], 2),
            "lag_min_s": round(min(lags) - (connected - started), 2),
            "lag_growth_s": round(lags[-1] - min(lags), 2)}


def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"fps": args.fps, "seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="bench-live-blur-") as name:
        folder = Path(name)
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            spec = ClipSpec(name="plaza", scene="face", width=width, height=height, fps=args.fps,
                            seconds=args.seconds, bitrate_kbps=max(300, width * height * args.fps // 4000))
            camera = _Camera(ensure_clip(folder, spec), args.fps)
            try:  # one after the other, each the server's only client
                raw = _measure(live_command(camera.url), args.seconds, args.fps,  # the baseline: a raw copy
                               starts_decoder=False)
                results[size] = {"raw_copy": raw}
                for detector in args.detectors.split(","):
                    blurred = _measure(LiveBlur(None, detector).live_command(camera.url, list(LIVE_OUTPUT)),
                                       args.seconds, args.fps, starts_decoder=True)
                    blurred["added_latency_max_s"] = round(blurred["lag_min_s"] - raw["lag_min_s"], 2)
                    results[size][f"blurred_{detector}"] = blurred
            finally:
                camera.close()
    results["note"] = ("cores: CPU seconds of the stream's process and its ffmpegs per wall second, fed by an "
                       "RTSP camera at the frame rate (1.0 = one core busy)")
    return results


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="640x360,1280x720")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--detectors", default="haar,blazeface", help="face detectors to measure, in turn")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(main(_parse()), indent=2), file=sys.stdout)
