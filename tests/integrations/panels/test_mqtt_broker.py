"""The panel drivers against the real Mosquitto: retained payloads reach a sign that connects later,
and the sign's status reports reach the entity.

Until the mqtt integration lands, a small aiomqtt adapter in this file plays its client (the same
`async_publish` / `async_subscribe` surface the driver uses).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiomqtt
import pytest

from hub.core import Event, Hub, State, callback
from hub.helpers.event import async_track_state_change_event
from integrations.panels import CONFIG_SCHEMA, async_setup, async_unload
from integrations.panels import driver_mqtt as driver_mqtt_module


class AiomqttClient:
    """The mqtt integration's client surface, on aiomqtt."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.handlers: dict[str, Callable[[Any], None]] = {}

    async def async_publish(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> None:
        await self.client.publish(topic, payload, qos=qos, retain=retain)

    async def async_subscribe(self, topic: str, msg_callback: Callable[[Any], None],
                              qos: int = 0) -> Callable[[], None]:
        self.handlers[topic] = msg_callback
        await self.client.subscribe(topic, qos=qos)
        def remove() -> None:
            self.handlers.pop(topic, None)

        return remove

    async def read(self) -> None:
        async for message in self.client.messages:
            handler = self.handlers.get(str(message.topic))
            if handler is not None:
                handler(message)


@pytest.fixture
async def broker_client(mqtt_broker: tuple[str, int], hub: Hub,
                        monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AiomqttClient]:
    host, port = mqtt_broker
    async with aiomqtt.Client(host, port, identifier=f"hacho-test-{uuid.uuid4().hex[:8]}") as client:
        adapter = AiomqttClient(client)
        reader = asyncio.create_task(adapter.read())
        monkeypatch.setattr(driver_mqtt_module, "_get_mqtt", lambda _hub: adapter)
        yield adapter
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def wait_for_state(hub: Hub, entity_id: str, predicate: Callable[[State | None], bool]) -> None:
    """Wait (at most 5 s) until the entity's state satisfies `predicate`."""
    done = asyncio.Event()

    @callback
    def check(_event: Event | None = None) -> None:
        if predicate(hub.states.get(entity_id)):
            done.set()

    remove = async_track_state_change_event(hub, entity_id, check)
    check()
    try:
        async with asyncio.timeout(5):
            await done.wait()
    finally:
        remove()


async def test_retained_message_and_status_round_trip(hub: Hub, broker_client: AiomqttClient,
                                                      mqtt_broker: tuple[str, int]) -> None:
    prefix = f"hacho-test/{uuid.uuid4().hex[:8]}"
    config = CONFIG_SCHEMA([
        {"id": "P-JSON", "driver": "mqtt_json", "topic": f"{prefix}/json"},
        {"id": "P-MULTI", "driver": "ntcip", "topic": f"{prefix}/multi"},
    ])
    assert await async_setup(hub, config)
    for entity_id in ("panel.p_json", "panel.p_multi"):
        await hub.services.async_call("panel", "display", {"entity_id": entity_id,
                                                           "pages": [["PUERTO", "CERRADO"], ["DESVIO"]]})
    host, port = mqtt_broker
    try:
        # a sign that connects after the message was set still gets it (retained)
        async with aiomqtt.Client(host, port) as sign:
            await sign.subscribe(f"{prefix}/+", qos=1)
            received: dict[str, bytes] = {}
            async with asyncio.timeout(5):
                async for message in sign.messages:
                    assert isinstance(message.payload, bytes)
                    received[str(message.topic)] = message.payload
                    if len(received) == 2:
                        break
            body = json.loads(received[f"{prefix}/json"])
            assert body["message"]["pages"] == [["PUERTO", "CERRADO"], ["DESVIO"]]
            assert received[f"{prefix}/multi"] == b"[pt30o0][jl3]PUERTO[nl]CERRADO[np]DESVIO"

            await sign.publish(f"{prefix}/json/status", '{"status": "working", "pixel_errors": 9}', qos=1)
            await wait_for_state(hub, "panel.p_json",
                                 lambda state: state is not None and state.attributes["pixel_errors"] == 9)
            state = hub.states.get("panel.p_json")
            assert state is not None and state.attributes["status"] == "pixel_errors"
    finally:
        await async_unload(hub)
        for suffix in ("json", "multi"):  # leave no retained messages behind
            await broker_client.client.publish(f"{prefix}/{suffix}", b"", qos=1, retain=True)
