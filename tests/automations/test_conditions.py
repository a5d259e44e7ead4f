"""Conditions, checked through automations that either run their action or do not."""

from __future__ import annotations

from typing import Any

import pytest

from automations.trace import get_trace_store
from hub.clock import FakeClock
from hub.core import Hub

from .conftest import Calls, Setup, record


def gated(*conditions: Any, event: str = "go") -> dict[str, Any]:
    return {"id": "c", "triggers": {"trigger": "event", "event_type": event}, "conditions": list(conditions),
            "actions": record(ok=True)}


async def passes(hub: Hub, calls: Calls, event: str = "go") -> bool:
    before = len(calls)
    hub.bus.async_fire(event)
    await hub.async_block_till_done()
    return len(calls) > before


async def test_state_condition_with_for_and_match_any(hub: Hub, calls: Calls, setup: Setup,
                                                      fake_clock: FakeClock) -> None:
    now = fake_clock.time()
    hub.states.async_set("bollard.b7", "up", timestamp=now)
    hub.states.async_set("bollard.b8", "down", timestamp=now)
    await setup(
        gated({"condition": "state", "entity_id": "bollard.b7", "state": "up", "for": "00:01:00"}),
        {**gated({"condition": "state", "entity_id": ["bollard.b7", "bollard.b8"], "state": "down",
                  "match": "any"}, event="any"), "id": "c2"},
    )
    assert not await passes(hub, calls)
    await fake_clock.async_advance(60)
    assert await passes(hub, calls)
    assert await passes(hub, calls, "any")
    hub.states.async_set("bollard.b8", "up", timestamp=fake_clock.time())
    assert not await passes(hub, calls, "any")


async def test_numeric_state_condition(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("sensor.gust", "50", {"kmh": 80})
    await setup(
        gated({"condition": "numeric_state", "entity_id": "sensor.gust", "above": 40, "below": 60}),
        {**gated({"condition": "numeric_state", "entity_id": "sensor.gust", "attribute": "kmh",
                  "above": 70}, event="attr"), "id": "c2"},
    )
    assert await passes(hub, calls)
    assert await passes(hub, calls, "attr")
    hub.states.async_set("sensor.gust", "unknown", {"kmh": 60})
    assert not await passes(hub, calls)
    assert not await passes(hub, calls, "attr")
    trace = get_trace_store(hub).traces("automation.c")[0]
    assert trace["execution"] == "failed_conditions"
    assert "not a number" in trace["steps"][1]["error"]


async def test_template_condition_and_shorthand(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("binary_sensor.x", "on")
    await setup(gated("{{ is_state('binary_sensor.x', 'on') }}",
                      {"condition": "template", "value_template": "{{ 1 < 2 }}"}))
    assert await passes(hub, calls)
    hub.states.async_set("binary_sensor.x", "off")
    assert not await passes(hub, calls)


async def test_and_or_not(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("sensor.a", "1")
    hub.states.async_set("sensor.b", "2")
    await setup(gated({
        "condition": "and",
        "conditions": [
            {"or": [{"condition": "state", "entity_id": "sensor.a", "state": "9"},
                    {"condition": "state", "entity_id": "sensor.b", "state": "2"}]},
            {"not": [{"condition": "state", "entity_id": "sensor.a", "state": "5"}]},
        ],
    }))
    assert await passes(hub, calls)
    hub.states.async_set("sensor.a", "5")
    assert not await passes(hub, calls)


async def test_time_condition_window_across_midnight_and_weekday(hub: Hub, calls: Calls, setup: Setup,
                                                                 fake_clock: FakeClock) -> None:
    # 2026-01-01 is a Thursday; the fake clock starts at 12:00 UTC
    await setup(
        gated({"condition": "time", "after": "22:00:00", "before": "06:00:00"}),
        {**gated({"condition": "time", "weekday": ["thu"], "after": "11:00"}, event="day"), "id": "c2"},
    )
    assert not await passes(hub, calls)
    assert await passes(hub, calls, "day")
    await fake_clock.async_advance(11 * 3600)  # 23:00
    assert await passes(hub, calls)
    await fake_clock.async_advance(6 * 3600)  # Friday 05:00
    assert await passes(hub, calls)
    assert not await passes(hub, calls, "day")


async def test_trigger_condition(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup({
        "id": "c",
        "triggers": [{"trigger": "event", "event_type": "a", "id": "alpha"},
                     {"trigger": "event", "event_type": "b", "id": "beta"}],
        "conditions": {"condition": "trigger", "id": "beta"},
        "actions": record(ok=True),
    })
    assert not await passes(hub, calls, "a")
    assert await passes(hub, calls, "b")


async def test_zone_condition(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("zone.port", "zoning", {"latitude": 35.89, "longitude": -5.316, "radius": 200})
    hub.states.async_set("device_tracker.van", "on", {"latitude": 35.8901, "longitude": -5.3161})
    await setup(gated({"condition": "zone", "entity_id": "device_tracker.van", "zone": "zone.port"}))
    assert await passes(hub, calls)
    hub.states.async_set("device_tracker.van", "on", {"latitude": 35.95, "longitude": -5.3})
    assert not await passes(hub, calls)


async def test_disabled_condition_is_skipped(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(gated({"condition": "template", "value_template": "{{ false }}", "enabled": False}))
    assert await passes(hub, calls)


@pytest.mark.parametrize("bad", [
    {"condition": "state", "entity_id": "sensor.a"},
    {"condition": "numeric_state", "entity_id": "sensor.a"},
    {"condition": "nope"},
    "not a template",
])
async def test_invalid_conditions_are_config_errors(bad: Any) -> None:
    import automations

    errors = automations.check_config({"automations": [gated(bad)]})
    assert len(errors) == 1 and "conditions[0]" in errors[0]
