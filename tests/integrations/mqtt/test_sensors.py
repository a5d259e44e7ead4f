"""YAML-configured sensors and binary sensors against the real Mosquitto: values, templates, units,
availability, JSON attributes, malformed payloads, expiry."""

from __future__ import annotations

import asyncio
import json
import logging
import struct

import aiomqtt
import pytest

from hub.clock import FakeClock
from hub.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from hub.core import Event, Hub, callback
from integrations.mqtt import get_mqtt
from integrations.mqtt.templates import MalformedPayload, ValueTemplate

from .conftest import SetupMqtt, wait_for_state, wait_state


async def test_city_weather_station_with_unit_conversion(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                         publisher: aiomqtt.Client) -> None:
    topic = f"{prefix}/weather/hacho"
    sensors = [
        {"name": f"Hacho {key}", "state_topic": topic, "value_template": f"{{{{ value_json.{key} }}}}", **extra}
        for key, extra in {
            "wind": {"kind": "wind_speed", "source_unit": "m/s"},
            "gust": {"kind": "wind_gust", "source_unit": "m/s"},
            "direction": {"kind": "wind_direction"},
            "temperature": {"kind": "temperature"},
            "humidity": {"kind": "humidity"},
            "rain": {"kind": "rain"},
            "pressure": {"kind": "pressure", "source_unit": "Pa"},
        }.items()
    ]
    await setup_mqtt(sensor=sensors)
    await publisher.publish(topic, json.dumps({"wind": 10, "gust": 15.5, "direction": 270, "temperature": 21.4,
                                               "humidity": 64, "rain": 0.2, "pressure": 101325}))
    state = await wait_state(hub, "sensor.hacho_pressure", "1013.2")  # Pa -> hPa, one decimal
    assert state.attributes["unit_of_measurement"] == "hPa"
    assert state.attributes["device_class"] == "atmospheric_pressure"
    wind = hub.states.get("sensor.hacho_wind")
    assert wind is not None and wind.state == "36.0"
    assert wind.attributes["unit_of_measurement"] == "km/h"
    assert wind.attributes["source_unit"] == "m/s"
    assert wind.attributes["device_class"] == "wind_speed"
    assert wind.attributes["state_class"] == "measurement"
    assert hub.states.get("sensor.hacho_gust").state == "55.8"  # type: ignore[union-attr]
    assert hub.states.get("sensor.hacho_direction").state == "270"  # type: ignore[union-attr]
    assert hub.states.get("sensor.hacho_temperature").attributes["unit_of_measurement"] == "°C"  # type: ignore[union-attr]
    rain = hub.states.get("sensor.hacho_rain")
    assert rain is not None and rain.state == "0.2" and rain.attributes["state_class"] == "total_increasing"


async def test_air_quality_energy_and_traffic_sensors(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                      publisher: aiomqtt.Client) -> None:
    await setup_mqtt(sensor=[
        {"name": "Port NO2", "state_topic": f"{prefix}/aq/no2", "kind": "no2", "source_unit": "ppb"},
        {"name": "Port PM2.5", "state_topic": f"{prefix}/aq/pm25", "kind": "pm25"},
        {"name": "Town hall power", "state_topic": f"{prefix}/energy/power", "kind": "power", "source_unit": "W"},
        {"name": "Town hall energy", "state_topic": f"{prefix}/energy/total", "kind": "energy"},
        {"name": "Tarajal vehicles", "state_topic": f"{prefix}/loop/vehicles", "kind": "vehicles"},
        {"name": "Tarajal occupancy", "state_topic": f"{prefix}/loop/occupancy", "kind": "occupancy"},
    ])
    for suffix, payload in [("aq/no2", "24.45"), ("aq/pm25", "12"), ("energy/power", "2500"),
                            ("energy/total", "1234.5"), ("loop/vehicles", "37"), ("loop/occupancy", "18.5")]:
        await publisher.publish(f"{prefix}/{suffix}", payload)
    await wait_state(hub, "sensor.tarajal_occupancy", "18.5")
    no2 = hub.states.get("sensor.port_no2")
    assert no2 is not None and no2.state == "46.0"  # ppb -> µg/m³ at EU reference conditions
    assert no2.attributes["unit_of_measurement"] == "µg/m³"
    assert no2.attributes["device_class"] == "nitrogen_dioxide"
    assert hub.states.get("sensor.port_pm2_5").state == "12"  # type: ignore[union-attr]
    power = hub.states.get("sensor.town_hall_power")
    assert power is not None and power.state == "2.5" and power.attributes["unit_of_measurement"] == "kW"
    energy = hub.states.get("sensor.town_hall_energy")
    assert energy is not None and energy.attributes["state_class"] == "total_increasing"
    vehicles = hub.states.get("sensor.tarajal_vehicles")
    assert vehicles is not None and vehicles.state == "37"
    assert vehicles.attributes["unit_of_measurement"] == "vehicles"


