"""Tests of the area registry: the areas: schema, YAML sync, geographic queries, zone states."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from hub.clock import FakeClock
from hub.config.validation import validate
from hub.core import Hub, State
from hub.exceptions import ConfigError
from hub.helpers import area_registry
from hub.helpers.area_registry import CONFIG_SCHEMA, in_zone
from hub.helpers.entity_registry import RegistryError
from hub.helpers.geo import destination_point

# Ceuta, roughly: the port, the border crossing, and the whole city as a polygon parent.
PUERTO = {"id": "puerto", "name": "Puerto de Ceuta", "latitude": 35.8894, "longitude": -5.3166,
          "radius_m": 400, "centre": "cc_central", "parent": "ceuta"}
TARAJAL = {"name": "Frontera del Tarajal", "latitude": 35.8722, "longitude": -5.3425, "radius_m": 250,
           "parent": "ceuta"}
CEUTA_POLYGON = [[35.915, -5.385], [35.915, -5.27], [35.86, -5.27], [35.86, -5.385]]
CEUTA = {"id": "ceuta", "name": "Ceuta", "polygon": CEUTA_POLYGON}
CONFIG = [PUERTO, TARAJAL, CEUTA]


def _state(hub: Hub, entity_id: str) -> State:
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


def _errors(value: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate(CONFIG_SCHEMA, value, "areas")
    return info.value.errors


# ---------------------------------------------------------------------------- schema


def test_schema_fills_defaults() -> None:
    areas = CONFIG_SCHEMA(CONFIG)
    puerto, tarajal, ceuta = areas
    assert puerto == {**PUERTO, "radius_m": 400.0}
    assert tarajal["id"] == "frontera_del_tarajal"
    assert (tarajal["centre"], tarajal["parent"]) == (None, "ceuta")
    # a polygon alone gives the centre (its centroid) and the radius that covers it
    assert ceuta["latitude"] == pytest.approx(35.8875)
    assert ceuta["longitude"] == pytest.approx(-5.3275)
    assert 6_000 < ceuta["radius_m"] < 6_500
    # a bare point gets the default radius; accents and spaces become an id
    [plaza] = CONFIG_SCHEMA({"name": "Plaza de África", "latitude": 35.889, "longitude": -5.32})
    assert (plaza["id"], plaza["radius_m"]) == ("plaza_de_africa", area_registry.DEFAULT_RADIUS_M)
    assert CONFIG_SCHEMA(None) == []


def test_schema_is_idempotent() -> None:
    once = CONFIG_SCHEMA(CONFIG)
    assert CONFIG_SCHEMA(once) == once


@pytest.mark.parametrize(
    ("area", "message"),
    [
        ({"name": "X", "latitude": 95, "longitude": 0}, "expected latitude between -90 and 90"),
        ({"name": "X", "latitude": 35}, "latitude and longitude go together"),
        ({"name": "X"}, "needs latitude and longitude, or a polygon"),
        ({"name": "X", "latitude": 1, "longitude": 1, "radius_m": 0}, "expected a distance in metres > 0"),
        ({"name": "X", "latitude": 1, "longitude": 1, "radius_m": "far"}, "expected float >= 0"),
        ({"name": "X", "polygon": [[1, 1], [1, 2]]}, "at least 3 distinct vertices"),
        ({"name": "X", "polygon": [[1, 1], [1, 2], [1, 2, 3]]}, "expected a [latitude, longitude] pair"),
        ({"name": "X", "polygon": "square"}, "list of [latitude, longitude] vertices"),
        ({"id": "Bad Id", "name": "X", "latitude": 1, "longitude": 1}, "expected a slug"),
        ({"name": "X", "latitude": 1, "longitude": 1, "colour": "red"}, "colour"),
        ({"name": "!!!", "latitude": 1, "longitude": 1}, "cannot derive an id"),
    ],
)
def test_schema_errors(area: dict[str, Any], message: str) -> None:
    errors = _errors([area])
    assert any(message in error for error in errors), errors
    assert all("[areas]" in error for error in errors)


def test_schema_reports_every_bad_item_with_path() -> None:
    errors = _errors([{"name": "A", "latitude": 100, "longitude": 0},
                      {"name": "B", "latitude": 0, "longitude": 0},
                      {"name": "C", "latitude": 0, "longitude": 200}])
    assert errors == [
        "[areas] '[0].latitude': expected latitude between -90 and 90, got 100",
        "[areas] '[2].longitude': expected longitude between -180 and 180, got 200",
    ]


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        ([{"id": "a", "name": "A", "latitude": 0, "longitude": 0},
          {"id": "a", "name": "B", "latitude": 0, "longitude": 0}], "duplicate area id 'a'"),
        ([{"id": "a", "name": "A", "latitude": 0, "longitude": 0, "parent": "b"}],
         "parent 'b' is not a configured area"),
        ([{"id": "a", "name": "A", "latitude": 0, "longitude": 0, "parent": "b"},
          {"id": "b", "name": "B", "latitude": 0, "longitude": 0, "parent": "a"}],
         "parent cycle: a -> b -> a"),
    ],
)
def test_schema_reference_errors(areas: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        CONFIG_SCHEMA(areas)


# ---------------------------------------------------------------------------- setup and zones


async def test_setup_writes_zone_states(fake_hub: Hub) -> None:
    registry = await area_registry.async_setup_areas(fake_hub, CONFIG_SCHEMA(CONFIG))
    assert area_registry.async_get(fake_hub) is registry
    assert sorted(a.id for a in registry.async_list_areas()) == ["ceuta", "frontera_del_tarajal", "puerto"]
    zone = _state(fake_hub, "zone.puerto")
    assert dict(zone.attributes) == {
        "friendly_name": "Puerto de Ceuta", "latitude": 35.8894, "longitude": -5.3166, "radius": 400.0,
        "icon": "mdi:map-marker-radius", "area_id": "puerto", "centre": "cc_central", "parent": "ceuta",
    }
    assert _state(fake_hub, "zone.ceuta").attributes["polygon"] == CEUTA_POLYGON
    assert [a.id for a in registry.async_children("ceuta")] == ["puerto", "frontera_del_tarajal"]


async def test_setup_rejects_invalid_config(fake_hub: Hub) -> None:
    with pytest.raises(ConfigError) as info:
        await area_registry.async_setup_areas(fake_hub, [{"name": "X", "latitude": 100, "longitude": 0}])
    assert "areas/0/latitude" in info.value.errors[0]
    assert fake_hub.states.async_all("zone") == []


async def test_queries(fake_hub: Hub) -> None:
    registry = await area_registry.async_setup_areas(fake_hub, CONFIG)
    # 300 m north-east of the port's centre: in the port (circle) and in Ceuta (polygon)
    lat, lon = destination_point(35.8894, -5.3166, 45, 300)
    assert [a.id for a in registry.areas_containing(lat, lon)] == ["puerto", "ceuta"]
    assert registry.in_area("puerto", lat, lon)
    assert not registry.in_area("frontera_del_tarajal", lat, lon)
    # 450 m out of the port: only Ceuta
    lat, lon = destination_point(35.8894, -5.3166, 45, 450)
    assert [a.id for a in registry.areas_containing(lat, lon)] == ["ceuta"]
    # Algeciras, across the strait: in no area
    assert registry.areas_containing(36.1311, -5.4478) == []
    # a point inside Ceuta's covering circle but outside its polygon is not in Ceuta
    corner_lat, corner_lon = destination_point(35.915, -5.385, 315, 200)
    assert not registry.in_area("ceuta", corner_lat, corner_lon)
    with pytest.raises(RegistryError, match="Unknown area 'luna'"):
        registry.in_area("luna", 0, 0)


async def test_in_zone_helper_reads_zone_states(fake_hub: Hub) -> None:
    await area_registry.async_setup_areas(fake_hub, CONFIG)
    puerto = _state(fake_hub, "zone.puerto")
    lat, lon = destination_point(35.8894, -5.3166, 90, 420)
    assert not in_zone(puerto, lat, lon)
    assert in_zone(puerto, lat, lon, accuracy_m=30)  # a GPS fix whose accuracy circle reaches the zone
    assert in_zone(_state(fake_hub, "zone.ceuta"), 35.9, -5.3)
    assert not in_zone(_state(fake_hub, "zone.ceuta"), 35.95, -5.3)
    assert not in_zone(State("zone.broken", "zoning", {"latitude": "x"}), 0, 0)


async def test_yaml_is_authoritative_across_restarts(config_dir: Path) -> None:
    hub = Hub(config_dir, clock=FakeClock())
    registry = await area_registry.async_setup_areas(hub, CONFIG)
    registry.async_create("Almacén municipal", 35.88, -5.33, radius_m=50)
    await hub.async_stop()

    # next start: the port moved and grew, the border crossing was deleted from configuration.yaml
    moved = {**PUERTO, "radius_m": 600}
    hub2 = Hub(config_dir, clock=FakeClock())
    events: list[dict[str, Any]] = []
    hub2.bus.async_listen("area_registry_updated", lambda e: events.append(dict(e.data)))
    registry2 = await area_registry.async_setup_areas(hub2, [moved, CEUTA])
    await hub2.async_block_till_done()
    assert sorted(registry2.areas) == ["almacen_municipal", "ceuta", "puerto"]
    assert _state(hub2, "zone.puerto").attributes["radius"] == 600.0
    assert hub2.states.get("zone.frontera_del_tarajal") is None
    # the run-time area survived, with its zone
    almacen = registry2.async_get_area("almacen_municipal")
    assert almacen is not None and almacen.source == "storage" and almacen.radius_m == 50.0
    assert _state(hub2, "zone.almacen_municipal").attributes["friendly_name"] == "Almacén municipal"
    assert {"action": "update", "area_id": "puerto"} in events
    assert {"action": "remove", "area_id": "frontera_del_tarajal"} in events
    assert {"action": "update", "area_id": "ceuta"} not in events  # unchanged: no event
    await hub2.async_stop()
    stored = json.loads((config_dir / ".storage" / "core.area_registry.json").read_text())
    assert sorted(a["id"] for a in stored["data"]["areas"]) == ["almacen_municipal", "ceuta", "puerto"]


async def test_runtime_areas_create_update_delete(fake_hub: Hub) -> None:
    registry = await area_registry.async_setup_areas(fake_hub, CONFIG)
    with pytest.raises(RegistryError, match=r"'puerto' is defined in configuration\.yaml"):
        registry.async_update("puerto", radius_m=1)
    with pytest.raises(RegistryError, match=r"defined in configuration\.yaml"):
        registry.async_delete("puerto")
    with pytest.raises(RegistryError, match="already exists"):
        registry.async_create("Puerto", 35.0, -5.0, area_id="puerto")
    with pytest.raises(RegistryError, match="Invalid area: latitude: expected latitude"):
        registry.async_create("Mar", 135.0, -5.0)
    with pytest.raises(RegistryError, match="parent 'luna' does not exist"):
        registry.async_create("Mar", 35.0, -5.0, parent="luna")

    muelle = registry.async_create("Muelle España", 35.8898, -5.3150, radius_m=80, parent="puerto")
    assert (muelle.id, muelle.source) == ("muelle_espana", "storage")
    assert _state(fake_hub, "zone.muelle_espana").attributes["parent"] == "puerto"
    triangle = [[35.889, -5.316], [35.891, -5.316], [35.890, -5.313]]
    updated = registry.async_update("muelle_espana", polygon=triangle, name="Muelle de España")
    assert updated.polygon == tuple(tuple(p) for p in triangle)
    assert _state(fake_hub, "zone.muelle_espana").attributes["friendly_name"] == "Muelle de España"
    dock = registry.async_create("Dársena", 35.8899, -5.3151, radius_m=20, parent="muelle_espana")
    with pytest.raises(RegistryError, match="cannot be its parent"):
        registry.async_update("muelle_espana", parent=dock.id)

    registry.async_delete("muelle_espana")
    assert fake_hub.states.get("zone.muelle_espana") is None
    orphan = registry.async_get_area(dock.id)
    assert orphan is not None and orphan.parent is None
    assert "parent" not in _state(fake_hub, "zone.darsena").attributes
    with pytest.raises(RegistryError, match="Unknown area"):
        registry.async_delete("muelle_espana")


async def test_get_before_load_raises(fake_hub: Hub) -> None:
    with pytest.raises(LookupError, match="area registry is not loaded"):
        area_registry.async_get(fake_hub)
