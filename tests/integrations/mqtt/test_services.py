"""`mqtt.publish`, MQTT switches through the switch services, and the client API other integrations use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiomqtt
import pytest

from hub.core import Context, Hub, callback
from hub.exceptions import DeviceUnavailable, ServiceValidationError
from integrations.mqtt import CONFIG_SCHEMA, ReceiveMessage, async_setup, async_unload, get_mqtt

from .conftest import Broker, SetupMqtt, wait_state


async def _next(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(10):
        async for message in client.messages:
            return message
    raise AssertionError("no message")


async def test_publish_service(hub: Hub, setup_mqtt: SetupMqtt, prefix: str, publisher: aiomqtt.Client) -> None:
    await setup_mqtt()
    await publisher.subscribe(f"{prefix}/panel/#", qos=1)
    await hub.services.async_call("mqtt", "publish", {"topic": f"{prefix}/panel/p1", "payload": "CLOSED",
                                                      "qos": 1})
    message = await _next(publisher)
    assert (message.topic.value, message.payload, message.qos, message.retain) == (
        f"{prefix}/panel/p1", b"CLOSED", 1, False)

    hub.states.async_set("sensor.port_wind", "63")
    await hub.services.async_call("mqtt", "publish", {
        "topic": f"{prefix}/panel/p2", "payload_template": "WIND {{ states('sensor.port_wind') }} KM/H"})
    message = await _next(publisher)
    assert message.payload == b"WIND 63 KM/H"

    await hub.services.async_call("mqtt", "publish", {"topic": f"{prefix}/panel/p3",
                                                      "payload": {"lines": ["SLOW", "DOWN"]}})
    assert (await _next(publisher)).payload == b'{"lines": ["SLOW", "DOWN"]}'

    # retained: a client that subscribes later still gets it
    await hub.services.async_call("mqtt", "publish", {"topic": f"{prefix}/retained/p4", "payload": "ON",
                                                      "retain": True, "qos": 1})
    await publisher.subscribe(f"{prefix}/retained/p4", qos=1)
    message = await _next(publisher)
    assert message.retain and message.payload == b"ON"
    await publisher.publish(f"{prefix}/retained/p4", "", retain=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topic": "a/+/b", "payload": "x"}, "wildcards are not allowed"),
        ({"payload": "x"}, "topic"),
        ({"topic": "a", "payload": "x", "payload_template": "y"}, "payload"),
        ({"topic": "a", "qos": 5}, "QoS"),
    ],
)
async def test_publish_service_validation(hub: Hub, setup_mqtt: SetupMqtt, data: dict, message: str) -> None:
    await setup_mqtt()
    with pytest.raises(ServiceValidationError, match=message):
        await hub.services.async_call("mqtt", "publish", data)


async def test_publish_while_the_broker_is_down_says_so(hub: Hub, own_broker: Broker) -> None:
    port = own_broker.port  # never started
    assert await async_setup(hub, CONFIG_SCHEMA({"broker": "127.0.0.1", "port": port,
                                                 "switch": [{"name": "Siren", "command_topic": "siren/set"}]}))
    try:
        with pytest.raises(DeviceUnavailable, match=f"127.0.0.1:{port} is not connected"):
            await hub.services.async_call("mqtt", "publish", {"topic": "x", "payload": "1"})
        with pytest.raises(DeviceUnavailable, match="siren/set"):
            await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.siren"})
        assert hub.states.get("switch.siren").state == "unavailable"  # type: ignore[union-attr]
    finally:
        await async_unload(hub)
    assert not hub.services.has_service("mqtt", "publish")
    assert hub.states.get("switch.siren") is None


async def test_switches_optimistic_and_with_state_topic(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                        publisher: aiomqtt.Client) -> None:
    await setup_mqtt(switch=[
        {"name": "Floodlights", "command_topic": f"{prefix}/lights/set"},
        {"name": "Fountain", "command_topic": f"{prefix}/fountain/set", "state_topic": f"{prefix}/fountain",
         "payload_on": "1", "payload_off": "0", "state_on": "running", "state_off": "stopped"},
    ])
    await publisher.subscribe(f"{prefix}/+/set", qos=1)
    context = Context(user_id="operator-7", centre="ceuta-1")
    await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.floodlights"}, context=context)
    message = await _next(publisher)
    assert (message.topic.value, message.payload, message.qos) == (f"{prefix}/lights/set", b"ON", 1)
    state = await wait_state(hub, "switch.floodlights", "on")  # optimistic: no state topic
    assert state.context.user_id == "operator-7"

    await hub.services.async_call("switch", "toggle", {"entity_id": "switch.fountain"})
    message = await _next(publisher)
    assert message.payload == b"1"
    assert hub.states.get("switch.fountain").state == "unknown"  # type: ignore[union-attr]  # waits for the device
    await publisher.publish(f"{prefix}/fountain", "running")
    await wait_state(hub, "switch.fountain", "on")
    await hub.services.async_call("switch", "toggle", {"entity_id": "switch.fountain"})
    assert (await _next(publisher)).payload == b"0"
    await publisher.publish(f"{prefix}/fountain", "stopped")
    await wait_state(hub, "switch.fountain", "off")


async def test_client_api_for_other_integrations(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                 publisher: aiomqtt.Client) -> None:
    with pytest.raises(LookupError):
        get_mqtt(hub)
    client = await setup_mqtt()
    received: list[tuple[str, object, str]] = []
    raw: list[bytes] = []
    failing_called = asyncio.Event()
    changed = asyncio.Event()

    async def until(predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not predicate():
                changed.clear()
                await changed.wait()

    @callback
    def on_message(msg: ReceiveMessage) -> None:
        received.append((msg.topic, msg.payload, msg.subscribed_topic))
        changed.set()

    @callback
    def failing(msg: ReceiveMessage) -> None:
        failing_called.set()
        raise RuntimeError("a broken subscriber")

    async def on_bytes(msg: ReceiveMessage) -> None:  # a coroutine subscriber runs as a task
        assert isinstance(msg.payload, bytes)
        raw.append(msg.payload)
        changed.set()

    remove = client.async_subscribe(f"{prefix}/fed/+/status", on_message, qos=1)
    client.async_subscribe(f"{prefix}/fed/#", failing)
    client.async_subscribe(f"{prefix}/fed/centre2/status", on_bytes, encoding=None)
    await hub.async_block_till_done()
    await client.async_publish(f"{prefix}/fed/centre2/status", "up", qos=1)
    await client.async_publish(f"{prefix}/fed/centre2/other", "x")
    await publisher.publish(f"{prefix}/fed/centre3/status", "down")
    await until(lambda: len(received) >= 2 and len(raw) >= 1)
    assert received == [(f"{prefix}/fed/centre2/status", "up", f"{prefix}/fed/+/status"),
                        (f"{prefix}/fed/centre3/status", "down", f"{prefix}/fed/+/status")]
    assert raw == [b"up"]
    assert failing_called.is_set()  # and its error reached neither the others nor the connection
    remove()
    await hub.async_block_till_done()
    await publisher.publish(f"{prefix}/fed/centre2/status", "again")
    await client.async_publish(f"{prefix}/fed/centre2/status", "again2")
    await until(lambda: len(raw) >= 3)
    assert len(received) == 2  # removed: nothing more for that callback
    assert client.connected