async def test_text_sensor_none_payload_and_binary_sensor(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                          publisher: aiomqtt.Client) -> None:
    await setup_mqtt(
        sensor=[{"name": "Gate mode", "state_topic": f"{prefix}/gate/mode"}],
        binary_sensor=[{"name": "Loop 1", "state_topic": f"{prefix}/loop1", "device_class": "occupancy",
                        "payload_on": "1", "payload_off": "0"}],
    )
    assert hub.states.get("sensor.gate_mode").state == STATE_UNKNOWN  # type: ignore[union-attr]
    await publisher.publish(f"{prefix}/gate/mode", "manual override")
    await wait_state(hub, "sensor.gate_mode", "manual override")
    await publisher.publish(f"{prefix}/gate/mode", "None")
    await wait_state(hub, "sensor.gate_mode", STATE_UNKNOWN)
    await publisher.publish(f"{prefix}/loop1", "1")
    state = await wait_state(hub, "binary_sensor.loop_1", "on")
    assert state.attributes["device_class"] == "occupancy"
    await publisher.publish(f"{prefix}/loop1", "0")
    await wait_state(hub, "binary_sensor.loop_1", "off")


async def test_malformed_payloads_are_logged_once_per_topic_and_counted(
        hub: Hub, setup_mqtt: SetupMqtt, prefix: str, publisher: aiomqtt.Client,
        caplog: pytest.LogCaptureFixture) -> None:
    client = await setup_mqtt(
        sensor=[{"name": "Station temp", "state_topic": f"{prefix}/station", "kind": "temperature",
                 "value_template": "{{ value_json.t }}"},
                {"name": "Meter", "state_topic": f"{prefix}/meter", "kind": "power"}],
        binary_sensor=[{"name": "Door", "state_topic": f"{prefix}/door"}],
    )
    caplog.set_level(logging.DEBUG, logger="integrations.mqtt")
    await publisher.publish(f"{prefix}/station", '{"t": 20.5}')
    await wait_state(hub, "sensor.station_temp", "20.5")
    for payload in ("not json", "{broken", '{"t": 1'):
        await publisher.publish(f"{prefix}/station", payload)
    await publisher.publish(f"{prefix}/meter", "twelve")
    await publisher.publish(f"{prefix}/meter", "nan")
    await publisher.publish(f"{prefix}/door", "AJAR")
    await publisher.publish(f"{prefix}/meter", "3.25")  # a good one after the bad ones still lands
    await wait_state(hub, "sensor.meter", "3.25")
    assert client.malformed_counts() == {f"{prefix}/station": 3, f"{prefix}/meter": 2, f"{prefix}/door": 1}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "Malformed" in r.getMessage()]
    assert sorted(r.getMessage().split(" ")[4] for r in warnings) == sorted(
        [f"{prefix}/station", f"{prefix}/meter", f"{prefix}/door"])
    # what the payload said is kept out of warnings (payloads can carry plates or names): debug only
    quoted = [r for r in caplog.records if "'twelve'" in r.getMessage()]
    assert quoted and all(r.levelno == logging.DEBUG for r in quoted)
    assert not [r for r in warnings if "AJAR" in r.getMessage() or "broken" in r.getMessage()]
    assert hub.states.get("sensor.station_temp").state == "20.5"  # type: ignore[union-attr]
    assert hub.states.get("binary_sensor.door").state == STATE_UNKNOWN  # type: ignore[union-attr]
    # the diagnostic entity shows the counts
    status = await wait_for_state(hub, "sensor.mqtt_broker",
                                  lambda st: st is not None and st.attributes.get("malformed_payloads") == 6)
    assert status is not None and status.state == "connected"
    assert status.attributes["malformed_by_topic"][f"{prefix}/station"] == 3


