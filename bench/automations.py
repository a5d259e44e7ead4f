"""Automation engine benchmark, the same workload and method as ../shared/bench/anchors (sections c and d).

    python -m bench.automations                # 5 fresh-process runs, Home Assistant interleaved when installed
    python -m bench.automations --runs 3 --no-anchor
    python -m bench.automations --single [--n 1000] [--mode parallel] [--total 5000] [--lat-n 1000]

1,000 automations, each: state trigger `sensor.x_i` to 'on'; conditions numeric_state sensor.t above 20
and template `{{ is_state('binary_sensor.x','on') }}`; action service bench.handle {idx: i}; mode parallel,
max 10000. Throughput: bursts of 100 triggers (each = async_set off + on) until the handler saw them all.
Latency: async_set(on) -> handler entered (matched by the run context's parent id), one at a time, idle.
Memory: RSS after gc before/after loading and after the runs (traces kept). Template: renders/s of
`{{ states('sensor.t') | float > 30 and is_state('binary_sensor.x','on') }}`. Prints the figures, then
one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import tempfile
import time
from typing import Any

from hub.core import Context, Hub, ServiceCall, callback

perf = time.perf_counter
TEMPLATE_SRC = "{{ states('sensor.t') | float > 30 and is_state('binary_sensor.x','on') }}"


def pct(sorted_vals: list[float], q: float) -> float:
    """Nearest-rank percentile (as the anchor harness computes it)."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, round(q / 100.0 * len(sorted_vals) + 0.5) - 1))
    return sorted_vals[k]


def lat_stats(samples: list[float]) -> dict[str, Any]:
    """Latency samples (s) -> p50/p99/mean/max in µs."""
    s = sorted(samples)
    n = len(s)
    return {
        "lat_samples": n,
        "p50_us": round(pct(s, 50) * 1e6, 2),
        "p99_us": round(pct(s, 99) * 1e6, 2),
        "mean_us": round(sum(s) / n * 1e6, 2) if n else float("nan"),
        "max_us": round(s[-1] * 1e6, 2) if n else float("nan"),
    }


def rate(n_ops: int, seconds: float) -> dict[str, Any]:
    """Operations per second."""
    return {"n": n_ops, "rate": round(n_ops / seconds, 1), "seconds": round(seconds, 4)}


def rss_mib() -> float:
    """Resident set size in MiB after a full collection (Linux /proc)."""
    gc.collect()
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 2)


def automation_config(n: int, mode: str) -> list[dict[str, Any]]:
    """The anchor's workload, written the way a user writes it."""
    autos = []
    for i in range(n):
        auto: dict[str, Any] = {
            "id": f"bench_{i}",
            "alias": f"bench {i}",
            "mode": mode,
            "triggers": [{"trigger": "state", "entity_id": f"sensor.x_{i}", "to": "on"}],
            "conditions": [
                {"condition": "numeric_state", "entity_id": "sensor.t", "above": 20},
                {"condition": "template", "value_template": "{{ is_state('binary_sensor.x', 'on') }}"},
            ],
            "actions": [{"action": "bench.handle", "data": {"idx": i}}],
        }
        if mode in ("parallel", "queued"):
            auto["max"] = 10000
        autos.append(auto)
    return autos


