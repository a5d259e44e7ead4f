"""Tests of the Entity base class: state strings, attributes, availability, context, removal."""

from __future__ import annotations

import logging

import pytest

from hub.core import Context, Hub, State
from hub.helpers.entity import Entity, EntityDescription
from hub.helpers.entity_platform import async_add_entities


class Sensor(Entity):
    """A sensor whose value tests set directly."""

    def __init__(self, name: str = "Wind", value: object = None, **attrs: object) -> None:
        self._attr_name = name
        self._attr_state = value
        for key, item in attrs.items():
            setattr(self, f"_attr_{key}", item)


def _state(hub: Hub, entity_id: str) -> State:
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "unknown"), (True, "on"), (False, "off"), (5, "5"), (21.123456789, "21.123457"),
     (float("nan"), "unknown"), ("open", "open"), (0.1 + 0.2, "0.3")],
)
async def test_state_strings(fake_hub: Hub, value: object, expected: str) -> None:
    [entity] = await async_add_entities(fake_hub, "test", [Sensor(value=value)])
    assert _state(fake_hub, entity.entity_id).state == expected


async def test_attributes(fake_hub: Hub) -> None:
    entity = Sensor("Viento Monte Hacho", 12.5, unit_of_measurement="km/h", device_class="wind_speed",
                    icon="mdi:weather-windy", area_id="monte_hacho",
                    extra_state_attributes={"gust": 30.1})
    await async_add_entities(fake_hub, "weather", [entity])
    assert entity.entity_id == "sensor.viento_monte_hacho"
    assert dict(_state(fake_hub, entity.entity_id).attributes) == {
        "gust": 30.1, "unit_of_measurement": "km/h", "device_class": "wind_speed",
        "icon": "mdi:weather-windy", "friendly_name": "Viento Monte Hacho", "area_id": "monte_hacho",
    }


async def test_description_fallbacks_and_registry_name(fake_hub: Hub) -> None:
    class Described(Entity):
        entity_description = EntityDescription(key="temp", name="Temperatura", device_class="temperature",
                                               unit_of_measurement="°C")
        _attr_state = 19

    entity = Described()
    await async_add_entities(fake_hub, "weather", [entity])
    attrs = _state(fake_hub, "sensor.temperatura").attributes
    assert (attrs["friendly_name"], attrs["device_class"], attrs["unit_of_measurement"]) == (
        "Temperatura", "temperature", "°C")
    # a name from the entity registry wins; the integration's name is still there underneath
    entity.registry_name = "Temperatura puerto"
    entity.async_write_state()
    assert _state(fake_hub, "sensor.temperatura").attributes["friendly_name"] == "Temperatura puerto"
    assert entity.name == "Temperatura"
    assert entity.entity_registry_enabled_default is True


async def test_availability_transitions_logged_once(fake_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hub.helpers.entity")
    entity = Sensor("Panel 3", "ready", extra_state_attributes={"message": "Paso libre"})
    await async_add_entities(fake_hub, "panels", [entity])
    entity._attr_available = False
    entity.async_write_state()
    entity._attr_state = "other"
    entity.async_write_state()
    state = _state(fake_hub, "sensor.panel_3")
    assert state.state == "unavailable"
    assert "message" not in state.attributes  # stale data is not shown for a device that is gone
    assert state.attributes["friendly_name"] == "Panel 3"
    assert caplog.text.count("sensor.panel_3 is unavailable") == 1
    entity._attr_available = True
    entity.async_write_state()
    entity.async_write_state()
    assert _state(fake_hub, "sensor.panel_3").state == "other"
    assert caplog.text.count("sensor.panel_3 is available again") == 1


async def test_context_used_for_next_write_only(fake_hub: Hub) -> None:
    entity = Sensor("Bollard", "down")
    await async_add_entities(fake_hub, "bollards", [entity])
    context = Context(user_id="op-7", centre="cc_norte")
    entity.async_set_context(context)
    entity._attr_state = "up"
    entity.async_write_state()
    assert _state(fake_hub, "sensor.bollard").context is context
    entity._attr_state = "down"
    entity.async_write_state()
    assert _state(fake_hub, "sensor.bollard").context is not context


async def test_removers_run_on_remove(fake_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    entity = Sensor("Camera", "idle")
    await async_add_entities(fake_hub, "anpr", [entity])
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("boom")

    entity.async_on_remove(lambda: calls.append("first"))
    entity.async_on_remove(broken)
    entity.async_on_remove(lambda: calls.append("last"))
    await entity.async_remove()
    assert calls == ["last", "broken", "first"]
    assert "Error removing sensor.camera" in caplog.text
    assert fake_hub.states.get("sensor.camera") is None


async def test_write_before_added_raises() -> None:
    with pytest.raises(RuntimeError, match="not added to a hub"):
        Sensor().async_write_state()


async def test_unavailable_from_the_start_is_not_a_warning(fake_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hub.helpers.entity")
    entity = Sensor("Wind", "12")
    entity._attr_available = False  # no reading yet: the station has not reported since start
    await async_add_entities(fake_hub, "weather", [entity])
    entity.async_write_state()
    unavailable = [r for r in caplog.records if r.getMessage() == "sensor.wind is unavailable"]
    assert [r.levelno for r in unavailable] == [logging.DEBUG]
    entity._attr_available = True
    entity.async_write_state()
    assert "is available again" not in caplog.text  # it was never away
    entity._attr_available = False  # now it stops reporting: that is worth a warning
    entity.async_write_state()
    unavailable = [r for r in caplog.records if r.getMessage() == "sensor.wind is unavailable"]
    assert [r.levelno for r in unavailable] == [logging.DEBUG, logging.WARNING]
