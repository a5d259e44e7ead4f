"""Home Assistant-style discovery against the real Mosquitto: add, update, remove, device-based configs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import pytest

from hub.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from hub.core import Event, Hub, callback
from integrations.mqtt.const import EVENT_MQTT_DISCOVERY_UPDATED
from integrations.mqtt.discovery import expand_config

from .conftest import SetupMqtt, wait_for_state, wait_state


class Retained:
    """Publishes retained discovery configs and clears every one of them at the end."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.topics: set[str] = set()

    async def publish(self, topic: str, config: dict[str, Any] | str) -> None:
        payload = config if isinstance(config, str) else json.dumps(config)
        if payload:
            self.topics.add(topic)
        await self.client.publish(topic, payload, qos=1, retain=True)


@pytest.fixture
async def retained(publisher: aiomqtt.Client) -> AsyncIterator[Retained]:
    helper = Retained(publisher)
    yield helper
    for topic in helper.topics:
        await publisher.publish(topic, "", qos=1, retain=True)


def _discovery_events(hub: Hub) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    @callback
    def record(event: Event) -> None:
        events.append(dict(event.data))

    hub.bus.async_listen(EVENT_MQTT_DISCOVERY_UPDATED, record)
    return events


def test_abbreviations_and_base_topic_expand() -> None:
    config = expand_config({
        "~": "tasmota/plug7", "stat_t": "~/STATE", "cmd_t": "~/cmnd/POWER", "avty_t": "tele/~/LWT",
        "dev": {"ids": ["plug7"], "mf": "Tasmota", "mdl": "Sonoff"}, "uniq_id": "plug7_relay",
        "avty": [{"t": "~/status", "pl_avail": "up"}],
    })
    assert config["state_topic"] == "tasmota/plug7/STATE"
    assert config["command_topic"] == "tasmota/plug7/cmnd/POWER"
    assert config["availability_topic"] == "tele/~/LWT"  # '~' counts only at either end
    assert config["device"] == {"identifiers": ["plug7"], "manufacturer": "Tasmota", "model": "Sonoff"}
    assert config["availability"] == [{"topic": "tasmota/plug7/status", "payload_available": "up"}]
    assert config["unique_id"] == "plug7_relay"


async def test_discovered_sensor_is_added_updated_in_place_and_removed(
        hub: Hub, setup_mqtt: SetupMqtt, prefix: str, publisher: aiomqtt.Client, retained: Retained) -> None:
    events = _discovery_events(hub)
    await setup_mqtt()
    config_topic = f"{prefix}/ha/sensor/station3/temperature/config"
    await retained.publish(config_topic, {
        "name": "Temperature", "uniq_id": "station3_t", "stat_t": f"{prefix}/station3/state",
        "val_tpl": "{{ value_json.temperature }}", "unit_of_meas": "°C", "dev_cla": "temperature",
        "stat_cla": "measurement", "dev": {"ids": ["station3"], "name": "Revellin station", "mf": "Davis"},
    })
    await wait_for_state(hub, "sensor.revellin_station_temperature", lambda st: st is not None)
    await hub.async_block_till_done()  # its SUBSCRIBE acknowledged
    await publisher.publish(f"{prefix}/station3/state", '{"temperature": 19.5}')
    state = await wait_state(hub, "sensor.revellin_station_temperature", "19.5")
    assert state.attributes["friendly_name"] == "Revellin station Temperature"
    assert state.attributes["unit_of_measurement"] == "°C"
    assert state.attributes["state_class"] == "measurement"

    # A changed config updates the same entity: new template and unit, same entity id.
    await retained.publish(config_topic, {
        "name": "Temperature", "uniq_id": "station3_t", "stat_t": f"{prefix}/station3/state",
        "val_tpl": "{{ value_json.temp_f }}", "unit_of_meas": "°F", "dev_cla": "temperature",
        "dev": {"ids": ["station3"], "name": "Revellin station"},
    })
    await wait_for_state(hub, "sensor.revellin_station_temperature",
                         lambda st: st is not None and st.attributes.get("unit_of_measurement") == "°F")
    await hub.async_block_till_done()
    await publisher.publish(f"{prefix}/station3/state", '{"temp_f": 67.1}')
    await wait_state(hub, "sensor.revellin_station_temperature", "67.1")
    assert hub.states.async_entity_ids("sensor").count("sensor.revellin_station_temperature") == 1

    # An empty retained config removes it.
    await retained.publish(config_topic, "")
    await wait_for_state(hub, "sensor.revellin_station_temperature", lambda st: st is None)
    assert [(e["action"], e["entity_id"]) for e in events] == [
        ("add", "sensor.revellin_station_temperature"),
        ("update", "sensor.revellin_station_temperature"),
        ("remove", "sensor.revellin_station_temperature"),
    ]


