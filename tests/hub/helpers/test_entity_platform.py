"""Tests of the entity platform: ids, added hooks, polling, failing updates, unload."""

from __future__ import annotations

import pytest

from hub.clock import FakeClock
from hub.core import Hub, State
from hub.helpers import entity_registry
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import (
    async_add_entities,
    async_entities,
    async_remove_entities,
    get_entity,
)
from hub.helpers.entity_registry import RegistryEntryDisabler


class Thermometer(Entity):
    """A pushed sensor: each `push()` writes the next reading."""

    def __init__(self, name: str, unique_id: str | None = None) -> None:
        self._attr_name = name
        self._attr_unique_id = unique_id
        self.updates = 0

    def push(self) -> None:
        self.updates += 1
        self._attr_state = self.updates
        self.async_write_state()


def _state(hub: Hub, entity_id: str) -> State:
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


async def test_ids_picked_from_names(fake_hub: Hub) -> None:
    class Named(Entity):
        def __init__(self, name: str | None, suggested: str | None = None) -> None:
            self._attr_name = name
            self._attr_suggested_object_id = suggested

    entities = [Named("Bollard 1"), Named("Bollard 1"), Named("Bollard 1", "b_one"), Named(None)]
    added = await async_add_entities(fake_hub, "test", entities)
    assert [e.entity_id for e in added] == ["sensor.bollard_1", "sensor.bollard_1_2", "sensor.b_one",
                                            "sensor.named"]
    assert async_entities(fake_hub, "test") == added
    assert get_entity(fake_hub, "sensor.b_one") is entities[2]


async def test_duplicate_and_failing_entities_skipped(fake_hub: Hub,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    class Fixed(Entity):
        entity_id = "sensor.fixed"

    class Broken(Entity):
        _attr_name = "Broken"

        async def async_added_to_hub(self) -> None:
            raise RuntimeError("no connection")

    good = Thermometer("Good")
    added = await async_add_entities(fake_hub, "test", [Fixed(), Fixed(), Broken(), good])
    assert [e.entity_id for e in added] == ["sensor.fixed", "sensor.good"]
    assert "sensor.fixed already exists" in caplog.text
    assert "Error adding sensor.broken" in caplog.text
    assert fake_hub.states.get("sensor.broken") is None
    assert async_entities(fake_hub, "test") == added


async def test_unload_removes_states_and_disabled_entities(fake_hub: Hub, fake_clock: FakeClock) -> None:
    await entity_registry.async_load(fake_hub)
    kept = Thermometer("Other integration")
    await async_add_entities(fake_hub, "other", [kept])
    weather = [Thermometer("A", unique_id="a"), Thermometer("B", unique_id="b"),
               Thermometer("Off", unique_id="off")]
    entity_registry.async_get(fake_hub).async_get_or_create("sensor", "weather", "off", original_name="Off",
                                                            disabled_by=RegistryEntryDisabler.USER)
    await async_add_entities(fake_hub, "weather", weather)
    weather[0].push()
    assert _state(fake_hub, "sensor.a").state == "1"
    await async_remove_entities(fake_hub, "weather")
    assert fake_hub.states.get("sensor.a") is None and fake_hub.states.get("sensor.b") is None
    assert async_entities(fake_hub, "weather") == []
    kept.push()
    assert _state(fake_hub, "sensor.other_integration").state == "1"
    # enabling the disabled entity after unload does not bring it back
    entity_registry.async_get(fake_hub).async_update_entity("sensor.off", disabled_by=None)
    await fake_hub.async_block_till_done()
    assert fake_hub.states.get("sensor.off") is None
    # only the registry's delayed save remains: the platform keeps no timer of its own
    await async_remove_entities(fake_hub, "other")
    await fake_clock.async_advance(entity_registry.SAVE_DELAY)
    assert fake_clock.pending == 0


async def test_entity_renamed_in_the_registry_writes_under_its_new_id(fake_hub: Hub) -> None:
    await entity_registry.async_load(fake_hub)
    entity = Thermometer("Sea", unique_id="sea")
    await async_add_entities(fake_hub, "weather", [entity])
    entity_registry.async_get(fake_hub).async_update_entity("sensor.sea", new_entity_id="sensor.mar")
    await fake_hub.async_block_till_done()
    entity.push()
    assert _state(fake_hub, "sensor.mar").state == "1"
    assert fake_hub.states.get("sensor.sea") is None