async def test_availability_topics_and_modes(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                             publisher: aiomqtt.Client) -> None:
    await setup_mqtt(sensor=[
        {"name": "Solo", "state_topic": f"{prefix}/solo", "availability_topic": f"{prefix}/solo/lwt",
         "payload_available": "Online", "payload_not_available": "Offline"},
        {"name": "Both", "state_topic": f"{prefix}/both", "availability_mode": "all",
         "availability": [{"topic": f"{prefix}/gw/status"}, {"topic": f"{prefix}/dev/status",
                                                             "value_template": "{{ value_json.state }}"}]},
    ])
    assert hub.states.get("sensor.solo").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    await publisher.publish(f"{prefix}/solo/lwt", "Online")
    await wait_state(hub, "sensor.solo", STATE_UNKNOWN)
    await publisher.publish(f"{prefix}/solo", "5")
    await wait_state(hub, "sensor.solo", "5")
    await publisher.publish(f"{prefix}/solo/lwt", "Offline")
    await wait_state(hub, "sensor.solo", STATE_UNAVAILABLE)
    await publisher.publish(f"{prefix}/gw/status", "online")
    await publisher.publish(f"{prefix}/both", "7")
    await publisher.publish(f"{prefix}/dev/status", '{"state": "online"}')
    await wait_state(hub, "sensor.both", "7")  # available only once both said online
    await publisher.publish(f"{prefix}/gw/status", "offline")
    await wait_state(hub, "sensor.both", STATE_UNAVAILABLE)


async def test_retained_values_and_json_attributes(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                   publisher: aiomqtt.Client) -> None:
    await publisher.publish(f"{prefix}/meter", "42", retain=True)
    try:
        await setup_mqtt(sensor=[{"name": "Meter", "state_topic": f"{prefix}/meter", "unit_of_measurement": "kWh",
                                  "json_attributes_topic": f"{prefix}/meter/attrs"}])
        await wait_state(hub, "sensor.meter", "42")  # the retained value arrives on subscribe
        await publisher.publish(f"{prefix}/meter/attrs", json.dumps({"building": "Town hall", "phase": 3}))
        state = await wait_for_state(hub, "sensor.meter", lambda st: st is not None and "building" in st.attributes)
        assert state is not None
        assert state.attributes["building"] == "Town hall" and state.attributes["phase"] == 3
        # the retained attributes deleted (an empty payload): gone from the state, and not a malformed payload
        malformed = get_mqtt(hub).stats.malformed
        await publisher.publish(f"{prefix}/meter/attrs", "", retain=True)
        state = await wait_for_state(hub, "sensor.meter", lambda st: st is not None and "building" not in st.attributes)
        assert state is not None and state.state == "42" and get_mqtt(hub).stats.malformed == malformed
    finally:
        await publisher.publish(f"{prefix}/meter", "", retain=True)


