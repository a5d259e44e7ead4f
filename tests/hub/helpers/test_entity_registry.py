"""Tests of the entity registry: stable ids across restarts, overrides, renames, disabling, events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Event, Hub, State
from hub.exceptions import InvalidEntityId
from hub.helpers import area_registry, device_registry, entity_registry
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import async_add_entities, async_entities, get_entity
from hub.helpers.entity_registry import RegistryEntryDisabler, RegistryError


class Bollard(Entity):
    """A minimal bollard entity."""

    domain = "bollard"

    def __init__(self, unique_id: str | None, name: str, state: str = "down") -> None:
        self._attr_unique_id = unique_id
        self._attr_name = name
        self._attr_state = state
        self.added = 0
        self.removed = 0

    async def async_added_to_hub(self) -> None:
        self.added += 1

    async def async_will_remove_from_hub(self) -> None:
        self.removed += 1


def _state(hub: Hub, entity_id: str) -> State:
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


def _events(hub: Hub) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def listener(event: Event) -> None:
        seen.append(dict(event.data))

    listener._hub_callback = True  # type: ignore[attr-defined]
    hub.bus.async_listen(entity_registry.EVENT_ENTITY_REGISTRY_UPDATED, listener)
    return seen


@pytest.fixture
async def reg_hub(fake_hub: Hub) -> Hub:
    """A fake-clock hub with the entity and device registries loaded."""
    await entity_registry.async_load(fake_hub)
    await device_registry.async_load(fake_hub)
    return fake_hub


async def test_async_get_before_load_raises(fake_hub: Hub) -> None:
    with pytest.raises(LookupError, match="not loaded"):
        entity_registry.async_get(fake_hub)
    # without a registry the platform still picks an id
    [entity] = await async_add_entities(fake_hub, "bollards", [Bollard("b1", "Bollard 1")])
    assert entity.entity_id == "bollard.bollard_1"


async def test_concurrent_loads_share_one_registry(fake_hub: Hub) -> None:
    first, second = await asyncio.gather(entity_registry.async_load(fake_hub),
                                         entity_registry.async_load(fake_hub))
    assert first is second is entity_registry.async_get(fake_hub)


async def test_entity_id_stable_across_restart(config_dir: Path) -> None:
    hub = Hub(config_dir, clock=FakeClock())
    await entity_registry.async_load(hub)
    await hub.async_start()
    [first] = await async_add_entities(hub, "bollards", [Bollard("plc1-b7", "Bollard 7")])
    assert first.entity_id == "bollard.bollard_7"
    await hub.async_stop()
    stored = json.loads((config_dir / ".storage" / "core.entity_registry.json").read_text())
    assert stored["data"]["entities"][0]["entity_id"] == "bollard.bollard_7"

    # a new hub on the same config dir: the integration now calls it something else
    hub2 = Hub(config_dir, clock=FakeClock())
    await entity_registry.async_load(hub2)
    await hub2.async_start()
    [again, other] = await async_add_entities(
        hub2, "bollards", [Bollard("plc1-b7", "Bolardo Calle Real"), Bollard("plc1-b8", "Bollard 7")]
    )
    assert again.entity_id == "bollard.bollard_7"
    assert _state(hub2, "bollard.bollard_7").attributes["friendly_name"] == "Bolardo Calle Real"
    # the new entity's preferred id is taken by the remembered one
    assert other.entity_id == "bollard.bollard_7_2"
    entry = entity_registry.async_get(hub2).async_get("bollard.bollard_7")
    assert entry is not None and entry.original_name == "Bolardo Calle Real"
    await hub2.async_stop()


async def test_key_includes_domain_and_platform(reg_hub: Hub) -> None:
    registry = entity_registry.async_get(reg_hub)
    a = registry.async_get_or_create("bollard", "bollards", "7", original_name="Seven")
    b = registry.async_get_or_create("sensor", "bollards", "7", original_name="Seven")
    c = registry.async_get_or_create("bollard", "other_plc", "7", original_name="Seven")
    assert (a.entity_id, b.entity_id, c.entity_id) == ("bollard.seven", "sensor.seven", "bollard.seven_2")
    assert registry.async_get_entity_id("sensor", "bollards", "7") == "sensor.seven"
    assert registry.async_get_entity_id("sensor", "bollards", "8") is None
    assert registry.async_get_or_create("bollard", "bollards", "7", original_name="Seven") == a
    assert [e.entity_id for e in registry.async_entries_for_platform("bollards")] == ["bollard.seven",
                                                                                     "sensor.seven"]


async def test_generated_ids_avoid_existing_states(reg_hub: Hub) -> None:
    reg_hub.states.async_set("camera.puerto", "idle")
    registry = entity_registry.async_get(reg_hub)
    entry = registry.async_get_or_create("camera", "anpr", "cam-1", original_name="Puerto")
    assert entry.entity_id == "camera.puerto_2"
    # accents become plain letters; no name falls back to platform and unique id
    entry = registry.async_get_or_create("camera", "anpr", "cam-2", original_name="Cámara Príncipe")
    assert entry.entity_id == "camera.camara_principe"
    assert registry.async_get_or_create("camera", "anpr", "Cam 3").entity_id == "camera.anpr_cam_3"
    assert registry.async_get_or_create("camera", "anpr", "cam-4", suggested_object_id="tarajal",
                                        original_name="X").entity_id == "camera.tarajal"


async def test_events_on_create_update_remove(reg_hub: Hub) -> None:
    seen = _events(reg_hub)
    registry = entity_registry.async_get(reg_hub)
    registry.async_get_or_create("panel", "panels", "p1", original_name="Panel 1")
    registry.async_update_entity("panel.panel_1", name="Entrada frontera")
    registry.async_update_entity("panel.panel_1", name="Entrada frontera")  # no change, no event
    registry.async_update_entity("panel.panel_1", new_entity_id="panel.frontera")
    registry.async_remove("panel.frontera")
    assert seen == [
        {"action": "create", "entity_id": "panel.panel_1"},
        {"action": "update", "entity_id": "panel.panel_1", "changes": {"name": None}},
        {"action": "update", "entity_id": "panel.frontera", "changes": {"entity_id": "panel.panel_1"},
         "old_entity_id": "panel.panel_1"},
        {"action": "remove", "entity_id": "panel.frontera"},
    ]
    assert registry.async_get("panel.frontera") is None
    assert registry.async_get_entity_id("panel", "panels", "p1") is None
    with pytest.raises(RegistryError, match=r"panel\.frontera is not in the entity registry"):
        registry.async_remove("panel.frontera")


async def test_rename_moves_live_entity(reg_hub: Hub) -> None:
    entity = Bollard("b1", "Bollard 1", "up")
    await async_add_entities(reg_hub, "bollards", [entity])
    registry = entity_registry.async_get(reg_hub)
    registry.async_update_entity("bollard.bollard_1", new_entity_id="bollard.puerto_1")
    await reg_hub.async_block_till_done()
    assert reg_hub.states.get("bollard.bollard_1") is None
    assert _state(reg_hub, "bollard.puerto_1").state == "up"
    assert get_entity(reg_hub, "bollard.puerto_1") is entity
    assert get_entity(reg_hub, "bollard.bollard_1") is None
    assert entity.entity_id == "bollard.puerto_1"
    assert (entity.added, entity.removed) == (2, 1)
    assert async_entities(reg_hub, "bollards") == [entity]


async def test_rename_refusals(reg_hub: Hub) -> None:
    registry = entity_registry.async_get(reg_hub)
    registry.async_get_or_create("bollard", "bollards", "b1", original_name="One")
    registry.async_get_or_create("bollard", "bollards", "b2", original_name="Two")
    reg_hub.states.async_set("bollard.manual", "up")
    with pytest.raises(InvalidEntityId, match="the domain must stay bollard"):
        registry.async_update_entity("bollard.one", new_entity_id="sensor.one")
    with pytest.raises(InvalidEntityId, match="Invalid entity id"):
        registry.async_update_entity("bollard.one", new_entity_id="bollard.Not Valid")
    with pytest.raises(InvalidEntityId, match="in use"):
        registry.async_update_entity("bollard.one", new_entity_id="bollard.two")
    with pytest.raises(InvalidEntityId, match="in use"):
        registry.async_update_entity("bollard.one", new_entity_id="bollard.manual")
    with pytest.raises(RegistryError, match="not in the entity registry"):
        registry.async_update_entity("bollard.three", name="x")
    assert registry.async_get("bollard.one") is not None


async def test_name_and_area_overrides_apply_live(reg_hub: Hub) -> None:
    await area_registry.async_setup_areas(reg_hub, [{"name": "Puerto", "latitude": 35.89,
                                                     "longitude": -5.31}])
    [entity] = await async_add_entities(reg_hub, "bollards", [Bollard("b1", "Bollard 1")])
    registry = entity_registry.async_get(reg_hub)
    registry.async_update_entity(entity.entity_id, name="Bolardo muelle", area_id="puerto")
    await reg_hub.async_block_till_done()
    state = _state(reg_hub, "bollard.bollard_1")
    assert state.attributes["friendly_name"] == "Bolardo muelle"
    assert state.attributes["area_id"] == "puerto"
    assert registry.async_entries_for_area("puerto") == [registry.async_get("bollard.bollard_1")]
    with pytest.raises(RegistryError, match="Unknown area 'nowhere'"):
        registry.async_update_entity(entity.entity_id, area_id="nowhere")
    # clearing the override brings the integration's name back
    registry.async_update_entity(entity.entity_id, name=None)
    await reg_hub.async_block_till_done()
    assert _state(reg_hub, "bollard.bollard_1").attributes["friendly_name"] == "Bollard 1"


async def test_overrides_apply_when_added(config_dir: Path) -> None:
    hub = Hub(config_dir, clock=FakeClock())
    await entity_registry.async_load(hub)
    registry = entity_registry.async_get(hub)
    registry.async_get_or_create("bollard", "bollards", "b1", original_name="Bollard 1")
    registry.async_update_entity("bollard.bollard_1", name="Muelle")
    await hub.async_stop()
    hub2 = Hub(config_dir, clock=FakeClock())
    await entity_registry.async_load(hub2)
    await async_add_entities(hub2, "bollards", [Bollard("b1", "Bollard 1")])
    assert _state(hub2, "bollard.bollard_1").attributes["friendly_name"] == "Muelle"
    await hub2.async_stop()


async def test_disable_removes_and_enable_restores(reg_hub: Hub) -> None:
    entity, other = Bollard("b1", "Bollard 1", "up"), Bollard("b2", "Bollard 2")
    await async_add_entities(reg_hub, "bollards", [entity, other])
    registry = entity_registry.async_get(reg_hub)
    registry.async_update_entity("bollard.bollard_1", disabled_by=RegistryEntryDisabler.USER)
    await reg_hub.async_block_till_done()
    assert reg_hub.states.get("bollard.bollard_1") is None
    assert get_entity(reg_hub, "bollard.bollard_1") is None
    assert async_entities(reg_hub, "bollards") == [other]
    assert registry.async_get("bollard.bollard_1") == registry.async_update_entity(
        "bollard.bollard_1", disabled_by="user"
    )

    # renamed while disabled, then enabled: it comes back under the new id
    registry.async_update_entity("bollard.bollard_1", new_entity_id="bollard.muelle")
    registry.async_update_entity("bollard.muelle", disabled_by=None)
    await reg_hub.async_block_till_done()
    assert _state(reg_hub, "bollard.muelle").state == "up"
    assert get_entity(reg_hub, "bollard.muelle") is entity
    assert entity.added == 2


async def test_disabled_entity_not_added(reg_hub: Hub) -> None:
    registry = entity_registry.async_get(reg_hub)
    registry.async_get_or_create("bollard", "bollards", "b1", original_name="Bollard 1",
                                 disabled_by=RegistryEntryDisabler.USER)
    added = await async_add_entities(reg_hub, "bollards", [Bollard("b1", "Bollard 1")])
    assert added == []
    assert reg_hub.states.get("bollard.bollard_1") is None


async def test_enabled_default_false_registers_disabled(reg_hub: Hub) -> None:
    class Diagnostic(Bollard):
        _attr_entity_registry_enabled_default = False

    added = await async_add_entities(reg_hub, "bollards", [Diagnostic("d1", "PLC cycle time")])
    assert added == []
    entry = entity_registry.async_get(reg_hub).async_get("bollard.plc_cycle_time")
    assert entry is not None and entry.disabled_by is RegistryEntryDisabler.INTEGRATION
    entity_registry.async_get(reg_hub).async_update_entity("bollard.plc_cycle_time", disabled_by=None)
    await reg_hub.async_block_till_done()
    assert reg_hub.states.get("bollard.plc_cycle_time") is not None


async def test_remove_entry_removes_live_entity(reg_hub: Hub) -> None:
    entity = Bollard("b1", "Bollard 1")
    await async_add_entities(reg_hub, "bollards", [entity])
    entity_registry.async_get(reg_hub).async_remove("bollard.bollard_1")
    await reg_hub.async_block_till_done()
    assert reg_hub.states.get("bollard.bollard_1") is None
    assert entity.removed == 1


async def test_entities_without_unique_id_are_not_registered(reg_hub: Hub) -> None:
    [entity] = await async_add_entities(reg_hub, "bollards", [Bollard(None, "Loose")])
    assert entity.entity_id == "bollard.loose"
    assert entity_registry.async_get(reg_hub).async_get("bollard.loose") is None


async def test_device_and_area_removal_clear_links(reg_hub: Hub) -> None:
    areas = await area_registry.async_setup_areas(reg_hub, [])
    areas.async_create("Muelle", 35.89, -5.31)
    devices = device_registry.async_get(reg_hub)
    device = devices.async_get_or_create(platform="bollards", identifiers={("bollards", "plc1")})
    registry = entity_registry.async_get(reg_hub)
    registry.async_get_or_create("bollard", "bollards", "b1", original_name="B1", device_id=device.id)
    registry.async_update_entity("bollard.b1", area_id="muelle")
    assert registry.async_entries_for_device(device.id) == [registry.async_get("bollard.b1")]
    devices.async_remove_device(device.id)
    areas.async_delete("muelle")
    entry = registry.async_get("bollard.b1")
    assert entry is not None and entry.device_id is None and entry.area_id is None


async def test_delayed_save_and_timestamps(reg_hub: Hub, fake_clock: FakeClock) -> None:
    registry = entity_registry.async_get(reg_hub)
    entry = registry.async_get_or_create("bollard", "bollards", "b1", original_name="B1")
    assert entry.created_at == entry.modified_at == fake_clock.time()
    path = reg_hub.config_dir / ".storage" / "core.entity_registry.json"
    assert not path.exists()
    await fake_clock.async_advance(entity_registry.SAVE_DELAY)
    await reg_hub.async_block_till_done()
    saved = json.loads(path.read_text())["data"]["entities"]
    assert [e["entity_id"] for e in saved] == ["bollard.b1"]
    updated = registry.async_update_entity("bollard.b1", disabled_by="user")
    assert updated.modified_at == fake_clock.time() and updated.created_at == entry.created_at
    assert updated.disabled_by is RegistryEntryDisabler.USER


async def test_enable_while_disable_in_progress_ends_enabled(reg_hub: Hub) -> None:
    removing, release = asyncio.Event(), asyncio.Event()

    class SlowRemoval(Bollard):
        async def async_will_remove_from_hub(self) -> None:
            removing.set()
            await release.wait()  # a hook that takes a while, like closing a connection
            await super().async_will_remove_from_hub()

    entity = SlowRemoval("b1", "Bollard 1", "up")
    await async_add_entities(reg_hub, "bollards", [entity])
    registry = entity_registry.async_get(reg_hub)
    registry.async_update_entity("bollard.bollard_1", disabled_by="user")
    await removing.wait()
    registry.async_update_entity("bollard.bollard_1", disabled_by=None)
    release.set()
    await reg_hub.async_block_till_done()
    assert _state(reg_hub, "bollard.bollard_1").state == "up"
    assert get_entity(reg_hub, "bollard.bollard_1") is entity
