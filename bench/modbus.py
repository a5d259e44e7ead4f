"""Modbus bench: polls/s of grouped reads against a simulated device server, beside the raw round trip.

    python -m bench.modbus               # 3 fresh-process runs, medians
    python -m bench.modbus --runs 5 --seconds 3
    python -m bench.modbus --single      # one run in this process (what each fresh process does)

The device side (our pymodbus server over ModbusDataStore) runs in its own process, as a PLC or a
gateway would, so the figures are the hub's: the integration's client, the read plan, decoding and
state writes. Measured, each for --seconds:

- round_trip: one 1-register read at a time (the pymodbus request/response floor), with latency;
- grouped_poll: one hub polling SLAVES x SENSORS sensors through the integration's read plan
  (contiguous registers merged into few requests), polls/s, requests/s and entity updates/s;
- ungrouped_poll: the same sensors with one request each (what grouping saves);
- parallel_hubs: HUBS hubs (one connection each) polling the same way at once.

Device values change between polls (the server bumps them on every read), so every poll writes
new states, as live meters would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
from typing import Any

from bench._lib import fmt, latency, median_metrics, perf, rate, run_json

SLAVES = 4
SENSORS = 60  # per slave: 15 each of int16, uint16, int32 (2 regs), float32 (2 regs) -> 90 registers
HUBS = 4

_TYPES = ("int16", "uint16", "int32", "float32")


def _serve(port_queue: Any, slaves: int, registers: int) -> None:
    """Child process: a device server whose input registers move on every read."""
    from integrations.modbus.const import InputType
    from integrations.modbus.server import ModbusDataStore, SimulatedModbusServer

    class _LiveStore(ModbusDataStore):
        async def async_getValues(self, device_id: int, func_code: int, address: int,
                                  count: int = 1) -> Any:
            memory = self._memory(device_id)
            table = memory.tables[InputType.INPUT]
            for a in range(address, address + count):
                table[a] = (table.get(a, 0) + 1) & 0x7FFF
            return await super().async_getValues(device_id, func_code, address, count)

    async def main() -> None:
        store = _LiveStore()
        for slave in range(1, slaves + 1):
            store.set_registers(slave, InputType.INPUT, 0, list(range(registers)))
        server = SimulatedModbusServer(store)
        await server.async_start()
        port_queue.put(server.port)
        await asyncio.Event().wait()

    asyncio.run(main())


def _sensors(slave: int) -> list[dict[str, Any]]:
    sensors = []
    address = 0
    for i in range(SENSORS):
        data_type = _TYPES[i % len(_TYPES)]
        sensors.append({"name": f"s{slave} r{address} {data_type}", "slave": slave, "address": address,
                        "input_type": "input", "data_type": data_type, "scale": 0.1})
        address += 2 if data_type in ("int32", "float32") else 1
    return sensors


async def _poll_for(poller: Any, blocks: list[Any], seconds: float) -> tuple[int, float]:
    polls = 0
    t0 = perf()
    while perf() - t0 < seconds:
        await poller.async_poll(blocks)
        polls += 1
    return polls, perf() - t0


async def single_run(seconds: float) -> dict[str, Any]:
    """One run in this process; returns the metrics."""
    from hub.core import Hub
    from integrations.modbus import DATA_MODBUS, async_setup, async_unload
    from integrations.modbus.client import ModbusClient
    from integrations.modbus.const import InputType
    from integrations.modbus.poller import ModbusPoller, plan_reads

    ctx = mp.get_context("spawn")
    port_queue = ctx.Queue()
    registers = sum(2 if _TYPES[i % 4] in ("int32", "float32") else 1 for i in range(SENSORS))
    server = ctx.Process(target=_serve, args=(port_queue, SLAVES, registers), daemon=True)
    server.start()
    port = int(port_queue.get(timeout=30))
    metrics: dict[str, Any] = {}
    try:
        # Raw round trip: one register, one request at a time.
        client = ModbusClient("floor", "127.0.0.1", port, timeout=5)
        await client.async_connect()
        samples: list[float] = []
        t0 = perf()
        while perf() - t0 < seconds:
            t1 = perf()
            await client.async_read(1, InputType.INPUT, 0, 1)
            samples.append(perf() - t1)
        metrics["round_trip"] = {**rate(len(samples), perf() - t0), **latency(samples)}
        client.close()

        with tempfile.TemporaryDirectory() as config_dir:
            hub = Hub(config_dir)
            await hub.async_start()
            hubs = [
                {"name": f"bench_{h}", "host": "127.0.0.1", "port": port, "timeout": 5,
                 "scan_interval": 3600,  # we drive the polls ourselves
                 "sensors": [s | {"name": f"h{h} {s['name']}"} for slave in range(1, SLAVES + 1)
                             for s in _sensors(slave)]}
                for h in range(HUBS)
            ]
            await async_setup(hub, hubs)
            await hub.async_block_till_done()
            pollers: list[ModbusPoller] = list(hub.data[DATA_MODBUS].pollers.values())
            first = pollers[0]
            entities = len(first.entities)
            grouped = plan_reads(first.entities)
            ungrouped = [block for entity in first.entities for block in plan_reads([entity])]

            requests_before = first.client.requests
            polls, elapsed = await _poll_for(first, grouped, seconds)
            requests = first.client.requests - requests_before
            metrics["grouped_poll"] = {
                **rate(polls, elapsed), "requests_per_poll": len(grouped), "entities": entities,
                "requests_per_s": round(requests / elapsed, 1),
                "entity_updates_per_s": round(polls * entities / elapsed, 1),
            }
            polls, elapsed = await _poll_for(first, ungrouped, seconds)
            metrics["ungrouped_poll"] = {
                **rate(polls, elapsed), "requests_per_poll": len(ungrouped), "entities": entities,
                "entity_updates_per_s": round(polls * entities / elapsed, 1),
            }
            results = await asyncio.gather(*(_poll_for(p, plan_reads(p.entities), seconds) for p in pollers))
            total = sum(n for n, _ in results)
            longest = max(t for _, t in results)
            metrics["parallel_hubs"] = {
                **rate(total, longest), "hubs": len(pollers),
                "entity_updates_per_s": round(total * entities / longest, 1),
            }
            await async_unload(hub)
            await hub.async_stop()
    finally:
        server.terminate()
        server.join(5)
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh-process runs (medians reported)")
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each measurement")
    parser.add_argument("--single", action="store_true", help="one run in this process, print its JSON")
    args = parser.parse_args()
    if args.single:
        print(json.dumps({"bench": "hacho_modbus", "metrics": asyncio.run(single_run(args.seconds))}))
        return
    runs = []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}", file=sys.stderr, flush=True)
        runs.append(run_json([sys.executable, "-m", "bench.modbus", "--single", "--seconds",
                              str(args.seconds)])["metrics"])
    merged = median_metrics(runs)
    rt, grouped, ungrouped, parallel = (merged[k] for k in
                                        ("round_trip", "grouped_poll", "ungrouped_poll", "parallel_hubs"))
    print(f"\nModbus TCP on loopback, device server in its own process; medians of {args.runs} runs")
    print(f"round trip (1 register, sequential): {fmt(rt['rate'])} requests/s, p50 {fmt(rt['p50_us'])} us, "
          f"p99 {fmt(rt['p99_us'])} us")
    print(f"grouped poll, {int(grouped['entities'])} sensors in "
          f"{int(grouped['requests_per_poll'])} requests: "
          f"{fmt(grouped['rate'])} polls/s, {fmt(grouped['requests_per_s'])} requests/s, "
          f"{fmt(grouped['entity_updates_per_s'])} entity updates/s")
    print(f"ungrouped poll, one request per sensor ({int(ungrouped['requests_per_poll'])}): "
          f"{fmt(ungrouped['rate'])} polls/s -> grouping is x{grouped['rate'] / ungrouped['rate']:.1f}")
    print(f"{int(parallel['hubs'])} hubs polling at once: {fmt(parallel['rate'])} polls/s, "
          f"{fmt(parallel['entity_updates_per_s'])} entity updates/s")
    print(json.dumps({"bench": "modbus", "runs": args.runs, "seconds": args.seconds, "metrics": merged}))


if __name__ == "__main__":
    main()
