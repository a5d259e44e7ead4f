"""`platform: mqtt` triggers: through the automation engine, and attached directly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiomqtt
import pytest

import automations
from automations.triggers import async_attach_triggers, validate_trigger
from hub.core import Context, Hub, callback
from hub.exceptions import HubError
from integrations.mqtt import get_mqtt
from integrations.mqtt.trigger import TRIGGER_SCHEMA, async_attach_trigger

from .conftest import SetupMqtt


async def test_automation_with_an_mqtt_trigger_publishes_a_reply(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                                 publisher: aiomqtt.Client) -> None:
    await setup_mqtt()
    await automations.async_setup(hub, {"automations": [{
        "alias": "Fire tower alarm to panel",
        "triggers": [{"trigger": "mqtt", "topic": f"{prefix}/thermal/+/alarm", "payload": "fire",
                      "value_template": "{{ value_json.kind }}", "id": "tower"}],
        "actions": [{"action": "mqtt.publish", "data": {
            "topic": f"{prefix}/panel/p1",
            "payload_template": "{{ trigger.id }} {{ trigger.topic.split('/')[-2] }} {{ trigger.payload_json.temp }}",
        }}],
    }]})
    await hub.async_block_till_done()
    await publisher.subscribe(f"{prefix}/panel/p1")
    await publisher.publish(f"{prefix}/thermal/hacho/alarm", json.dumps({"kind": "smoke", "temp": 40}))
    await publisher.publish(f"{prefix}/thermal/hacho/alarm", json.dumps({"kind": "fire", "temp": 412}))
    async with asyncio.timeout(10):
        async for message in publisher.messages:
            assert message.payload == b"tower hacho 412"  # only the 'fire' one triggered
            break


async def test_attach_directly_payload_filter_and_removal(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                          publisher: aiomqtt.Client) -> None:
    await setup_mqtt()
    fired: list[tuple[dict[str, Any], Context | None]] = []
    got = asyncio.Event()

    @callback
    def action(payload: dict[str, Any], context: Context | None = None) -> None:
        fired.append((payload, context))
        got.set()

    config = TRIGGER_SCHEMA({"platform": "mqtt", "topic": f"{prefix}/bollard/#", "payload": "fault", "qos": 1})
    remove = await async_attach_trigger(hub, config, action, {"trigger_data": {"id": "b", "idx": "0"},
                                                              "variables": {}, "name": "test"})
    await hub.async_block_till_done()
    await publisher.publish(f"{prefix}/bollard/b07", "raised")
    await publisher.publish(f"{prefix}/bollard/b07", "fault", qos=1)
    async with asyncio.timeout(10):
        await got.wait()
    payload, context = fired[0]
    assert payload == {"id": "b", "idx": "0", "platform": "mqtt", "topic": f"{prefix}/bollard/b07",
                       "payload": "fault", "qos": 1, "description": f"mqtt topic {prefix}/bollard/b07"}
    assert isinstance(context, Context)
    remove()
    await hub.async_block_till_done()
    got.clear()
    # the marker subscription proves later messages were delivered to the hub, just not to the trigger
    marker = asyncio.Event()
    get_mqtt(hub).async_subscribe(f"{prefix}/marker", callback(lambda _msg: marker.set()))
    await hub.async_block_till_done()
    await publisher.publish(f"{prefix}/bollard/b07", "fault")
    await publisher.publish(f"{prefix}/marker", "1")
    async with asyncio.timeout(10):
        await marker.wait()
    assert len(fired) == 1


async def test_trigger_validation_and_missing_integration(hub: Hub) -> None:
    config = validate_trigger({"trigger": "mqtt", "topic": "city/#"})
    assert config["platform"] == "mqtt" and config["qos"] == 0 and config["encoding"] == "utf-8"
    with pytest.raises(Exception, match="'#' must be a whole level"):
        validate_trigger({"trigger": "mqtt", "topic": "city/#/x"})
    with pytest.raises(HubError, match="mqtt integration is not set up"):
        await async_attach_trigger(hub, config, lambda *_: None, {"trigger_data": {}, "variables": {}})
    # the engine logs and skips a trigger that cannot attach
    remove = await async_attach_triggers(hub, [config], lambda *_: None, "automation", "test")
    remove()