async def test_discovered_switch_with_availability(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                   publisher: aiomqtt.Client, retained: Retained) -> None:
    await setup_mqtt()
    await publisher.subscribe(f"{prefix}/plug/cmnd/POWER", qos=1)
    await retained.publish(f"{prefix}/ha/switch/plug7/config", {
        "~": f"{prefix}/plug", "name": "Floodlight", "uniq_id": "plug7", "stat_t": "~/POWER",
        "cmd_t": "~/cmnd/POWER", "avty_t": "~/LWT", "pl_avail": "Online", "pl_not_avail": "Offline",
        "obj_id": "port_floodlight",
    })
    await wait_state(hub, "switch.port_floodlight", STATE_UNAVAILABLE)
    await hub.async_block_till_done()
    await publisher.publish(f"{prefix}/plug/LWT", "Online")
    await wait_state(hub, "switch.port_floodlight", STATE_UNKNOWN)
    await publisher.publish(f"{prefix}/plug/POWER", "ON")
    await wait_state(hub, "switch.port_floodlight", "on")
    await hub.services.async_call("switch", "turn_off", {"entity_id": "switch.port_floodlight"})
    async for message in publisher.messages:
        assert message.topic.value == f"{prefix}/plug/cmnd/POWER"
        assert message.payload == b"OFF"
        assert message.qos == 1
        break
    await publisher.publish(f"{prefix}/plug/LWT", "Offline")
    await wait_state(hub, "switch.port_floodlight", STATE_UNAVAILABLE)


async def test_device_based_discovery(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                      publisher: aiomqtt.Client, retained: Retained) -> None:
    await setup_mqtt()
    topic = f"{prefix}/ha/device/aq_port/config"
    device_config = {
        "dev": {"ids": "aq_port", "name": "Port air", "mf": "Libelium"},
        "o": {"name": "city-firmware", "sw": "1.2"},
        "stat_t": f"{prefix}/aq_port/state", "avty_t": f"{prefix}/aq_port/availability", "qos": 1,
        "cmps": {
            "pm25": {"p": "sensor", "name": "PM2.5", "dev_cla": "pm25", "unit_of_meas": "µg/m³",
                     "val_tpl": "{{ value_json.pm25 }}", "uniq_id": "aq_port_pm25"},
            "no2": {"p": "sensor", "name": "NO2", "dev_cla": "nitrogen_dioxide", "unit_of_meas": "µg/m³",
                    "val_tpl": "{{ value_json.no2 }}", "uniq_id": "aq_port_no2"},
            "alarm": {"p": "binary_sensor", "name": "Alarm", "val_tpl": "{{ value_json.alarm }}",
                      "uniq_id": "aq_port_alarm"},
            "lamp": {"p": "light", "name": "Ignored lamp"},
        },
    }
    await retained.publish(topic, device_config)
    await wait_for_state(hub, "binary_sensor.port_air_alarm", lambda st: st is not None)
    assert hub.states.get("sensor.port_air_pm2_5").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    await hub.async_block_till_done()
    await publisher.publish(f"{prefix}/aq_port/availability", "online")
    await publisher.publish(f"{prefix}/aq_port/state", json.dumps({"pm25": 14, "no2": 38, "alarm": "OFF"}))
    await wait_state(hub, "sensor.port_air_no2", "38")
    assert hub.states.get("sensor.port_air_pm2_5").state == "14"  # type: ignore[union-attr]
    assert hub.states.get("binary_sensor.port_air_alarm").state == "off"  # type: ignore[union-attr]
    assert not [st for st in hub.states.async_all() if "lamp" in st.entity_id]

    # A component given as only its platform is removed; the others stay.
    device_config["cmps"]["no2"] = {"p": "sensor"}  # type: ignore[index]
    await retained.publish(topic, device_config)
    await wait_for_state(hub, "sensor.port_air_no2", lambda st: st is None)
    assert hub.states.get("sensor.port_air_pm2_5").state == "14"  # type: ignore[union-attr]

    # An empty config removes the whole device.
    await retained.publish(topic, "")
    await wait_for_state(hub, "sensor.port_air_pm2_5", lambda st: st is None)
    await wait_for_state(hub, "binary_sensor.port_air_alarm", lambda st: st is None)


async def test_invalid_discovery_configs_are_counted_and_change_nothing(
        hub: Hub, setup_mqtt: SetupMqtt, prefix: str, retained: Retained) -> None:
    client = await setup_mqtt()
    await retained.publish(f"{prefix}/ha/sensor/bad1/config", "{not json")
    await retained.publish(f"{prefix}/ha/sensor/bad2/config", {"name": "No topic"})
    await retained.publish(f"{prefix}/ha/sensor/bad3/config", {"name": "Bad unit", "stat_t": "x",
                                                               "dev_cla": "temperature", "unit_of_meas": "hPa"})
    await retained.publish(f"{prefix}/ha/sensor/good/config", {"name": "Good", "stat_t": f"{prefix}/good"})
    await wait_for_state(hub, "sensor.good", lambda st: st is not None)
    await hub.async_block_till_done()
    counts = client.malformed_counts()
    assert {topic.rsplit("/", 2)[1] for topic in counts} == {"bad1", "bad2", "bad3"}
    assert not [st for st in hub.states.async_all("sensor") if "topic" in st.entity_id or "bad" in st.entity_id]


async def test_discovery_can_be_turned_off(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                           publisher: aiomqtt.Client, retained: Retained) -> None:
    await setup_mqtt(discovery=False, sensor=[{"name": "Marker", "state_topic": f"{prefix}/marker"}])
    await retained.publish(f"{prefix}/ha/sensor/ghost/config", {"name": "Ghost", "stat_t": f"{prefix}/ghost"})
    await publisher.publish(f"{prefix}/marker", "1")  # published after the config: once it lands, so would have it
    await wait_state(hub, "sensor.marker", "1")
    await hub.async_block_till_done()
    assert hub.states.get("sensor.ghost") is None
