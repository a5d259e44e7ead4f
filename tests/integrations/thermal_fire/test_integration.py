"""thermal_fire through the hub: a simulated ignition raises events, entities, services act on it."""

from __future__ import annotations

import json
from dataclasses import replace

from hub.clock import FakeClock
from hub.config.core import CoreConfig
from hub.core import Hub
from hub.helpers.geo import distance_m
from integrations.thermal_fire import async_setup, async_unload
from integrations.thermal_fire.geojson import validate_geojson
from integrations.thermal_fire.worker import RenderRequest

from .conftest import FIRE_POINT, FireHub, hub_config


async def test_ignition_raises_detected_event_with_geojson(fire_hub: FireHub) -> None:
    await fire_hub.run(150, until="thermal_fire_detected")
    detected = fire_hub.of("thermal_fire_detected")
    assert len(detected) == 1
    feature = detected[0].data
    validate_geojson(feature)
    json.dumps(feature)  # the payload is plain JSON
    point, region = feature["geometry"]["geometries"]
    lon, lat = point["coordinates"]
    assert distance_m(lat, lon, *FIRE_POINT) < 150.0
    assert region["type"] == "Polygon"
    props = feature["properties"]
    assert props["fire_id"] == "fire_1" and props["tower"] == "hacho" and props["preset"] == "west"
    assert props["temperature_k"] > props["background_k"]
    assert 0.6 <= props["confidence"] <= 1.0  # a land fire that passed every test
    assert props["bearings"][0]["tower"] == "hacho"
    assert 255.0 < props["bearings"][0]["bearing_deg"] < 270.0
    assert props["snapshot"]["format"] == "png" and props["snapshot"]["data"]


async def test_fire_entity_and_camera_sensor(fire_hub: FireHub) -> None:
    await fire_hub.run(150, until="thermal_fire_detected")
    await fire_hub.hub.async_block_till_done()
    state = fire_hub.hub.states.get("geo_location.fire_1")
    assert state is not None
    assert distance_m(state.attributes["latitude"], state.attributes["longitude"], *FIRE_POINT) < 150.0
    assert 2.0 < float(state.state) < 4.0  # km from the tower
    assert state.attributes["status"] == "detected"
    camera = fire_hub.hub.states.get("sensor.hacho_thermal_camera")
    assert camera is not None and camera.state == "scanning"
    assert camera.attributes["frames_processed"] > 0
    assert (
        camera.attributes["frames_processed"] + camera.attributes["frames_dropped"]
        == camera.attributes["frames_submitted"]
    )


async def test_update_carries_front_and_spread_cone_downwind(fire_hub: FireHub) -> None:
    await fire_hub.run(150, until="thermal_fire_detected")
    await fire_hub.run(40, until="thermal_fire_updated")
    updated = fire_hub.of("thermal_fire_updated")
    assert updated, "an alarmed fire reports updates"
    feature = updated[-1].data
    validate_geojson(feature)
    assert feature["geometry"]["geometries"][1]["type"] == "Polygon"  # the front
    spread = feature["properties"]["spread"]
    validate_geojson(spread)
    assert spread["properties"]["direction_deg"] == 270.0  # wind from 90 degrees blows it west


async def test_fire_weather_sensor_follows_the_station(fire_hub: FireHub) -> None:
    hub = fire_hub.hub
    sensor = hub.states.get("sensor.fire_weather_index")
    assert sensor is not None and sensor.attributes["index"] == "fosberg_ffwi"
    dry = float(sensor.state)
    hub.states.async_set("sensor.humidity", "80")
    await hub.async_block_till_done()
    wet = float(hub.states.get("sensor.fire_weather_index").state)  # type: ignore[union-attr]
    assert wet < dry
    hub.states.async_set("sensor.wind_speed", "36", {"unit_of_measurement": "km/h"})  # 10 m/s
    await hub.async_block_till_done()
    state = hub.states.get("sensor.fire_weather_index")
    assert state is not None and float(state.state) > wet
    assert state.attributes["wind_speed_ms"] == 10.0


async def test_confirm_sets_status(fire_hub: FireHub) -> None:
    await fire_hub.run(150, until="thermal_fire_detected")
    response = await fire_hub.hub.services.async_call(
        "thermal_fire", "confirm", {"fire": "geo_location.fire_1"}, return_response=True
    )
    assert response == {"fire_id": "fire_1", "status": "confirmed"}
    await fire_hub.hub.async_block_till_done()
    assert fire_hub.hub.states.get("geo_location.fire_1").attributes["status"] == "confirmed"  # type: ignore[union-attr]
    assert fire_hub.of("thermal_fire_updated")[-1].data["properties"]["status"] == "confirmed"


