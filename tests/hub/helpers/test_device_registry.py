"""Tests of the device registry: identifiers, merging, suggested areas, via devices, persistence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Event, Hub, State, callback
from hub.helpers import area_registry, device_registry, entity_registry
from hub.helpers.device_registry import DeviceInfo
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.entity_registry import RegistryError


class Camera(Entity):
    """A plate camera entity belonging to a device."""

    domain = "camera"

    def __init__(self, unique_id: str, name: str, info: Any, area_id: str | None = None) -> None:
        self._attr_unique_id = unique_id
        self._attr_name = name
        self._attr_device_info = info
        self._attr_area_id = area_id
        self._attr_state = "idle"


def _state(hub: Hub, entity_id: str) -> State:
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


@pytest.fixture
async def dev_hub(fake_hub: Hub) -> Hub:
    await entity_registry.async_load(fake_hub)
    await device_registry.async_load(fake_hub)
    await area_registry.async_setup_areas(fake_hub, [
        {"id": "tarajal", "name": "Frontera del Tarajal", "latitude": 35.872, "longitude": -5.342},
        {"id": "puerto", "name": "Puerto", "latitude": 35.889, "longitude": -5.316},
    ])
    return fake_hub


async def test_get_before_load_raises(fake_hub: Hub) -> None:
    with pytest.raises(LookupError, match="device registry is not loaded"):
        device_registry.async_get(fake_hub)


async def test_create_then_find_by_any_identifier(dev_hub: Hub) -> None:
    events: list[dict[str, Any]] = []
    dev_hub.bus.async_listen(device_registry.EVENT_DEVICE_REGISTRY_UPDATED,
                             callback(lambda e: events.append(dict(e.data))))
    registry = device_registry.async_get(dev_hub)
    device = registry.async_get_or_create(
        platform="anpr", identifiers={("anpr", "CAM-0042")}, name="Cámara Tarajal 1",
        manufacturer="Hikvision", model="iDS-TCM403", sw_version="5.0.1",
        configuration_url="http://10.0.3.42/",
    )
    assert registry.async_get(device.id) == device
    assert registry.async_get_device([("anpr", "CAM-0042")]) == device
    assert registry.async_get_device([("anpr", "nope")]) is None
    assert device.display_name == "Cámara Tarajal 1"
    # another integration reports the same device under a second identifier: one device, merged
    again = registry.async_get_or_create(platform="onvif", identifiers={("anpr", "CAM-0042"),
                                                                         ("onvif", "uuid-1")},
                                         sw_version="5.0.2")
    assert again.id == device.id
    assert again.identifiers == {("anpr", "CAM-0042"), ("onvif", "uuid-1")}
    assert again.platforms == {"anpr", "onvif"}
    assert (again.sw_version, again.model) == ("5.0.2", "iDS-TCM403")
    assert registry.async_get_device([("onvif", "uuid-1")]) == again
    assert [e["action"] for e in events] == ["create", "update"]
    assert events[1]["changes"]["sw_version"] == "5.0.1"
    # nothing new: no event
    registry.async_get_or_create(platform="anpr", identifiers={("anpr", "CAM-0042")})
    assert len(events) == 2


async def test_bad_identifiers_refused(dev_hub: Hub) -> None:
    registry = device_registry.async_get(dev_hub)
    with pytest.raises(RegistryError, match="no identifiers"):
        registry.async_get_or_create(platform="anpr", identifiers=set())
    with pytest.raises(RegistryError, match=r"must be a \(domain, id\) pair"):
        registry.async_get_or_create(platform="anpr", identifiers=["CAM-1"])
    with pytest.raises(RegistryError, match=r"must be a \(domain, id\) pair"):
        registry.async_get_or_create(platform="anpr", identifiers=[("anpr", "a", "b")])


async def test_suggested_area_only_fills_empty(dev_hub: Hub) -> None:
    registry = device_registry.async_get(dev_hub)
    device = registry.async_get_or_create(platform="anpr", identifiers={("anpr", "1")}, area_id="tarajal")
    assert device.area_id == "tarajal"
    moved = registry.async_update_device(device.id, area_id="puerto", name_by_user="Cámara muelle")
    assert (moved.area_id, moved.display_name) == ("puerto", "Cámara muelle")
    again = registry.async_get_or_create(platform="anpr", identifiers={("anpr", "1")}, area_id="tarajal")
    assert again.area_id == "puerto"
    with pytest.raises(RegistryError, match="Unknown area 'luna'"):
        registry.async_update_device(device.id, area_id="luna")
    with pytest.raises(RegistryError, match="not in the device registry"):
        registry.async_update_device("missing", name_by_user="x")


async def test_via_device_and_removal(dev_hub: Hub) -> None:
    registry = device_registry.async_get(dev_hub)
    plc = registry.async_get_or_create(platform="modbus", identifiers={("modbus", "plc-1")}, name="PLC 1")
    bollard = registry.async_get_or_create(platform="bollards", identifiers={("bollards", "b7")},
                                           via_device=("modbus", "plc-1"))
    assert bollard.via_device_id == plc.id
    orphan = registry.async_get_or_create(platform="bollards", identifiers={("bollards", "b8")},
                                          via_device=("modbus", "plc-9"))
    assert orphan.via_device_id is None
    registry.async_remove_device(plc.id)
    assert registry.async_get(plc.id) is None
    assert registry.async_get_device([("modbus", "plc-1")]) is None
    survivor = registry.async_get(bollard.id)
    assert survivor is not None and survivor.via_device_id is None
    with pytest.raises(RegistryError, match="not in the device registry"):
        registry.async_remove_device(plc.id)


async def test_area_removal_clears_device_area(dev_hub: Hub) -> None:
    areas = area_registry.async_get(dev_hub)
    areas.async_create("Almacén", 35.88, -5.33, area_id="almacen")
    registry = device_registry.async_get(dev_hub)
    device = registry.async_get_or_create(platform="anpr", identifiers={("anpr", "1")}, area_id="almacen")
    assert registry.async_devices_for_area("almacen") == [device]
    areas.async_delete("almacen")
    cleared = registry.async_get(device.id)
    assert cleared is not None and cleared.area_id is None


async def test_entity_device_info_sets_device_id_and_area(dev_hub: Hub) -> None:
    info: DeviceInfo = {"identifiers": {("anpr", "CAM-7")}, "name": "Cámara 7", "area_id": "tarajal"}
    cam = Camera("cam7-plates", "Plates 7", info)
    own_area = Camera("cam7-ir", "IR 7", info, area_id="puerto")
    await async_add_entities(dev_hub, "anpr", [cam, own_area])
    device = device_registry.async_get(dev_hub).async_get_device([("anpr", "CAM-7")])
    assert device is not None and cam.device_id == own_area.device_id == device.id
    # the entity registry remembers the device
    entry = entity_registry.async_get(dev_hub).async_get(cam.entity_id)
    assert entry is not None and entry.device_id == device.id
    # an entity without its own area is where its device is; the integration's own area wins
    assert _state(dev_hub, "camera.plates_7").attributes["area_id"] == "tarajal"
    assert _state(dev_hub, "camera.ir_7").attributes["area_id"] == "puerto"
    # moving the device moves the entity that follows it
    device_registry.async_get(dev_hub).async_update_device(device.id, area_id="puerto")
    assert _state(dev_hub, "camera.plates_7").attributes["area_id"] == "puerto"


async def test_invalid_device_info_still_adds_entity(dev_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    bad = Camera("cam8", "Plates 8", {"identifiers": {("anpr", "CAM-8")}, "colour": "red"})
    added = await async_add_entities(dev_hub, "anpr", [bad])
    assert added == [bad] and bad.device_id is None
    assert "invalid device_info" in caplog.text and "colour" in caplog.text


async def test_persisted_across_restart(config_dir: Path) -> None:
    hub = Hub(config_dir, clock=FakeClock())
    registry = await device_registry.async_load(hub)
    plc = registry.async_get_or_create(platform="modbus", identifiers={("modbus", "plc-1")}, name="PLC 1",
                                       manufacturer="Siemens")
    child = registry.async_get_or_create(platform="bollards", identifiers={("bollards", "b7")},
                                         via_device=("modbus", "plc-1"))
    registry.async_update_device(plc.id, name_by_user="PLC muelle")
    await hub.async_stop()
    stored = json.loads((config_dir / ".storage" / "core.device_registry.json").read_text())
    assert len(stored["data"]["devices"]) == 2

    hub2 = Hub(config_dir, clock=FakeClock())
    registry2 = await device_registry.async_load(hub2)
    loaded = registry2.async_get_device([("modbus", "plc-1")])
    assert loaded is not None and loaded.id == plc.id
    assert (loaded.display_name, loaded.manufacturer) == ("PLC muelle", "Siemens")
    assert loaded.identifiers == frozenset({("modbus", "plc-1")})
    loaded_child = registry2.async_get(child.id)
    assert loaded_child is not None and loaded_child.via_device_id == plc.id
    await hub2.async_stop()


async def test_events_carry_device_id(dev_hub: Hub) -> None:
    seen: list[Event] = []
    dev_hub.bus.async_listen("device_registry_updated", callback(seen.append))
    registry = device_registry.async_get(dev_hub)
    device = registry.async_get_or_create(platform="panels", identifiers={("panels", "p1")})
    registry.async_remove_device(device.id)
    assert [(e.data["action"], e.data["device_id"]) for e in seen] == [("create", device.id),
                                                                        ("remove", device.id)]
