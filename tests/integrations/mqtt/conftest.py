"""Fixtures for the MQTT tests: a unique topic prefix, set-up helpers, a test publisher, a private broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from hub.core import Event, Hub, State, callback
from hub.helpers.event import async_track_state_change_event
from integrations.mqtt import CONFIG_SCHEMA, MqttClient, async_setup, async_unload, get_mqtt
from tests.mosquitto import Broker, mosquitto_binary

SetupMqtt = Callable[..., Awaitable[MqttClient]]


@pytest.fixture
def prefix() -> str:
    """A topic prefix no other test (or parallel run) uses."""
    return f"hacho-test/{uuid.uuid4().hex}"


@pytest.fixture
async def setup_mqtt(hub: Hub, mqtt_broker: tuple[str, int], prefix: str) -> AsyncIterator[SetupMqtt]:
    """`await setup_mqtt(**config)`: set up the integration against the shared broker and wait for it."""
    host, port = mqtt_broker
    used: list[Hub] = []

    async def setup(target: Hub | None = None, *, wait: bool = True, **raw: Any) -> MqttClient:
        target = target or hub
        raw.setdefault("broker", host)
        raw.setdefault("port", port)
        raw.setdefault("discovery_prefix", f"{prefix}/ha")
        assert await async_setup(target, CONFIG_SCHEMA(raw))
        used.append(target)
        client = get_mqtt(target)
        if wait:
            assert await client.async_wait_connected(10), "the hub did not connect to the broker"
            await target.async_block_till_done()
        return client

    yield setup
    for target in used:
        await async_unload(target)


@pytest.fixture
async def publisher(mqtt_broker: tuple[str, int]) -> AsyncIterator[aiomqtt.Client]:
    """A second, independent client (a device, or a test watching what the hub publishes)."""
    host, port = mqtt_broker
    async with aiomqtt.Client(host, port, identifier=f"hacho-test-{uuid.uuid4().hex[:10]}") as client:
        yield client


async def wait_for_state(hub: Hub, entity_id: str, predicate: Callable[[State | None], bool],
                         timeout: float = 10) -> State | None:
    """Wait until the entity's state satisfies `predicate`; fails after `timeout` seconds."""
    done = asyncio.Event()

    @callback
    def check(_event: Event | None = None) -> None:
        if predicate(hub.states.get(entity_id)):
            done.set()

    remove = async_track_state_change_event(hub, entity_id, check)
    check()
    try:
        async with asyncio.timeout(timeout):
            await done.wait()
    except TimeoutError:
        pytest.fail(f"{entity_id} never satisfied the condition; it is {hub.states.get(entity_id)}")
    finally:
        remove()
    return hub.states.get(entity_id)


async def wait_state(hub: Hub, entity_id: str, state: str, timeout: float = 10) -> State:
    """Wait until `entity_id` has the state string `state`."""
    result = await wait_for_state(hub, entity_id, lambda st: st is not None and st.state == state, timeout)
    assert result is not None
    return result


@pytest.fixture
async def own_broker(tmp_path: Path) -> AsyncIterator[Broker]:
    """A private broker (not started yet); killed at the end."""
    broker = Broker(tmp_path, mosquitto_binary())
    yield broker
    await broker.kill()