async def test_dismiss_with_exclusion_stops_realarm(fire_hub: FireHub) -> None:
    await fire_hub.run(150, until="thermal_fire_detected")
    response = await fire_hub.hub.services.async_call(
        "thermal_fire", "dismiss", {"fire": "fire_1"}, return_response=True
    )
    assert response is not None and response["exclusions"][0]["tower"] == "hacho"
    cleared = fire_hub.of("thermal_fire_cleared")
    assert cleared and cleared[-1].data["reason"].startswith("dismissed")
    await fire_hub.hub.async_block_till_done()
    assert fire_hub.hub.states.get("geo_location.fire_1") is None
    # the fire keeps burning (and growing) where the operator said there is none: no new alarm
    await fire_hub.run(120)
    assert len(fire_hub.of("thermal_fire_detected")) == 1
    stored = await fire_hub.manager.store.async_load()
    assert stored is not None and stored["exclusions"]["hacho"]["west"]


async def test_unknown_fire_is_a_clear_error(fire_hub: FireHub) -> None:
    import pytest

    from hub.exceptions import ServiceValidationError

    with pytest.raises(ServiceValidationError, match="no active fire 'fire_9'"):
        await fire_hub.hub.services.async_call("thermal_fire", "dismiss", {"fire": "fire_9"})


async def test_simulate_ignition_reaches_the_worker_that_renders_the_scene(fake_hub: Hub,
                                                                          fake_clock: FakeClock) -> None:
    """The simulated camera is rendered in the tower's worker process: the hub queues render requests, and a fire
    started with `thermal_fire.simulate_ignition` travels with them and is seen, located and reported."""
    helper = FireHub(fake_hub, fake_clock)
    config = hub_config()
    config["simulator"]["ignitions"] = []
    assert await async_setup(fake_hub, config)
    try:
        scanner = helper.manager.scanners["hacho"]
        frame = await scanner.source.async_grab(fake_clock.time())
        assert isinstance(frame.data, RenderRequest)  # no pixels are rendered in the hub
        await helper.run(30)
        assert not helper.of("thermal_fire_detected")
        answer = await fake_hub.services.async_call(
            "thermal_fire", "simulate_ignition", {"latitude": FIRE_POINT[0], "longitude": FIRE_POINT[1]},
            blocking=True, return_response=True)
        assert answer == {"latitude": FIRE_POINT[0], "longitude": FIRE_POINT[1], "start": fake_clock.time()}
        await helper.run(150, until="thermal_fire_detected")
        lon, lat = helper.of("thermal_fire_detected")[0].data["geometry"]["geometries"][0]["coordinates"]
        assert distance_m(lat, lon, *FIRE_POINT) < 150.0
    finally:
        await async_unload(fake_hub)


async def test_names_in_the_sites_language(fake_hub: Hub, fake_clock: FakeClock) -> None:
    """A Spanish site (`hub: language: es`) gets its fire, tower camera and index named in Spanish, and the
    detection carries the tower's name for messages; an English site keeps the English names."""
    fake_hub.config = replace(fake_hub.config or CoreConfig(), language="es")
    helper = FireHub(fake_hub, fake_clock)
    assert await async_setup(fake_hub, hub_config())
    try:
        await helper.run(150, until="thermal_fire_detected")
        await fake_hub.async_block_till_done()
        assert helper.of("thermal_fire_detected")[0].data["properties"]["tower_name"] == "Monte Hacho"
        names = {entity_id: fake_hub.states.get(entity_id).attributes["friendly_name"]  # type: ignore[union-attr]
                 for entity_id in ("geo_location.fire_1", "sensor.hacho_thermal_camera", "sensor.fire_weather_index")}
        assert names == {"geo_location.fire_1": "Incendio 1",
                         "sensor.hacho_thermal_camera": "Cámara térmica Monte Hacho",
                         "sensor.fire_weather_index": "Índice de riesgo de incendio"}
    finally:
        await async_unload(fake_hub)


async def test_names_default_to_english(fire_hub: FireHub) -> None:
    await fire_hub.run(150, until="thermal_fire_detected")
    await fire_hub.hub.async_block_till_done()
    fire = fire_hub.hub.states.get("geo_location.fire_1")
    assert fire is not None and fire.attributes["friendly_name"] == "Fire 1"
    camera = fire_hub.hub.states.get("sensor.hacho_thermal_camera")
    assert camera is not None and camera.attributes["friendly_name"] == "Monte Hacho thermal camera"
