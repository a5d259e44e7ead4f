"""Tests of the entity platform: ids, added hooks, polling, failing updates, unload."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from hub.clock import FakeClock
from hub.core import Hub, State
from hub.exceptions import DeviceUnavailable
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
    """A polled sensor: each update reads the next value, or raises what the test queued."""

    _attr_should_poll = True

    def __init__(self, name: str, scan_interval: float | timedelta = 10,
                 unique_id: str | None = None) -> None:
        self._attr_name = name
        self._attr_unique_id = unique_id
        self.scan_interval = scan_interval
        self.updates = 0
        self.fail_with: Exception | None = None

    async def async_update(self) -> None:
        self.updates += 1
        if self.fail_with is not None:
            raise self.fail_with
        self._attr_state = self.updates


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


async def test_polling_updates_every_scan_interval(fake_hub: Hub, fake_clock: FakeClock) -> None:
    fast, slow = Thermometer("Fast", 10), Thermometer("Slow", timedelta(minutes=1))
    await async_add_entities(fake_hub, "weather", [fast, slow])
    assert _state(fake_hub, "sensor.fast").state == "unknown"
    await fake_clock.async_advance(10)
    assert _state(fake_hub, "sensor.fast").state == "1"
    await fake_clock.async_advance(50)
    assert (fast.updates, slow.updates) == (6, 1)
    assert _state(fake_hub, "sensor.slow").state == "1"


async def test_entities_sharing_an_interval_share_a_timer(fake_hub: Hub, fake_clock: FakeClock) -> None:
    entities = [Thermometer(f"T{n}", 30) for n in range(50)]
    await async_add_entities(fake_hub, "weather", entities)
    assert fake_clock.pending == 1
    await fake_clock.async_advance(30)
    assert all(e.updates == 1 for e in entities)


async def test_failing_update_marks_only_that_entity_unavailable(
    fake_hub: Hub, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    good, bad = Thermometer("Good"), Thermometer("Bad")
    await async_add_entities(fake_hub, "weather", [good, bad])
    bad.fail_with = RuntimeError("modbus timeout")
    for _ in range(3):
        await fake_clock.async_advance(10)
    assert _state(fake_hub, "sensor.bad").state == "unavailable"
    assert _state(fake_hub, "sensor.good").state == "3"
    assert (good.updates, bad.updates) == (3, 3)
    # logged once, with the traceback, and not again by the state write
    assert caplog.text.count("Update of sensor.bad failed") == 1
    assert "RuntimeError: modbus timeout" in caplog.text
    assert "sensor.bad is unavailable" not in caplog.text
    # recovery: the next successful update brings it back, logged once
    bad.fail_with = None
    await fake_clock.async_advance(10)
    assert _state(fake_hub, "sensor.bad").state == "4"
    assert caplog.text.count("sensor.bad is available again") == 1
    # a second outage is logged again
    bad.fail_with = RuntimeError("modbus timeout")
    await fake_clock.async_advance(10)
    assert caplog.text.count("Update of sensor.bad failed") == 2


async def test_device_unavailable_logged_without_traceback(
    fake_hub: Hub, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    panel = Thermometer("Panel")
    await async_add_entities(fake_hub, "panels", [panel])
    panel.fail_with = DeviceUnavailable("10.0.4.3 does not answer")
    await fake_clock.async_advance(10)
    assert _state(fake_hub, "sensor.panel").state == "unavailable"
    [record] = [r for r in caplog.records if "sensor.panel" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "10.0.4.3 does not answer" in record.getMessage()


async def test_slow_update_is_not_overlapped(fake_hub: Hub, fake_clock: FakeClock) -> None:
    release = asyncio.Event()

    class Slow(Thermometer):
        running = 0
        most = 0

        async def async_update(self) -> None:
            self.running += 1
            self.most = max(self.most, self.running)
            await release.wait()
            self.running -= 1
            await super().async_update()

    slow = Slow("Slow")
    await async_add_entities(fake_hub, "test", [slow])
    await fake_clock.async_advance(35)
    assert (slow.most, slow.updates) == (1, 0)
    release.set()
    await fake_hub.async_block_till_done()
    assert _state(fake_hub, "sensor.slow").state == "1"
    await fake_clock.async_advance(10)
    assert slow.updates == 2


async def test_update_before_add(fake_hub: Hub) -> None:
    ok, failing = Thermometer("Ok"), Thermometer("Failing")
    failing.fail_with = DeviceUnavailable("offline")
    await async_add_entities(fake_hub, "test", [ok, failing], update_before_add=True)
    assert _state(fake_hub, "sensor.ok").state == "1"
    assert _state(fake_hub, "sensor.failing").state == "unavailable"


async def test_unload_stops_polling_and_removes_states(fake_hub: Hub, fake_clock: FakeClock) -> None:
    await entity_registry.async_load(fake_hub)
    kept = Thermometer("Other integration")
    await async_add_entities(fake_hub, "other", [kept])
    weather = [Thermometer("A", unique_id="a"), Thermometer("B", 20, unique_id="b"),
               Thermometer("Off", unique_id="off")]
    entity_registry.async_get(fake_hub).async_get_or_create("sensor", "weather", "off", original_name="Off",
                                                            disabled_by=RegistryEntryDisabler.USER)
    await async_add_entities(fake_hub, "weather", weather)
    assert fake_clock.pending >= 3  # the other integration's poller, and weather's two intervals
    await fake_clock.async_advance(20)
    await async_remove_entities(fake_hub, "weather")
    assert fake_hub.states.get("sensor.a") is None and fake_hub.states.get("sensor.b") is None
    assert async_entities(fake_hub, "weather") == []
    before = (weather[0].updates, weather[1].updates)
    await fake_clock.async_advance(60)
    assert (weather[0].updates, weather[1].updates) == before == (2, 1)
    assert kept.updates == 8
    # enabling the disabled entity after unload does not bring it back
    entity_registry.async_get(fake_hub).async_update_entity("sensor.off", disabled_by=None)
    await fake_hub.async_block_till_done()
    assert fake_hub.states.get("sensor.off") is None
    # only the registry's delayed save and the other integration's poller remain
    await async_remove_entities(fake_hub, "other")
    await fake_clock.async_advance(entity_registry.SAVE_DELAY)
    assert fake_clock.pending == 0


async def test_polling_survives_rename(fake_hub: Hub, fake_clock: FakeClock) -> None:
    await entity_registry.async_load(fake_hub)
    entity = Thermometer("Sea", unique_id="sea")
    await async_add_entities(fake_hub, "weather", [entity])
    entity_registry.async_get(fake_hub).async_update_entity("sensor.sea", new_entity_id="sensor.mar")
    await fake_hub.async_block_till_done()
    await fake_clock.async_advance(10)
    assert entity.updates == 1
    assert _state(fake_hub, "sensor.mar").state == "1"
    assert fake_hub.states.get("sensor.sea") is None


async def test_invalid_scan_interval_not_added(fake_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    added = await async_add_entities(fake_hub, "test", [Thermometer("Zero", 0), Thermometer("Fine")])
    assert [e.entity_id for e in added] == ["sensor.fine"]
    assert "sensor.zero: scan_interval must be positive, got 0; not added" in caplog.text
    assert fake_hub.states.get("sensor.zero") is None
