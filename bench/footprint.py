"""How light the hub runs: start-to-ready time and resident memory per process on the Ceuta site.

    python -m bench.footprint [--runs 5] [--settle 60]

Each run copies config/ceuta to a temporary folder (the database, storage and logs stay there and are deleted
afterwards), starts a private Mosquitto on a free port, and starts `python -m hacho run` on that copy with its own
free HTTP, MQTT, Modbus and agency-receiver ports. Ready is the first answer of `/api/` (any HTTP status) after the
process was started. After `--settle` seconds it reads the resident set size (VmRSS) of the hub and of every
process below it (the worker processes, multiprocessing's resource tracker, the camera recorders' ffmpeg and
the simulated RTSP server), and which heavy libraries (numpy, scipy, OpenCV, onnxruntime) each one has mapped.
Then it stops the hub with SIGTERM.

It prints the figures of each run, the medians, and ends with one JSON object with the targets marked met or
missed by how much: hub < 150 MiB, each worker < 120 MiB, all processes < 450 MiB, ready < 3 s. The sum of
RSS counts the pages that processes share (the same ffmpeg libraries in five recorders) once per process; the
proportional set size (PSS, /proc/PID/smaps_rollup) shares them out, so `total_pss_mib` is also given.

The machine's load moves the ready time most (a 2-core machine shared with other work): `load_before` is the
1-minute load average when each run started.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "config" / "ceuta"
TARGETS = {"hub_mib": 150.0, "worker_mib": 120.0, "total_mib": 450.0, "ready_s": 3.0}
HEAVY = {"numpy": "numpy/_core|numpy/core", "scipy": "/scipy/", "opencv": "/cv2/", "onnxruntime": "/onnxruntime/"}
_AGENCY_PORT = 8124  # the demo site's agency receiver (devices/simulator.yaml, agencies.yaml)


@dataclass(slots=True)
class Proc:
    """One process of the hub's tree, as measured."""

    pid: int
    role: str
    rss_mib: float
    pss_mib: float
    heavy: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _pss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _heavy(pid: int) -> list[str]:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text(errors="replace")
    except OSError:
        return []
    return [name for name, pattern in HEAVY.items() if re.search(pattern, maps)]


def _role(pid: int, hub_pid: int) -> str:
    if pid == hub_pid:
        return "hub"
    argv = [arg.decode(errors="replace") for arg in _cmdline(pid).split(b"\0") if arg]
    cmdline = " ".join(argv)
    if "resource_tracker" in cmdline:
        return "resource tracker"
    if "multiprocessing" in cmdline:
        return "worker"
    if argv and Path(argv[0]).name == "ffmpeg":
        return "ffmpeg"
    scripts = [Path(arg).name for arg in argv[1:] if arg.endswith(".py")]
    return scripts[0] if scripts else (Path(argv[0]).name if argv else "process")


def measure_tree(hub_pid: int) -> list[Proc]:
    """RSS and heavy libraries of the hub and every process below it."""
    procs = []
    for pid in _tree(hub_pid):
        try:
            procs.append(Proc(pid, _role(pid, hub_pid), round(_rss_mib(pid), 1), round(_pss_mib(pid), 1),
                              _heavy(pid)))
        except OSError:
            continue  # ended while we looked
    return procs


def _prepare_site(folder: Path, agency_port: int) -> Path:
    site = folder / "ceuta"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns("tests", "*.db", ".storage", "*.log"))
    for name in ("agencies.yaml", "devices/simulator.yaml"):
        path = site / name
        text = path.read_text(encoding="utf-8")
        text = text.replace(f"127.0.0.1:{_AGENCY_PORT}", f"127.0.0.1:{agency_port}")
        text = re.sub(rf"(?m)^(\s*port:\s*){_AGENCY_PORT}\s*$", rf"\g<1>{agency_port}", text)
        path.write_text(text, encoding="utf-8")
    return site