async def bench_automations(args: argparse.Namespace, config_dir: str) -> dict[str, Any]:
    """Section c."""
    rss_bare = rss_mib()
    import automations

    rss_imported = rss_mib()
    hub = Hub(config_dir)
    await hub.async_start()
    loop = asyncio.get_running_loop()
    n = args.n
    hub.states.async_set("sensor.t", "25.0")
    hub.states.async_set("binary_sensor.x", "on")
    for i in range(n):
        hub.states.async_set(f"sensor.x_{i}", "off")
    st: dict[str, Any] = {"count": 0, "target": 0, "fut": None, "t_by_ctx": {}, "lat": []}

    @callback
    def handle(call: ServiceCall) -> None:
        t1 = perf()
        t0 = st["t_by_ctx"].pop(call.context.parent_id, None)
        if t0 is not None:
            st["lat"].append(t1 - t0)
        st["count"] += 1
        if st["count"] >= st["target"] and st["fut"] is not None and not st["fut"].done():
            st["fut"].set_result(None)

    hub.services.async_register("bench", "handle", handle)
    config = {"automations": automation_config(n, args.mode)}
    rss_before = rss_mib()
    t0 = perf()
    await automations.async_setup(hub, config)
    await hub.async_block_till_done()
    load_s = perf() - t0
    del config
    rss_loaded = rss_mib()
    assert len(hub.states.async_entity_ids("automation")) == n, "automations not loaded"
    aset = hub.states.async_set

    async def one(i: int) -> None:
        ctx = Context()
        st["count"], st["target"], st["fut"] = 0, 1, loop.create_future()
        st["t_by_ctx"][ctx.id] = perf()
        aset(f"sensor.x_{i}", "on", context=ctx)
        await asyncio.wait_for(st["fut"], 10)
        aset(f"sensor.x_{i}", "off")
        await hub.async_block_till_done()

    for k in range(100):
        await one(k % n)
    st["lat"] = []
    for k in range(args.lat_n):
        await one(k % n)
    idle = lat_stats(st["lat"])

    batch = min(args.batch, n) if args.mode == "single" else args.batch

    async def burst(total: int) -> float:
        done = 0
        k = 0
        start = perf()
        while done < total:
            b = min(batch, total - done)
            st["count"], st["target"], st["fut"] = 0, b, loop.create_future()
            for _ in range(b):
                i = k % n
                k += 1
                aset(f"sensor.x_{i}", "off")
                ctx = Context()
                st["t_by_ctx"][ctx.id] = perf()
                aset(f"sensor.x_{i}", "on", context=ctx)
            await asyncio.wait_for(st["fut"], 60)
            done += b
        return perf() - start

    await burst(min(500, args.total))
    await hub.async_block_till_done()
    gc.collect()
    st["lat"] = []
    elapsed = await burst(args.total)
    in_burst = lat_stats(st["lat"])
    await hub.async_block_till_done()
    rss_end = rss_mib()
    # Fill every automation's trace store (20 runs each) to measure memory with traces at their maximum.
    st["count"], st["target"], st["fut"] = 0, n * 20, loop.create_future()
    for _ in range(20):
        for i in range(n):
            aset(f"sensor.x_{i}", "off")
            aset(f"sensor.x_{i}", "on")
        await asyncio.sleep(0)
    await asyncio.wait_for(st["fut"], 120)
    await hub.async_block_till_done()
    rss_full = rss_mib()
    await hub.async_stop()
    per_auto = (rss_loaded - rss_before) * 1024 / n
    per_auto_end = (rss_end - rss_before) * 1024 / n
    per_auto_full = (rss_full - rss_before) * 1024 / n
    tag = f"automation_n{n}" + ("" if args.mode == "parallel" else f"_{args.mode}")
    return {
        f"{tag}_trigger_to_action_idle": idle,
        f"{tag}_throughput": {**rate(args.total, elapsed), "batch": batch, "state_writes_per_trigger": 2},
        f"{tag}_trigger_to_action_in_burst": in_burst,
        f"{tag}_load_time": {"value": round(load_s, 3), "unit": "s"},
        f"{tag}_rss_before_load": {"value": rss_before, "unit": "MiB"},
        f"{tag}_rss_loaded": {"value": rss_loaded, "unit": "MiB"},
        f"{tag}_rss_after_bench": {"value": rss_end, "unit": "MiB"},
        f"{tag}_kib_per_automation_loaded": {"value": round(per_auto, 2), "unit": "KiB"},
        f"{tag}_kib_per_automation_after_runs": {"value": round(per_auto_end, 2), "unit": "KiB",
                                                 "note": "after the latency and throughput runs"},
        f"{tag}_kib_per_automation_full_traces": {"value": round(per_auto_full, 2), "unit": "KiB",
                                                  "note": "after 20 more runs each: 20 traces kept per automation"},
        "engine_import_rss": {"value": round(rss_imported - rss_bare, 2), "unit": "MiB",
                              "note": "automations package and jinja2, paid once"},
    }