async def test_expire_after_and_off_delay_follow_the_hub_clock(fake_hub: Hub, fake_clock: FakeClock,
                                                               setup_mqtt: SetupMqtt, prefix: str,
                                                               publisher: aiomqtt.Client) -> None:
    await setup_mqtt(
        fake_hub,
        sensor=[{"name": "Gust", "state_topic": f"{prefix}/gust", "kind": "wind_gust", "expire_after": 60}],
        binary_sensor=[{"name": "Presence", "state_topic": f"{prefix}/presence", "off_delay": 5}],
    )
    await publisher.publish(f"{prefix}/gust", "30")
    await publisher.publish(f"{prefix}/presence", "ON")
    await wait_state(fake_hub, "sensor.gust", "30")
    await wait_state(fake_hub, "binary_sensor.presence", "on")
    await fake_clock.async_advance(5)
    assert fake_hub.states.get("binary_sensor.presence").state == "off"  # type: ignore[union-attr]
    await fake_clock.async_advance(50)
    assert fake_hub.states.get("sensor.gust").state == "30"  # type: ignore[union-attr]
    await fake_clock.async_advance(10)
    assert fake_hub.states.get("sensor.gust").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    await publisher.publish(f"{prefix}/gust", "31")
    await wait_state(fake_hub, "sensor.gust", "31")


def test_value_templates_read_the_payload(hub: Hub) -> None:
    payload = '{"wind": {"speed": "7.25", "dir": [270, 280]}, "name": "Hacho"}'
    for source, expected in [
        ("{{ value_json.wind.speed | float }}", 7.25),
        ("{{ value_json['wind']['dir'][1] }}", 280),
        ("{{ value_json.wind.speed | float | round(1) }}", 7.2),
        ("{{ value_json.name | lower }}", "hacho"),
        ("{{ value }}", payload),
    ]:
        assert ValueTemplate(source).render(hub, payload) == expected, source
    assert ValueTemplate("{% if value_json.name %}named{% endif %}").render(hub, payload) == "named"
    with pytest.raises(MalformedPayload):
        ValueTemplate("{{ value_json.a }}").render(hub, "not json")


async def test_a_burst_bigger_than_one_read_is_delivered_in_full(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                                 mqtt_broker: tuple[str, int]) -> None:
    """Thousands of packets in one go: more than one read's budget, so some wait in the client's buffer."""
    client = await setup_mqtt(sensor=[{"name": f"Loop {i}", "state_topic": f"{prefix}/loop/{i}",
                                       "kind": "vehicles"} for i in range(10)])
    count = 3000
    written = 0
    done = asyncio.Event()

    @callback
    def on_changed(event: Event) -> None:
        nonlocal written
        if event.data["entity_id"].startswith("sensor.loop_"):
            written += 1
            if written == count:
                done.set()

    hub.bus.async_listen(EVENT_STATE_CHANGED, on_changed)

    def encode(topic: str, payload: bytes) -> bytes:  # an MQTT 3.1.1 PUBLISH, QoS 0
        body = struct.pack("!H", len(topic)) + topic.encode() + payload
        length = bytearray()
        size = len(body)
        while True:
            size, byte = divmod(size, 128)
            length.append(byte | (0x80 if size else 0))
            if not size:
                break
        return b"\x30" + bytes(length) + body

    connect = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", 4) + b"burs"
    burst = b"".join(encode(f"{prefix}/loop/{k % 10}", b"%d" % (k // 10)) for k in range(count))
    reader, writer = await asyncio.open_connection(*mqtt_broker)
    writer.write(b"\x10" + bytes([len(connect)]) + connect)
    assert (await reader.readexactly(4))[0] == 0x20  # CONNACK
    writer.write(burst + b"\xe0\x00")  # every message, then DISCONNECT
    await writer.drain()
    async with asyncio.timeout(20):
        await done.wait()
    writer.close()
    assert written == count
    assert hub.states.get("sensor.loop_9").state == str(count // 10 - 1)  # type: ignore[union-attr]
    assert client.malformed_counts() == {}
