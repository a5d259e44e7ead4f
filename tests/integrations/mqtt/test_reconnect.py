"""The hub against a broker the test owns: setup with the broker down, kill it mid-test, start it again."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt
import pytest

from hub.clock import FakeClock
from hub.const import STATE_UNAVAILABLE
from hub.core import Hub
from integrations.mqtt import CONFIG_SCHEMA, async_setup, async_unload, get_mqtt
from tests.conftest import free_port

from .conftest import Broker, wait_state


async def _publish(broker: Broker, topic: str, payload: str, retain: bool = False) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=f"dev-{uuid.uuid4().hex[:8]}") as device:
        await device.publish(topic, payload, qos=1, retain=retain)


async def test_broker_down_at_setup_then_killed_and_restarted(hub: Hub, own_broker: Broker) -> None:
    raw = {
        "broker": "127.0.0.1", "port": own_broker.port, "discovery_prefix": "ha",
        "sensor": [{"name": "Port wind", "state_topic": "ceuta/port/wind", "kind": "wind_speed",
                    "source_unit": "m/s"}],
        "binary_sensor": [{"name": "Port gate", "state_topic": "ceuta/port/gate", "device_class": "opening"}],
    }
    # The broker is not running: setup still succeeds and the entities say unavailable.
    assert await async_setup(hub, CONFIG_SCHEMA(raw))
    client = get_mqtt(hub)
    try:
        assert not client.connected
        assert hub.states.get("sensor.port_wind").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
        assert hub.states.get("sensor.mqtt_broker").state == "disconnected"  # type: ignore[union-attr]

        await own_broker.start()
        assert await client.async_wait_connected(15)
        await _publish(own_broker, "ceuta/port/wind", "5")
        await wait_state(hub, "sensor.port_wind", "18.0")

        # The broker dies: entities turn unavailable, the hub keeps running.
        await own_broker.kill()
        await wait_state(hub, "sensor.port_wind", STATE_UNAVAILABLE)
        await wait_state(hub, "binary_sensor.port_gate", STATE_UNAVAILABLE)
        assert hub.states.get("sensor.mqtt_broker").state == "disconnected"  # type: ignore[union-attr]

        # Back on the same port (without its old state): the client reconnects and subscribes again.
        await own_broker.start()
        assert await client.async_wait_connected(15)
        await wait_state(hub, "sensor.mqtt_broker", "connected")
        await _publish(own_broker, "ceuta/port/wind", "10")
        await wait_state(hub, "sensor.port_wind", "36.0")
        await _publish(own_broker, "ceuta/port/gate", "ON")
        await wait_state(hub, "binary_sensor.port_gate", "on")
        assert client.stats.connects == 2
        status = hub.states.get("sensor.mqtt_broker")
        assert status is not None and status.attributes["connects"] == 2
    finally:
        await async_unload(hub)


async def test_reconnect_backoff_doubles_to_30_seconds(fake_hub: Hub, fake_clock: FakeClock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    real_sleep = fake_clock.sleep

    async def recording_sleep(delay: float) -> None:
        slept.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(fake_clock, "sleep", recording_sleep)
    raw = {"broker": "127.0.0.1", "port": free_port(), "discovery": False}  # nothing listens there
    assert await async_setup(fake_hub, CONFIG_SCHEMA(raw))
    client = get_mqtt(fake_hub)

    async def failures(expected: int) -> None:
        for _ in range(500):  # the attempt runs in the executor; wait for it to fail and the wait to begin
            if client.stats.connect_failures >= expected and len(slept) >= expected:
                return
            await asyncio.sleep(0.01)
        pytest.fail(f"expected {expected} failed attempts, saw {client.stats.connect_failures}")

    expected = [0.5, 1, 2, 4, 8, 16, 30, 30]
    try:
        await failures(1)  # the first attempt is at once
        for attempt in range(2, len(expected) + 1):
            await fake_clock.async_advance(slept[-1])
            await failures(attempt)
        assert len(slept) == len(expected)
        for delay, wanted in zip(slept, expected, strict=True):
            assert wanted * 0.9 <= delay <= wanted * 1.1  # +-10 % jitter
        assert fake_hub.states.get("sensor.mqtt_broker").state == "disconnected"  # type: ignore[union-attr]
    finally:
        await async_unload(fake_hub)
