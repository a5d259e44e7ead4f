"""Core benchmark: bus events/s, state writes/s, recorder rows/s, beside the asyncio floor and Home Assistant.

    python -m bench.core                 # 5 fresh-process runs, HA anchor interleaved when /tmp/ha-venv exists
    python -m bench.core --runs 3 --no-anchor --no-recorder
    python -m bench.core --single        # one run in this process (what each fresh process does)

Method copied from ../shared/bench/anchors/README.md: burst rate = TOTAL operations issued back to back from
the loop in batches of BATCH, waiting for the consumer to see the last of each batch; latency = one
operation at a time, from just before the call to inside the listener; medians over fresh processes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
from typing import Any

from bench._lib import (
    anchor_available,
    fmt,
    interleave,
    latency,
    median_metrics,
    perf,
    rate,
    run_anchor,
    run_json,
)

TOTAL = 200_000
BATCH = 1000
LAT_N = 5000


async def _floor_call_soon(total: int, batch: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    st: dict[str, Any] = {"count": 0, "target": 0, "fut": None}

    def cb() -> None:
        st["count"] += 1
        if st["count"] >= st["target"]:
            st["fut"].set_result(None)

    async def burst(n: int) -> float:
        done = 0
        t0 = perf()
        while done < n:
            b = min(batch, n - done)
            st["count"], st["target"], st["fut"] = 0, b, loop.create_future()
            for _ in range(b):
                loop.call_soon(cb)
            await st["fut"]
            done += b
        return perf() - t0

    await burst(20_000)
    gc.collect()
    return rate(total, await burst(total))


async def _bench_bus(hub: Any, extra_listeners: int, total: int, batch: int, lat_n: int) -> dict[str, Any]:
    from hub.core import callback

    loop = asyncio.get_running_loop()
    st: dict[str, Any] = {"count": 0, "target": 0, "fut": None, "t1": 0.0}

    @callback
    def listener(event: Any) -> None:
        st["count"] += 1
        if st["count"] >= st["target"]:
            st["t1"] = perf()
            st["fut"].set_result(None)

    @callback
    def noop(event: Any) -> None:  # pragma: no cover - never fired
        pass

    removers = [hub.bus.async_listen("bench_event", listener)]
    removers += [hub.bus.async_listen(f"bench_other_{k}", noop) for k in range(extra_listeners)]
    fire = hub.bus.async_fire

    async def burst(n: int) -> float:
        done = 0
        t0 = perf()
        while done < n:
            b = min(batch, n - done)
            st["count"], st["target"], st["fut"] = 0, b, loop.create_future()
            for i in range(b):
                fire("bench_event", {"i": i})
            await st["fut"]
            done += b
        return perf() - t0

    await burst(min(total, 20_000))
    gc.collect()
    elapsed = await burst(total)
    lats = []
    for i in range(lat_n + 200):
        st["count"], st["target"], st["fut"] = 0, 1, loop.create_future()
        t0 = perf()
        fire("bench_event", {"i": i})
        await st["fut"]
        if i >= 200:
            lats.append(st["t1"] - t0)
    for remove in removers:
        remove()
    return {**rate(total, elapsed), **latency(lats)}


async def _bench_states(hub: Any, total: int, batch: int, lat_n: int, entities: int = 100) -> dict[str, Any]:
    from hub.const import EVENT_STATE_CHANGED
    from hub.core import callback

    loop = asyncio.get_running_loop()
    st: dict[str, Any] = {"count": 0, "target": 0, "fut": None, "t1": 0.0}

    @callback
    def listener(event: Any) -> None:
        st["count"] += 1
        if st["count"] >= st["target"]:
            st["t1"] = perf()
            st["fut"].set_result(None)

    remove = hub.bus.async_listen(EVENT_STATE_CHANGED, listener)
    aset = hub.states.async_set
    ids = [f"sensor.bench_{k}" for k in range(entities)]
    attrs = {"unit_of_measurement": "°C", "friendly_name": "bench"}
    seq = [0]

    async def burst(n: int) -> float:
        done = 0
        t0 = perf()
        while done < n:
            b = min(batch, n - done)
            st["count"], st["target"], st["fut"] = 0, b, loop.create_future()
            s = seq[0]
            for i in range(b):
                aset(ids[(s + i) % entities], str(s + i), attrs)
            seq[0] = s + b
            await st["fut"]
            done += b
        return perf() - t0

    await burst(min(total, 20_000))
    gc.collect()
    elapsed = await burst(total)
    lats = []
    for i in range(lat_n + 200):
        s = seq[0] = seq[0] + 1
        st["count"], st["target"], st["fut"] = 0, 1, loop.create_future()
        t0 = perf()
        aset(ids[s % entities], str(s), attrs)
        await st["fut"]
        if i >= 200:
            lats.append(st["t1"] - t0)
    remove()
    return {**rate(total, elapsed), **latency(lats), "entities": entities}


async def single_run(args: argparse.Namespace) -> dict[str, Any]:
    """Everything measured in one fresh process."""
    from hub.core import Hub

    metrics: dict[str, Any] = {}
    metrics["floor_call_soon_batch"] = await _floor_call_soon(args.total, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(tmp)
        await hub.async_start()
        metrics["bus_1_listener"] = await _bench_bus(hub, 0, args.total, args.batch, args.lat_n)
        metrics["bus_1_listener_plus_100_other_types"] = await _bench_bus(
            hub, 100, args.total, args.batch, args.lat_n)
        metrics["states_async_set_with_state_changed_listener"] = await _bench_states(
            hub, args.total, args.batch, args.lat_n)
        await hub.async_stop()
    return metrics


def _recorder_run(db_url: str | None, n: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.recorder", "--n", str(n), "--commit-interval", "1"]
    if db_url:
        cmd += ["--db-url", db_url]
    return run_json(cmd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", action="store_true", help="one run in this process, print its JSON")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--total", type=int, default=TOTAL)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--lat-n", type=int, default=LAT_N)
    parser.add_argument("--no-anchor", action="store_true", help="skip Home Assistant even if installed")
    parser.add_argument("--no-recorder", action="store_true")
    parser.add_argument("--rec-n", type=int, default=50_000)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    if args.single:
        print(json.dumps({"bench": "hacho_core", "metrics": asyncio.run(single_run(args))}))
        return

    own_cmd = [sys.executable, "-m", "bench.core", "--single", "--total", str(args.total),
               "--batch", str(args.batch), "--lat-n", str(args.lat_n)]
    use_anchor = anchor_available() and not args.no_anchor
    anchor_cmd = ["--section", "core", "--total", str(args.total), "--batch", str(args.batch),
                  "--lat-n", str(args.lat_n)]
    mine, theirs = interleave(
        args.runs,
        lambda: run_json(own_cmd)["metrics"],
        (lambda: run_anchor(anchor_cmd)["metrics"]) if use_anchor else None,
    )
    ours = median_metrics(mine)
    anchor = median_metrics(theirs) if theirs else {}

    if not args.no_recorder:
        rec_runs: dict[str, list[dict[str, Any]]] = {"recorder_sqlite": [], "recorder_postgresql": []}
        anchor_rec: list[dict[str, Any]] = []
        from tests.conftest import port_open  # reuse the service probe

        pg = port_open("127.0.0.1", 5432)
        for i in range(max(1, min(args.runs, 3))):
            print(f"recorder run {i + 1}", file=sys.stderr, flush=True)
            rec_runs["recorder_sqlite"].append({"recorder": _recorder_run(None, args.rec_n)})
            if pg:
                rec_runs["recorder_postgresql"].append({"recorder": _recorder_run(args.postgres_url, args.rec_n)})
            if use_anchor:
                anchor_rec.append(run_anchor(["--section", "recorder", "--commit-interval", "5"])["metrics"])
        for name, runs in rec_runs.items():
            if runs:
                ours[name] = median_metrics(runs)["recorder"]
        if anchor_rec:
            anchor.update({f"recorder_{k}": v for k, v in median_metrics(anchor_rec).items()})

    floor = ours.get("floor_call_soon_batch", {}).get("rate", float("nan"))
    rows = [
        ("bus, 1 listener", "bus_1_listener", "bus_1_listener"),
        ("bus, + 100 listeners on other types", "bus_1_listener_plus_100_other_types",
         "bus_1_listener_plus_100_other_types"),
        ("state writes + state_changed listener", "states_async_set_with_state_changed_listener",
         "states_async_set_with_state_changed_listener"),
    ]
    print(f"\nfloor: loop.call_soon batch {fmt(floor)} callbacks/s (same sitting)")
    print(f"{'what':42} {'hacho /s':>12} {'p50 us':>8} {'p99 us':>8} {'HA /s':>12} {'HA p50':>8} {'x HA':>6}")
    targets: dict[str, Any] = {}
    for label, key, anchor_key in rows:
        m = ours.get(key, {})
        a = anchor.get(anchor_key, {})
        ratio = m.get("rate", float("nan")) / a["rate"] if a.get("rate") else float("nan")
        print(f"{label:42} {fmt(m.get('rate', float('nan'))):>12} {fmt(m.get('p50_us', float('nan'))):>8} "
              f"{fmt(m.get('p99_us', float('nan'))):>8} {fmt(a.get('rate', float('nan'))):>12} "
              f"{fmt(a.get('p50_us', float('nan'))):>8} {ratio:>6.2f}")
    if anchor:
        bus, abus = ours.get("bus_1_listener", {}), anchor.get("bus_1_listener", {})
        st, ast = (ours.get("states_async_set_with_state_changed_listener", {}),
                   anchor.get("states_async_set_with_state_changed_listener", {}))
        targets = {
            "bus_rate_at_least_3x_ha": bus.get("rate", 0) >= 3 * abus.get("rate", float("inf")),
            "bus_p99_not_worse_than_ha_p50": bus.get("p99_us", float("inf")) <= abus.get("p50_us", 0),
            "state_writes_at_least_2x_ha": st.get("rate", 0) >= 2 * ast.get("rate", float("inf")),
        }
    for name in ("recorder_sqlite", "recorder_postgresql"):
        if name in ours:
            r = ours[name]
            print(f"{name}: {fmt(r.get('rate', float('nan')))} rows/s, max loop stall "
                  f"{fmt(r.get('max_loop_stall_ms', float('nan')))} ms")
    if "recorder_sqlite" in ours:
        r = ours["recorder_sqlite"]
        targets["recorder_sqlite_25k_rows_s"] = r.get("rate", 0) >= 25_000
        targets["recorder_loop_stall_under_10ms"] = r.get("max_loop_stall_ms", float("inf")) <= 10
    print(json.dumps({"bench": "core", "runs": args.runs, "anchor": "homeassistant 2024.3.3" if anchor else None,
                      "hacho": ours, "homeassistant": anchor, "targets": targets}))


if __name__ == "__main__":
    main()