def _start_broker(folder: Path, port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise SystemExit("bench.footprint needs the mosquitto binary (apt-get install mosquitto)")
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n", encoding="ascii")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"mosquitto did not listen on {port}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # 401 and the like: the HTTP server is up
    except (OSError, ValueError):
        return False


def _stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _kill_survivors(tree: dict[int, bytes], hub_pid: int) -> None:
    """SIGKILL what is left of the hub's tree after it stopped (a worker it did not take down with it);
    only a process whose command line is still the one measured, never a pid the system gave to another."""
    for pid, cmdline in tree.items():
        if pid == hub_pid or not cmdline or _cmdline(pid) != cmdline:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue


def single_run(settle: float, ready_timeout: float = 120) -> dict[str, Any]:
    """Start the hub once on a fresh copy of the site; its ready time and process tree after `settle` s."""
    with tempfile.TemporaryDirectory(prefix="hacho-footprint-") as tmp:
        folder = Path(tmp)
        http_port, mqtt_port, modbus_port, agency_port = (free_port() for _ in range(4))
        site = _prepare_site(folder, agency_port)
        broker = _start_broker(folder, mqtt_port)
        env = {**os.environ, "HACHO_HTTP_PORT": str(http_port), "HACHO_MQTT_HOST": "127.0.0.1",
               "HACHO_MQTT_PORT": str(mqtt_port), "HACHO_SIM_MODBUS_PORT": str(modbus_port),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        log = (folder / "hub.log").open("wb")
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        hub = subprocess.Popen([sys.executable, "-m", "hacho", "run", "-c", str(site)], cwd=folder, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
        tree: dict[int, bytes] = {}
        try:
            url = f"http://127.0.0.1:{http_port}/api/"
            while not _answers(url):
                if hub.poll() is not None:
                    tail = (folder / "hub.log").read_text(errors="replace")[-3000:]
                    raise SystemExit(f"the hub exited with {hub.returncode} before it was ready:\n{tail}")
                if time.perf_counter() - started > ready_timeout:
                    raise SystemExit(f"the hub did not answer {url} within {ready_timeout:.0f} s")
                time.sleep(0.02)
            ready_s = time.perf_counter() - started
            time.sleep(max(0.0, settle - (time.perf_counter() - started)))
            procs = measure_tree(hub.pid)
            tree = {p.pid: _cmdline(p.pid) for p in procs}
        finally:
            tree = tree or {pid: _cmdline(pid) for pid in _tree(hub.pid)}
            _stop(hub)
            _kill_survivors(tree, hub.pid)
            log.close()
            _stop(broker)
    workers = [p for p in procs if p.role == "worker"]
    return {
        "ready_s": round(ready_s, 2),
        "load_before": round(load_before, 2),
        "hub_mib": next(p.rss_mib for p in procs if p.role == "hub"),
        "worker_mib": [p.rss_mib for p in workers],
        "max_worker_mib": max((p.rss_mib for p in workers), default=0.0),
        "total_mib": round(sum(p.rss_mib for p in procs), 1),
        "total_pss_mib": round(sum(p.pss_mib for p in procs), 1),
        "processes": [{"role": p.role, "rss_mib": p.rss_mib, "pss_mib": p.pss_mib, "heavy": p.heavy}
                      for p in procs],
    }


def _verdict(value: float, target: float) -> dict[str, Any]:
    met = value < target
    return {"value": value, "target": target, "met": met,
            "missed_by": 0.0 if met else round(value - target, 2)}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs and the targets, met or missed by how much."""
    median = {key: round(statistics.median(run[key] for run in runs), 2)
              for key in ("ready_s", "hub_mib", "max_worker_mib", "total_mib", "total_pss_mib", "load_before")}
    return {
        "bench": "footprint",
        "site": "ceuta",
        "runs": len(runs),
        "median": median,
        "targets": {
            "hub_mib": _verdict(median["hub_mib"], TARGETS["hub_mib"]),
            "worker_mib": _verdict(median["max_worker_mib"], TARGETS["worker_mib"]),
            "total_mib": _verdict(median["total_mib"], TARGETS["total_mib"]),
            "ready_s": _verdict(median["ready_s"], TARGETS["ready_s"]),
        },
        "per_run": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh starts (medians reported)")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds after the start to measure RSS")
    args = parser.parse_args()
    runs = []
    for n in range(1, args.runs + 1):
        run = single_run(args.settle)
        runs.append(run)
        listing = ", ".join(f"{p['role']} {p['rss_mib']:.0f} MiB" + (f" [{'+'.join(p['heavy'])}]" if p["heavy"]
                                                                       else "") for p in run["processes"])
        print(f"run {n}/{args.runs}: ready {run['ready_s']:.2f} s (load {run['load_before']:.1f}); total "
              f"{run['total_mib']:.0f} MiB RSS, {run['total_pss_mib']:.0f} MiB PSS: {listing}", flush=True)
    result = summarise(runs)
    median = result["median"]
    print(f"medians of {len(runs)}: ready {median['ready_s']:.2f} s, hub {median['hub_mib']:.0f} MiB, "
          f"largest worker {median['max_worker_mib']:.0f} MiB, total {median['total_mib']:.0f} MiB "
          f"(PSS {median['total_pss_mib']:.0f} MiB), load average {median['load_before']:.1f}")
    for name, verdict in result["targets"].items():
        state = "met" if verdict["met"] else f"missed by {verdict['missed_by']}"
        print(f"  {name}: {verdict['value']} (target < {verdict['target']}): {state}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
