"""Small helpers shared by the benchmarks: percentiles, rates, RSS, fresh-process runs, the anchor harness."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

perf = time.perf_counter

ANCHORS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "anchors"
HA_VENV = Path(os.environ.get("HA_VENV", "/tmp/ha-venv"))


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100), as the anchors compute it."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100.0 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def latency(samples_s: list[float]) -> dict[str, float]:
    """p50/p99/max in microseconds."""
    ordered = sorted(samples_s)
    return {
        "p50_us": round(percentile(ordered, 50) * 1e6, 2),
        "p99_us": round(percentile(ordered, 99) * 1e6, 2),
        "max_us": round(ordered[-1] * 1e6, 2) if ordered else float("nan"),
        "lat_samples": len(ordered),
    }


def rate(n: int, seconds: float) -> dict[str, float]:
    """Operations per second."""
    return {"n": n, "rate": round(n / seconds, 1), "seconds": round(seconds, 4)}


_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_mib() -> float:
    """Resident set size of this process in MiB."""
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 2)


def run_json(cmd: list[str], timeout: float = 600) -> dict[str, Any]:
    """Run a command in a fresh process and parse the last JSON object it printed."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out = proc.stdout.strip()
    start = out.rfind("\n{")
    return dict(json.loads(out[start + 1:] if start >= 0 else out))


def anchor_available() -> bool:
    """Whether the Home Assistant anchor venv and harness are here."""
    return (HA_VENV / "bin" / "python").exists() and (ANCHORS / "bench_ha.py").exists()


def run_anchor(args: list[str]) -> dict[str, Any]:
    """One fresh-process run of the anchor harness's bench_ha.py."""
    return run_json([str(HA_VENV / "bin" / "python"), str(ANCHORS / "bench_ha.py"), *args], timeout=900)


def median_metrics(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median of every numeric field of every metric over runs, with min and max."""
    merged: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        for name, metric in run.items():
            if not isinstance(metric, dict):
                continue
            for field, value in metric.items():
                if isinstance(value, int | float) and value == value:
                    merged.setdefault(name, {}).setdefault(field, []).append(float(value))
    result: dict[str, dict[str, float]] = {}
    for name, fields in merged.items():
        out: dict[str, float] = {}
        for field, values in fields.items():
            out[field] = round(statistics.median(values), 2)
            if field in ("rate", "p50_us", "p99_us", "value") and len(values) > 1:
                out[f"{field}_min"] = round(min(values), 2)
                out[f"{field}_max"] = round(max(values), 2)
        result[name] = out
    return result


def interleave(runs: int, ours: Callable[[], dict[str, Any]],
               anchor: Callable[[], dict[str, Any]] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A B A B ... fresh processes; returns (our runs, anchor runs)."""
    mine: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for i in range(runs):
        print(f"run {i + 1}/{runs}: hacho", file=sys.stderr, flush=True)
        mine.append(ours())
        if anchor is not None:
            print(f"run {i + 1}/{runs}: anchor", file=sys.stderr, flush=True)
            theirs.append(anchor())
    return mine, theirs


def fmt(value: float) -> str:
    """Readable number."""
    if value != value:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}"