async def bench_template(args: argparse.Namespace, config_dir: str) -> dict[str, Any]:
    """Section d."""
    from hub.helpers.template import Template

    hub = Hub(config_dir)
    hub.states.async_set("sensor.t", "31.5")
    hub.states.async_set("binary_sensor.x", "on")
    tpl = Template(TEMPLATE_SRC)
    assert tpl.async_render(hub) is True
    render = tpl.async_render
    for _ in range(2000):
        render(hub)
    gc.collect()
    total = args.template_total
    start = perf()
    for _ in range(total):
        render(hub)
    elapsed = perf() - start
    lats = []
    for _ in range(args.template_lat_n):
        t0 = perf()
        render(hub)
        lats.append(perf() - t0)
    n_new = max(1000, total // 10)
    start = perf()
    for _ in range(n_new):
        Template(TEMPLATE_SRC).async_render(hub)
    elapsed_new = perf() - start
    await hub.async_stop()
    return {
        "template_render_cached": {**rate(total, elapsed), **lat_stats(lats)},
        "template_render_new_object": rate(n_new, elapsed_new),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--mode", default="parallel", choices=["single", "restart", "queued", "parallel"])
    parser.add_argument("--total", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lat-n", type=int, default=1000)
    parser.add_argument("--template-total", type=int, default=200_000)
    parser.add_argument("--template-lat-n", type=int, default=5000)
    parser.add_argument("--section", choices=["all", "automation", "template"], default="all")
    parser.add_argument("--single", action="store_true", help="one run in this process (what each fresh process does)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-anchor", action="store_true", help="skip Home Assistant even if installed")
    args = parser.parse_args()
    if not args.single:
        compare(args)
        return
    import logging

    logging.basicConfig(level=logging.WARNING)
    metrics: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as config_dir:
        if args.section in ("all", "automation"):
            metrics.update(asyncio.run(bench_automations(args, config_dir)))
        if args.section in ("all", "template"):
            metrics.update(asyncio.run(bench_template(args, config_dir)))
    for name, value in metrics.items():
        shown = ", ".join(f"{k}={v}" for k, v in value.items())
        print(f"{name}: {shown}", file=sys.stderr)
    env = {"python": platform.python_version(), "cpus": os.cpu_count(), "argv": sys.argv[1:],
           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    print(json.dumps({"bench": "automations", "env": env, "metrics": metrics}))


def compare(args: argparse.Namespace) -> None:
    """Fresh processes, Hacho and Home Assistant interleaved; medians and the issue's targets."""
    from bench._lib import anchor_available, fmt, interleave, median_metrics, run_anchor, run_json

    own = [sys.executable, "-m", "bench.automations", "--single", "--n", str(args.n), "--mode", args.mode,
           "--total", str(args.total), "--batch", str(args.batch), "--lat-n", str(args.lat_n)]
    use_anchor = anchor_available() and not args.no_anchor

    def anchor_run() -> dict[str, Any]:
        auto = run_anchor(["--section", "automation", "--n", str(args.n), "--mode", args.mode,
                           "--auto-total", str(args.total), "--auto-batch", str(args.batch)])["metrics"]
        core = run_anchor(["--section", "core", "--total", "50000", "--lat-n", "2000"])["metrics"]
        return {**auto, "template_render_cached": core["template_render_cached"]}

    mine, theirs = interleave(args.runs, lambda: run_json(own)["metrics"], anchor_run if use_anchor else None)
    ours, anchor = median_metrics(mine), median_metrics(theirs) if theirs else {}
    n = args.n

    def pick(metrics: dict[str, Any], *names: str) -> dict[str, Any]:
        for name in names:
            if name in metrics:
                return dict(metrics[name])
        return {}

    rows = [
        ("throughput, triggers/s", pick(ours, f"automation_n{n}_throughput"),
         pick(anchor, f"automation_n{n}_throughput"), "rate"),
        ("trigger->action p50 us (idle)", pick(ours, f"automation_n{n}_trigger_to_action_idle"),
         pick(anchor, f"automation_n{n}_trigger_to_action_idle", f"automation_n{n}_trigger_to_action"), "p50_us"),
        ("trigger->action p99 us (idle)", pick(ours, f"automation_n{n}_trigger_to_action_idle"),
         pick(anchor, f"automation_n{n}_trigger_to_action_idle", f"automation_n{n}_trigger_to_action"), "p99_us"),
        ("template renders/s", pick(ours, "template_render_cached"), pick(anchor, "template_render_cached"), "rate"),
    ]
    print(f"\n{'what':34} {'hacho':>12} {'HA 2024.3.3':>12}")
    for label, mine_m, their_m, field in rows:
        print(f"{label:34} {fmt(mine_m.get(field, float('nan'))):>12} {fmt(their_m.get(field, float('nan'))):>12}")
    per_auto = pick(ours, f"automation_n{n}_kib_per_automation_loaded").get("value", float("nan"))
    per_auto_traces = pick(ours, f"automation_n{n}_kib_per_automation_full_traces").get("value", float("nan"))
    ha_before = pick(anchor, f"automation_n{n}_rss_before_load").get("value")
    ha_loaded = pick(anchor, f"automation_n{n}_rss_loaded").get("value")
    ha_after = pick(anchor, f"automation_n{n}_rss_after_bench").get("value")
    ha_per_auto = (ha_loaded - ha_before) * 1024 / n if ha_loaded and ha_before else float("nan")
    ha_per_auto_runs = (ha_after - ha_before) * 1024 / n if ha_after and ha_before else float("nan")
    print(f"{'KiB per automation (loaded)':34} {fmt(per_auto):>12} {fmt(ha_per_auto):>12}")
    print(f"{'KiB per automation (after runs)':34} {fmt(per_auto_traces):>12} {fmt(ha_per_auto_runs):>12}"
          "   (Hacho: 20 traces kept each; HA: 5)")
    targets: dict[str, Any] = {}
    if anchor:
        thr, ha_thr = rows[0][1].get("rate", 0), rows[0][2].get("rate", float("inf"))
        targets = {
            "throughput_at_least_5x_ha": thr >= 5 * ha_thr,
            "p99_not_worse_than_ha_p50": rows[2][1].get("p99_us", float("inf")) <= rows[1][2].get("p50_us", 0),
            "memory_per_automation_not_above_ha": per_auto <= ha_per_auto and per_auto_traces <= ha_per_auto_runs,
            "template_at_least_2x_ha": rows[3][1].get("rate", 0) >= 2 * rows[3][2].get("rate", float("inf")),
        }
    print(json.dumps({"bench": "automations", "runs": args.runs, "n": n,
                      "anchor": "homeassistant 2024.3.3" if anchor else None,
                      "kib_per_automation": {"hacho_loaded": per_auto, "hacho_after_runs_20_traces": per_auto_traces,
                                             "ha_loaded": round(ha_per_auto, 2),
                                             "ha_after_runs_5_traces": round(ha_per_auto_runs, 2)},
                      "hacho": ours, "homeassistant": anchor, "targets": targets}))


if __name__ == "__main__":
    main()
