"""The simulated MQTT devices against the real Mosquitto, read by the hub's own MQTT sensors and discovery."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import aiomqtt
import pytest

from hub.clock import FakeClock
from hub.core import Event, Hub, State, callback
from hub.setup import async_get_setup_manager
from integrations.mqtt import get_mqtt
from integrations.simulator import get_simulator

from .conftest import SetupSections, wait_for_state

STATION = {"id": "port", "name": "Puerto", "exposure": 1.25, "latitude": 35.8935, "longitude": -5.3125,
           "area": "port"}


def _mqtt(broker: tuple[str, int], prefix: str) -> dict[str, Any]:
    weather = f"{prefix}/weather/port"
    sensors = [
        {"name": "Port wind gust", "state_topic": weather, "kind": "wind_gust", "source_unit": "m/s",
         "value_template": "{{ value_json.wind_gust }}", "json_attributes_topic": f"{weather}/info"},
        {"name": "Port temperature", "state_topic": weather, "kind": "temperature",
         "value_template": "{{ value_json.temperature }}"},
        {"name": "Centro NO2", "state_topic": f"{prefix}/air/centro", "kind": "no2",
         "value_template": "{{ value_json.no2 }}"},
    ]
    return {"broker": broker[0], "port": broker[1], "discovery_prefix": f"{prefix}/ha", "sensor": sensors}


def _simulator(broker: tuple[str, int], prefix: str, **extra: Any) -> dict[str, Any]:
    return {"seed": 2026, "time_zone": "Africa/Ceuta", "topic_prefix": prefix, "remove_on_stop": True,
            "mqtt": {"broker": broker[0], "port": broker[1]},
            "weather": {"interval": 10, "gale_rate": 0, "stations": [STATION]},
            "air_quality": {"interval": 60, "stations": [{"id": "centro"}]},
            "energy_meters": {"interval": 15, "meters": [
                {"id": "asamblea", "name": "Palacio de la Asamblea", "base_kw": 35, "peak_kw": 190,
                 "area": "centro", "latitude": 35.8886, "longitude": -5.3116}]},
            "traffic_counters": {"interval": 60, "counters": [{"id": "espana", "name": "Avenida de España"}]},
            **extra}


def _is(value: str) -> Callable[[State], bool]:
    return lambda state: state.state == value


async def _connected(hub: Hub) -> None:
    assert await get_mqtt(hub).async_wait_connected(10)
    link = get_simulator(hub).link
    assert link is not None and await link.async_wait_connected(10)
    await hub.async_block_till_done()


async def test_readings_reach_the_hub_sensors_in_their_units(
        fake_hub: Hub, fake_clock: FakeClock, mqtt_broker: tuple[str, int], prefix: str,
        setup_sections: SetupSections) -> None:
    await setup_sections(fake_hub, mqtt=_mqtt(mqtt_broker, prefix), simulator=_simulator(mqtt_broker, prefix))
    await _connected(fake_hub)
    simulator = get_simulator(fake_hub)
    station = simulator.stations["port"]
    for _ in range(3):
        await fake_clock.async_advance(10)
        last = station.last
        assert last is not None
        gust_kmh = str(round(last["wind_gust"] * 3.6, 1))  # the station sends m/s
        state = await wait_for_state(fake_hub, "sensor.port_wind_gust", _is(gust_kmh))
    assert state.attributes["unit_of_measurement"] == "km/h"
    assert state.attributes["latitude"] == 35.8935  # the station's retained info, as attributes
    assert state.attributes["area"] == "port"
    assert last is not None
    celsius = str(last["temperature"])
    temperature = await wait_for_state(fake_hub, "sensor.port_temperature", lambda s: s.state == celsius)
    assert temperature.attributes["unit_of_measurement"] == "°C"
    await fake_clock.async_advance(60)
    air = simulator.air["centro"].last
    assert air is not None
    await wait_for_state(fake_hub, "sensor.centro_no2", lambda s: s.state == str(air["no2"]))


async def test_meters_and_counters_announce_themselves(
        fake_hub: Hub, fake_clock: FakeClock, mqtt_broker: tuple[str, int], prefix: str,
        setup_sections: SetupSections) -> None:
    await setup_sections(fake_hub, mqtt=_mqtt(mqtt_broker, prefix), simulator=_simulator(mqtt_broker, prefix))
    await _connected(fake_hub)
    simulator = get_simulator(fake_hub)
    for entity_id in ("sensor.asamblea_power", "sensor.asamblea_energy", "sensor.espana_vehicles",
                      "sensor.espana_occupancy"):  # discovered from the retained configs
        await wait_for_state(fake_hub, entity_id, lambda s: True)
    await fake_hub.async_block_till_done()
    await fake_clock.async_advance(60)
    meter = simulator.meters["asamblea"].last
    counter = simulator.counters["espana"].last
    assert meter is not None and counter is not None
    power = await wait_for_state(fake_hub, "sensor.asamblea_power", lambda s: s.state == str(meter["power"]))
    assert power.attributes["unit_of_measurement"] == "kW"
    assert power.attributes["device_class"] == "power"
    assert power.attributes["latitude"] == 35.8886
    energy = await wait_for_state(fake_hub, "sensor.asamblea_energy", lambda s: s.state == str(meter["energy"]))
    assert energy.attributes["state_class"] == "total_increasing"
    vehicles = await wait_for_state(fake_hub, "sensor.espana_vehicles",
                                    lambda s: s.state == str(counter["vehicles"]))
    assert vehicles.attributes["unit_of_measurement"] == "vehicles"
    await wait_for_state(fake_hub, "sensor.espana_occupancy", lambda s: s.state == str(counter["occupancy"]))
    # Stopping the simulator with remove_on_stop clears its retained configs: the discovered entities go.
    removed = asyncio.Event()

    @callback
    def gone(event: Event) -> None:
        if event.data["entity_id"] == "sensor.asamblea_power" and event.data["new_state"] is None:
            removed.set()

    fake_hub.bus.async_listen("state_changed", gone)
    await async_get_setup_manager(fake_hub).async_unload_integration("simulator")
    async with asyncio.timeout(10):
        await removed.wait()


async def test_a_gale_brings_gusts_over_70_kmh_to_the_port_sensor(
        fake_hub: Hub, fake_clock: FakeClock, mqtt_broker: tuple[str, int], prefix: str,
        setup_sections: SetupSections) -> None:
    await setup_sections(fake_hub, mqtt=_mqtt(mqtt_broker, prefix), simulator=_simulator(mqtt_broker, prefix))
    await _connected(fake_hub)
    gales: list[Event] = []
    fake_hub.bus.async_listen("simulator_gale", callback(gales.append))
    response = await fake_hub.services.async_call("simulator", "storm", {"duration": 3600, "strength": 15},
                                                  return_response=True)
    assert response == {"duration": 3600, "mean_wind_kmh": 54.0}
    assert len(gales) == 1
    for _ in range(60):  # ten minutes for the gale to build up
        await fake_clock.async_advance(10)
    # the sensor may still be `unknown` (no reading taken in yet) when the wait starts
    state = await wait_for_state(fake_hub, "sensor.port_wind_gust",
                                 lambda s: s.state not in ("unknown", "unavailable") and float(s.state) > 70)
    assert float(state.state) < 150


async def test_random_gales_follow_the_seed(fake_hub: Hub, fake_clock: FakeClock, mqtt_broker: tuple[str, int],
                                            prefix: str, setup_sections: SetupSections) -> None:
    config = _simulator(mqtt_broker, prefix)
    config["weather"] = {"interval": 60, "gale_rate": 12, "stations": [STATION]}  # a gale every two hours
    await setup_sections(fake_hub, mqtt=_mqtt(mqtt_broker, prefix), simulator=config)
    await _connected(fake_hub)
    simulator = get_simulator(fake_hub)
    sent: list[float] = []
    received: list[float] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if new is not None and new.entity_id == "sensor.port_wind_gust" and new.state not in ("unknown",
                                                                                              "unavailable"):
            received.append(float(new.state))

    fake_hub.bus.async_listen("state_changed", record)
    for _ in range(6 * 60):  # six hours, one reading a minute
        await fake_clock.async_advance(60)
        last = simulator.stations["port"].last
        assert last is not None
        sent.append(round(last["wind_gust"] * 3.6, 1))
    # Seed 2026 with twelve gales a day: gusts over 70 km/h within six hours, and the hub saw them.
    assert simulator.region.gales_started >= 1
    assert max(sent) > 70
    await wait_for_state(fake_hub, "sensor.port_wind_gust", lambda s: s.state == str(sent[-1]))
    assert max(received) == max(sent)


async def test_signs_acknowledge_what_the_panels_show(
        fake_hub: Hub, fake_clock: FakeClock, mqtt_broker: tuple[str, int], prefix: str,
        setup_sections: SetupSections) -> None:
    panels = [{"id": "P-PORT-1", "topic": f"{prefix}/panels/P-PORT-1"},
              {"id": "P-MULTI", "driver": "ntcip", "topic": f"{prefix}/panels/P-MULTI"}]
    simulator = _simulator(mqtt_broker, prefix, panels={"topics": [f"{prefix}/panels/+"], "status_interval": 60})
    host, port = mqtt_broker
    async with aiomqtt.Client(host, port, identifier=f"hacho-test-{uuid.uuid4().hex[:8]}") as watcher:
        await watcher.subscribe(f"{prefix}/panels/+/status", qos=1)
        await setup_sections(fake_hub, mqtt=_mqtt(mqtt_broker, prefix), simulator=simulator, panels=panels)
        await _connected(fake_hub)
        await fake_hub.services.async_call("panel", "display", {
            "entity_id": ["panel.p_port_1", "panel.p_multi"], "lines": ["VIENTO FUERTE", "RACHAS 78 KM/H"],
            "priority": "security", "duration": 600})
        shown = fake_hub.states.get("panel.p_port_1")
        assert shown is not None and shown.state == "displaying"
        message_id = shown.attributes["message_id"]
        acks: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(10):
            async for message in watcher.messages:
                status = json.loads(message.payload)
                acks[message.topic.value.split("/")[-2]] = status
                if len(acks) == 2 and acks["P-PORT-1"]["showing"] == message_id:
                    break
    assert acks["P-PORT-1"]["status"] == "working"
    assert acks["P-PORT-1"]["pages"] == 1
    assert "VIENTO FUERTE" in acks["P-MULTI"]["multi"] and "[nl]" in acks["P-MULTI"]["multi"]
    state = await wait_for_state(fake_hub, "panel.p_port_1", lambda s: s.attributes.get("brightness") is not None)
    assert state.attributes["status"] == "working"
    assert 25 <= state.attributes["brightness"] <= 100
    signs = get_simulator(fake_hub).signs
    assert signs is not None and {s.panel_id for s in signs.signs.values()} == {"P-PORT-1", "P-MULTI"}


@pytest.mark.parametrize("bad", [{"topic_prefix": "a/+/b"}, {"weather": {"gale_duration": [600, 60]}}])
def test_bad_configs_are_refused(bad: dict[str, Any]) -> None:
    import voluptuous as vol

    from integrations.simulator import CONFIG_SCHEMA

    with pytest.raises(vol.Invalid):
        CONFIG_SCHEMA(bad)
