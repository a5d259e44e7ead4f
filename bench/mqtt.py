"""MQTT bench: messages/s ingested into entity states end to end, beside the broker's own aiomqtt round trip.

    python -m bench.mqtt                 # 3 fresh-process runs, medians
    python -m bench.mqtt --runs 5 --messages 300000
    python -m bench.mqtt --single        # one run in this process (what each fresh process does)

Needs Mosquitto (127.0.0.1:1883, or --host/--port). Measured in each run:

- hub_ingest: a publisher in its own process (a device fleet: pre-encoded QoS 0 PUBLISH packets
  on a plain socket, so it costs the hub's core nothing) -> Mosquitto -> the hub's mqtt
  integration -> SENSORS numeric sensors -> state written. Counted as `state_changed` events (every
  message carries a new value, so every message is a state write). The publisher is paced by
  credits from the hub (at most WINDOW messages in flight), so the broker never drops QoS 0
  messages for a slow subscriber and the figure is what the hub sustains. Reported: msgs/s of
  wall time, and msgs per CPU-second of the hub process (the hub on one core to itself; on a
  machine where the broker and the publisher share the hub's cores, wall time undercounts it).
- hub_ingest_json: the same with `value_template: "{{ value_json.v }}"` on JSON payloads.
- hub_latency: one message at a time, aiomqtt publish -> state_changed in the hub.
- broker_round_trip: two plain aiomqtt clients in this process, QoS 0, bursts of 500, then one at a
  time for latency: the floor method of shared/bench/anchors (aiomqtt as it is usually used).

Target: 20,000 msgs/s into states on one core (`meets_target` uses msgs per CPU-second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import struct
import sys
import tempfile
import time
import uuid
from typing import Any

from bench._lib import fmt, latency, median_metrics, perf, rate, run_json

SENSORS = 100
MESSAGES = 200_000
WINDOW = 5_000
CREDIT = 1_000
TARGET = 20_000
LATENCY_SAMPLES = 2_000


# --------------------------------------------------------------------------- publisher process

def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _varint(len(body)) + body


def _utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def publisher_main(host: str, port: int, prefix: str, messages: int, sensors: int, json_payload: bool) -> None:
    """Child process: connect, pre-encode every message, then send CREDIT messages per line read on stdin."""
    sock = socket.create_connection((host, port))
    sock.sendall(_packet(0x10, _utf8("MQTT") + bytes([4, 2]) + struct.pack("!H", 60)
                         + _utf8(f"bench-pub-{os.getpid()}")))
    if sock.recv(4)[:1] != b"\x20":
        raise SystemExit("no CONNACK")
    topics = [_utf8(f"{prefix}/s{i}") for i in range(sensors)]
    packets = []
    for k in range(messages):
        value = k // sensors  # rises on every topic: each message is a new state
        payload = b'{"v":%d,"battery":97}' % value if json_payload else b"%d" % value
        packets.append(_packet(0x30, topics[k % sensors] + payload))
    print("ready", flush=True)
    sent = 0
    for line in sys.stdin:
        count = int(line)
        sock.sendall(b"".join(packets[sent:sent + count]))
        sent += count
        if sent >= messages:
            break
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()


# --------------------------------------------------------------------------- hub side

async def _hub_ingest(host: str, port: int, messages: int, sensors: int, json_payload: bool) -> dict[str, Any]:
    from hub.const import EVENT_STATE_CHANGED
    from hub.core import Event, Hub, callback
    from integrations.mqtt import CONFIG_SCHEMA, async_setup, async_unload, get_mqtt

    prefix = f"bench/{uuid.uuid4().hex}"
    hub = Hub(tempfile.mkdtemp(prefix="hacho-bench-mqtt-"))
    await hub.async_start()
    sensor_config: list[dict[str, Any]] = [
        {"name": f"bench {i}", "state_topic": f"{prefix}/s{i}", "unit_of_measurement": "vehicles",
         **({"value_template": "{{ value_json.v }}"} if json_payload else {})}
        for i in range(sensors)
    ]
    await async_setup(hub, CONFIG_SCHEMA({"broker": host, "port": port, "discovery": False,
                                          "birth_message": {}, "will_message": {}, "sensor": sensor_config}))
    client = get_mqtt(hub)
    if not await client.async_wait_connected(10):
        raise SystemExit(f"cannot connect to {host}:{port}")
    await hub.async_block_till_done()

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.mqtt", "--publisher", "--host", host, "--port", str(port),
        "--prefix", prefix, "--messages", str(messages), "--sensors", str(sensors),
        *(["--json"] if json_payload else []),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    if (await proc.stdout.readline()).strip() != b"ready":
        raise SystemExit("publisher failed to start")

    changed = 0
    progress = asyncio.Event()

    @callback
    def on_changed(event: Event) -> None:
        nonlocal changed
        changed += 1
        if changed % CREDIT == 0 or changed == messages:
            progress.set()

    remove = hub.bus.async_listen(EVENT_STATE_CHANGED, on_changed)
    sent = 0
    stalled = False
    start, cpu_start = perf(), time.process_time()
    while changed < messages:
        while sent < messages and sent - changed < WINDOW:
            proc.stdin.write(b"%d\n" % CREDIT)
            sent += CREDIT
        progress.clear()
        try:
            await asyncio.wait_for(progress.wait(), 10)
        except TimeoutError:
            stalled = True
            break
    elapsed, cpu = perf() - start, time.process_time() - cpu_start
    remove()
    proc.stdin.close()
    await proc.wait()
    metrics = {
        **rate(changed, elapsed), "cpu_s": round(cpu, 3), "msgs_per_cpu_s": round(changed / cpu, 1),
        "state_changed": changed, "messages": messages, "sensors": sensors, "lost": messages - changed,
        "stalled": int(stalled), "fast_path": int(client.fast_path),
    }
    await async_unload(hub)
    await hub.async_stop()
    return metrics


async def _hub_latency(host: str, port: int, samples: int) -> dict[str, Any]:
    import aiomqtt

    from hub.const import EVENT_STATE_CHANGED
    from hub.core import Event, Hub, callback
    from integrations.mqtt import CONFIG_SCHEMA, async_setup, async_unload, get_mqtt

    prefix = f"bench/{uuid.uuid4().hex}"
    hub = Hub(tempfile.mkdtemp(prefix="hacho-bench-mqtt-"))
    await hub.async_start()
    await async_setup(hub, CONFIG_SCHEMA({"broker": host, "port": port, "discovery": False,
                                          "sensor": [{"name": "lat", "state_topic": f"{prefix}/lat",
                                                      "unit_of_measurement": "vehicles"}]}))
    await get_mqtt(hub).async_wait_connected(10)
    await hub.async_block_till_done()
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[float] | None = None

    @callback
    def on_changed(event: Event) -> None:
        if event.data["entity_id"] == "sensor.lat" and waiter is not None and not waiter.done():
            waiter.set_result(perf())

    remove = hub.bus.async_listen(EVENT_STATE_CHANGED, on_changed)
    lats = []
    async with aiomqtt.Client(host, port, identifier=f"bench-lat-{os.getpid()}") as pub:
        for i in range(samples + 100):
            waiter = loop.create_future()
            t0 = perf()
            await pub.publish(f"{prefix}/lat", str(i))
            t1 = await asyncio.wait_for(waiter, 10)
            if i >= 100:
                lats.append(t1 - t0)
    remove()
    await async_unload(hub)
    await hub.async_stop()
    return latency(lats)


async def _broker_round_trip(host: str, port: int, total: int, samples: int, batch: int = 500) -> dict[str, Any]:
    """Two plain aiomqtt clients, as in shared/bench/anchors/bench_floor.py (QoS 0)."""
    import aiomqtt

    quiet = logging.getLogger("bench.mqtt.aiomqtt")
    quiet.setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()
    topic = f"bench/floor/{uuid.uuid4().hex}"
    state: dict[str, Any] = {"count": 0, "target": 0, "future": None, "t1": 0.0}
    async with aiomqtt.Client(host, port, identifier=f"bench-sub-{os.getpid()}", logger=quiet) as sub, \
            aiomqtt.Client(host, port, identifier=f"bench-pub-{os.getpid()}", logger=quiet) as pub:
        await sub.subscribe(topic)

        async def reader() -> None:
            async for _message in sub.messages:
                state["count"] += 1
                if state["count"] >= state["target"]:
                    state["t1"] = perf()
                    if not state["future"].done():
                        state["future"].set_result(None)

        task = asyncio.create_task(reader())
        payloads = [b'{"seq":%d,"state":"on","temp":21.5}' % i for i in range(batch)]

        async def burst(n: int) -> float:
            t0 = perf()
            done = 0
            while done < n:
                size = min(batch, n - done)
                state["count"], state["target"], state["future"] = 0, size, loop.create_future()
                for i in range(size):
                    await pub.publish(topic, payloads[i])
                await asyncio.wait_for(state["future"], 30)
                done += size
            return perf() - t0

        await burst(min(total, 2000))
        cpu0 = time.process_time()
        elapsed = await burst(total)
        cpu = time.process_time() - cpu0
        lats = []
        for i in range(samples + 100):
            state["count"], state["target"], state["future"] = 0, 1, loop.create_future()
            t0 = perf()
            await pub.publish(topic, payloads[0])
            await asyncio.wait_for(state["future"], 10)
            if i >= 100:
                lats.append(state["t1"] - t0)
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, aiomqtt.MqttError):
            pass
    return {**rate(total, elapsed), "msgs_per_cpu_s": round(total / cpu, 1), **latency(lats)}


def single_run(host: str, port: int, messages: int, sensors: int) -> dict[str, Any]:
    """One run of every measurement, each in its own event loop (a stopped hub shuts its loop's executor)."""
    logging.basicConfig(level=logging.ERROR)
    return {
        "broker_round_trip": asyncio.run(_broker_round_trip(host, port, 50_000, LATENCY_SAMPLES)),
        "hub_ingest": asyncio.run(_hub_ingest(host, port, messages, sensors, json_payload=False)),
        "hub_ingest_json": asyncio.run(_hub_ingest(host, port, messages, sensors, json_payload=True)),
        "hub_latency": asyncio.run(_hub_latency(host, port, LATENCY_SAMPLES)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh-process runs (medians reported)")
    parser.add_argument("--messages", type=int, default=MESSAGES, help="messages per ingest measurement")
    parser.add_argument("--sensors", type=int, default=SENSORS, help="sensors (topics) they are spread over")
    parser.add_argument("--host", default=os.environ.get("HACHO_TEST_MQTT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HACHO_TEST_MQTT_PORT", "1883")))
    parser.add_argument("--single", action="store_true", help="one run in this process, print its JSON")
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        publisher_main(args.host, args.port, args.prefix, args.messages, args.sensors, args.json)
        return
    if args.single:
        metrics = single_run(args.host, args.port, args.messages, args.sensors)
        print(json.dumps({"bench": "hacho_mqtt", "metrics": metrics}))
        return
    runs = []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs}", file=sys.stderr, flush=True)
        runs.append(run_json([sys.executable, "-m", "bench.mqtt", "--single", "--messages", str(args.messages),
                              "--sensors", str(args.sensors), "--host", args.host, "--port", str(args.port)],
                             timeout=900)["metrics"])
    merged = median_metrics(runs)
    ingest, ingest_json, lat, floor = (merged[k] for k in
                                       ("hub_ingest", "hub_ingest_json", "hub_latency", "broker_round_trip"))
    print(f"\nMQTT on {args.host}:{args.port}, {os.cpu_count()} CPUs; medians of {args.runs} fresh-process runs")
    print(f"hub ingest, {int(ingest['messages']):,} messages over {int(ingest['sensors'])} sensors into states: "
          f"{fmt(ingest['rate'])} msgs/s wall, {fmt(ingest['msgs_per_cpu_s'])} msgs per hub CPU-second "
          f"(lost {int(ingest['lost'])}, fast path {'on' if ingest['fast_path'] else 'off'})")
    print(f"hub ingest with value_template on JSON: {fmt(ingest_json['rate'])} msgs/s wall, "
          f"{fmt(ingest_json['msgs_per_cpu_s'])} msgs per hub CPU-second")
    print(f"hub latency, publish -> state_changed: p50 {fmt(lat['p50_us'])} us, p99 {fmt(lat['p99_us'])} us")
    print(f"broker round trip, aiomqtt -> Mosquitto -> aiomqtt (QoS 0): {fmt(floor['rate'])} msgs/s, "
          f"p50 {fmt(floor['p50_us'])} us, p99 {fmt(floor['p99_us'])} us")
    meets = ingest["msgs_per_cpu_s"] >= TARGET
    print(f"target {TARGET:,} msgs/s on one core: {'met' if meets else 'NOT met'}")
    print(json.dumps({"bench": "mqtt", "runs": args.runs, "messages": args.messages, "sensors": args.sensors,
                      "cpus": os.cpu_count(), "target_msgs_per_s": TARGET, "meets_target": meets,
                      "metrics": merged}))


if __name__ == "__main__":
    main()
