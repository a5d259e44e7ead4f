"""Trigger platforms, driven through states, events and the fake clock; actions record service calls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hub.clock import FakeClock
from hub.core import Context, Hub
from hub.helpers.webhook import async_handle_webhook

from .conftest import Calls, Setup, record


def auto(trigger: dict | list, *actions: dict, **extra: object) -> dict:
    return {"id": "t", "triggers": trigger, "actions": list(actions) or [record(hit=True)], **extra}


async def test_event_trigger_matches_data_and_context(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(auto({"trigger": "event", "event_type": "thermal_fire_detected",
                      "event_data": {"tower": "hacho_1"}, "context": {"user_id": "operator_7"}},
                     record(tower="{{ trigger.event.data.tower }}", id="{{ trigger.id }}")))
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho_2"}, context=Context(user_id="operator_7"))
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho_1"}, context=Context(user_id="someone"))
    assert calls == []
    fired = Context(user_id="operator_7")
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho_1", "confidence": 0.9}, context=fired)
    await hub.async_block_till_done()
    assert calls.data() == [{"tower": "hacho_1", "id": 0}]  # rendered text that reads as a number
    assert calls[0].context.parent_id == fired.id  # the run's context is a child of the trigger's


async def test_state_trigger_from_to_and_not_to(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("binary_sensor.door", "off")
    await setup(
        auto({"trigger": "state", "entity_id": "binary_sensor.door", "from": "off", "to": "on"},
             record(kind="from_to")),
        {"id": "t2", "trigger": {"platform": "state", "entity_id": "binary_sensor.door",
                                 "not_to": ["unavailable"]}, "action": record(kind="not_to")},
    )
    hub.states.async_set("binary_sensor.door", "on")
    hub.states.async_set("binary_sensor.door", "on", {"battery": 90})  # attribute only: no trigger
    hub.states.async_set("binary_sensor.door", "unavailable")
    hub.states.async_set("binary_sensor.door", "off")
    await hub.async_block_till_done()
    assert [c["kind"] for c in calls.data()] == ["from_to", "not_to", "not_to"]


async def test_state_trigger_any_change_and_attribute(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("sensor.wind", "10", {"gust": 20})
    await setup(
        auto({"trigger": "state", "entity_id": "sensor.wind"}, record(kind="any")),
        {"id": "t2", "triggers": {"trigger": "state", "entity_id": "sensor.wind", "attribute": "gust"},
         "actions": record(kind="gust", to="{{ trigger.to_state.attributes.gust }}")},
    )
    hub.states.async_set("sensor.wind", "10", {"gust": 30})
    hub.states.async_set("sensor.wind", "12", {"gust": 30})
    await hub.async_block_till_done()
    assert calls.data() == [{"kind": "any"}, {"kind": "gust", "to": 30}, {"kind": "any"}]


async def test_state_trigger_for_fires_after_holding(hub: Hub, calls: Calls, setup: Setup,
                                                     fake_clock: FakeClock) -> None:
    hub.states.async_set("binary_sensor.smoke", "off")
    await setup(auto({"trigger": "state", "entity_id": "binary_sensor.smoke", "to": "on",
                      "for": {"seconds": 30}}, record(after="{{ trigger.for.total_seconds() }}")))
    hub.states.async_set("binary_sensor.smoke", "on")
    await fake_clock.async_advance(20)
    hub.states.async_set("binary_sensor.smoke", "off")  # broken: the timer is cancelled
    await fake_clock.async_advance(60)
    assert calls == []
    hub.states.async_set("binary_sensor.smoke", "on")
    await fake_clock.async_advance(10)
    hub.states.async_set("binary_sensor.smoke", "on", {"level": 3})  # same value: keeps waiting
    await fake_clock.async_advance(19)
    assert calls == []
    await fake_clock.async_advance(1)
    assert calls.data() == [{"after": 30.0}]


async def test_numeric_state_trigger_crosses_and_rearms(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("sensor.gust", "50")
    await setup(auto({"trigger": "numeric_state", "entity_id": "sensor.gust", "above": 70},
                     record(v="{{ trigger.to_state.state }}")))
    for value in ("75", "80", "60", "71", "abc", "90"):
        hub.states.async_set("sensor.gust", value)
    await hub.async_block_till_done()
    assert [c["v"] for c in calls.data()] == [75, 71, 90]


async def test_numeric_state_value_template_attribute_and_for(hub: Hub, calls: Calls, setup: Setup,
                                                              fake_clock: FakeClock) -> None:
    hub.states.async_set("sensor.station", "ok", {"gust_ms": 10})
    hub.states.async_set("sensor.limit", "70")
    await setup(
        auto({"trigger": "numeric_state", "entity_id": "sensor.station", "attribute": "gust_ms",
              "above": "sensor.limit", "value_template": "{{ state.attributes.gust_ms * 3.6 }}",
              "for": "00:00:10"}, record(hit=True)))
    hub.states.async_set("sensor.station", "ok", {"gust_ms": 25})  # 90 km/h
    await fake_clock.async_advance(9)
    assert calls == []
    await fake_clock.async_advance(1)
    assert len(calls) == 1


async def test_template_trigger_fires_on_transition_and_only_rerenders_on_read_entities(
        hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock) -> None:
    hub.states.async_set("sensor.t", "20")
    hub.states.async_set("binary_sensor.x", "on")
    await setup(auto({"trigger": "template",
                      "value_template": "{{ states('sensor.t') | float > 30 and is_state('binary_sensor.x', 'on') }}"},
                     record(hit=True)))
    from hub.helpers.event import _STATE_INDEX

    index = hub.data[_STATE_INDEX]
    assert "sensor.t" in index.by_entity and "sensor.other" not in index.by_entity
    hub.states.async_set("sensor.t", "35")
    hub.states.async_set("sensor.t", "36")  # still true: no new trigger
    hub.states.async_set("binary_sensor.x", "off")
    hub.states.async_set("binary_sensor.x", "on")
    await hub.async_block_till_done()
    assert len(calls) == 2


async def test_template_trigger_with_for(hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock) -> None:
    hub.states.async_set("sensor.t", "20")
    await setup(auto({"trigger": "template", "value_template": "{{ states('sensor.t') | int > 30 }}",
                      "for": 5}, record(hit=True)))
    hub.states.async_set("sensor.t", "40")
    await fake_clock.async_advance(3)
    hub.states.async_set("sensor.t", "10")
    await fake_clock.async_advance(10)
    hub.states.async_set("sensor.t", "40")
    await fake_clock.async_advance(5)
    assert len(calls) == 1


async def test_time_trigger_at_clock_time_and_entity(hub: Hub, calls: Calls, setup: Setup,
                                                     fake_clock: FakeClock) -> None:
    # the fake clock starts at 2026-01-01 12:00:00 UTC (the hub's zone when none is configured)
    hub.states.async_set("sensor.next_patrol", "2026-01-01T12:30:00+00:00")
    await setup(auto({"trigger": "time", "at": ["12:00:10", "sensor.next_patrol"]},
                     record(at="{{ trigger.now.isoformat() }}", entity="{{ trigger.entity_id }}")))
    await fake_clock.async_advance(10)
    assert calls.data() == [{"at": "2026-01-01T12:00:10+00:00", "entity": None}]
    await fake_clock.async_advance(30 * 60)
    assert calls.data()[1] == {"at": "2026-01-01T12:30:00+00:00", "entity": "sensor.next_patrol"}
    await fake_clock.async_advance(24 * 3600)
    assert len(calls) == 3  # the clock time repeats daily; the timestamp does not


async def test_time_pattern_trigger(hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock) -> None:
    await setup(auto({"trigger": "time_pattern", "minutes": "/15"}, record(hit=True)))
    await fake_clock.async_advance(3600)
    assert len(calls) == 4


async def test_hub_start_and_shutdown_triggers(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(auto({"trigger": "hub", "event": "start"}, record(kind="start")),
                {"id": "t2", "trigger": {"trigger": "hub", "event": "shutdown"}, "action": record(kind="stop")},
                start=False)
    assert calls == []
    await hub.async_start()
    await hub.async_block_till_done()
    assert calls.data() == [{"kind": "start"}]
    await hub.async_stop()
    assert calls.data() == [{"kind": "start"}, {"kind": "stop"}]


async def test_zone_trigger_enter_and_leave(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("zone.port", "zoning", {"latitude": 35.8900, "longitude": -5.3160, "radius": 300})
    hub.states.async_set("device_tracker.hotlisted_car", "moving", {"latitude": 35.90, "longitude": -5.30})
    await setup(
        auto({"trigger": "zone", "entity_id": "device_tracker.hotlisted_car", "zone": "zone.port",
              "event": "enter"}, record(kind="enter")),
        {"id": "t2", "trigger": {"trigger": "zone", "entity_id": "device_tracker.hotlisted_car",
                                 "zone": "zone.port", "event": "leave"}, "action": record(kind="leave")},
    )
    hub.states.async_set("device_tracker.hotlisted_car", "moving", {"latitude": 35.8901, "longitude": -5.3161})
    hub.states.async_set("device_tracker.hotlisted_car", "moving", {"latitude": 35.8902, "longitude": -5.3162})
    hub.states.async_set("device_tracker.hotlisted_car", "moving", {"latitude": 35.95, "longitude": -5.30})
    await hub.async_block_till_done()
    assert [c["kind"] for c in calls.data()] == ["enter", "leave"]


async def test_webhook_trigger(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(auto({"trigger": "webhook", "webhook_id": "panel_ack", "local_only": True},
                     record(panel="{{ trigger.json.panel }}")))
    assert async_handle_webhook(hub, "panel_ack", "GET", json={}, remote="127.0.0.1") == 405
    assert async_handle_webhook(hub, "panel_ack", "POST", json={}, remote="8.8.8.8") == 403
    assert async_handle_webhook(hub, "nope", "POST", json={}, remote="127.0.0.1") == 404
    assert async_handle_webhook(hub, "panel_ack", "POST", json={"panel": "p4"}, remote="127.0.0.1") == 200
    await hub.async_block_till_done()
    assert calls.data() == [{"panel": "p4"}]


async def test_trigger_id_variables_and_disabled_trigger(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup({
        "id": "t",
        "trigger_variables": {"tower": "hacho_1"},
        "triggers": [
            {"trigger": "event", "event_type": "a", "enabled": False},
            {"trigger": "event", "event_type": "b", "id": "bee",
             "variables": {"level": "{{ trigger.event.data.n * 2 }}"}},
        ],
        "actions": record(id="{{ trigger.id }}", idx="{{ trigger.idx }}", level="{{ level }}", tower="{{ tower }}"),
    })
    hub.bus.async_fire("a")
    hub.bus.async_fire("b", {"n": 4})
    await hub.async_block_till_done()
    assert calls.data() == [{"id": "bee", "idx": 1, "level": 8, "tower": "hacho_1"}]


async def test_time_trigger_uses_configured_time_zone(hub: Hub, calls: Calls, setup: Setup,
                                                      fake_clock: FakeClock) -> None:
    class _Config:
        time_zone = "Africa/Ceuta"  # UTC+1 in January

    hub.config = _Config()  # type: ignore[assignment]
    await setup(auto({"trigger": "time", "at": "13:01:00"}, record(at="{{ trigger.now.isoformat() }}")))
    await fake_clock.async_advance(59)
    assert calls == []
    await fake_clock.async_advance(1)
    assert calls.data() == [{"at": "2026-01-01T13:01:00+01:00"}]
    assert fake_clock.now() == datetime(2026, 1, 1, 12, 1, tzinfo=UTC)


FLOOD_TRIGGER = '''\
"""A custom integration's trigger platform: `trigger: flood_sensor` fires on flood_level events."""
import voluptuous as vol

from hub.core import callback

TRIGGER_SCHEMA = vol.Schema({vol.Required("platform"): "flood_sensor", vol.Required("min_level"): int})


def async_attach_trigger(hub, config, action, trigger_info):
    @callback
    def on_event(event):
        if event.data["level"] >= config["min_level"]:
            action({**trigger_info["trigger_data"], "platform": "flood_sensor", "level": event.data["level"],
                    "description": "flood"}, event.context)

    return hub.bus.async_listen("flood_level", on_event)
'''


async def test_integration_trigger_platform(hub: Hub, calls: Calls, setup: Setup, config_dir: Path) -> None:
    package = config_dir / "custom_integrations" / "flood_sensor"
    package.mkdir(parents=True)
    (package / "manifest.json").write_text('{"domain": "flood_sensor", "name": "Flood sensor"}')
    (package / "__init__.py").write_text('"""Flood sensor."""\n')
    (package / "trigger.py").write_text(FLOOD_TRIGGER)
    import automations

    await setup(auto({"trigger": "flood_sensor", "min_level": 3}, record(level="{{ trigger.level }}")))
    hub.bus.async_fire("flood_level", {"level": 2})
    hub.bus.async_fire("flood_level", {"level": 5})
    await hub.async_block_till_done()
    assert calls.data() == [{"level": 5}]
    errors = automations.check_config({"automations": [auto({"trigger": "flood_sensor"})]})
    assert len(errors) == 1 and "min_level" in errors[0]


async def test_trigger_platforms_come_from_the_loader(hub: Hub, calls: Calls, setup: Setup, config_dir: Path) -> None:
    """A custom integration that overrides a built-in one (alarm) brings its own trigger platform: the engine asks
    the loader, which prefers custom integrations, rather than importing `integrations.alarm.trigger`."""
    package = config_dir / "custom_integrations" / "alarm"
    package.mkdir(parents=True)
    (package / "manifest.json").write_text('{"domain": "alarm", "name": "Site alarms"}')
    (package / "__init__.py").write_text('"""Site alarms."""\n')
    (package / "trigger.py").write_text(FLOOD_TRIGGER.replace('"flood_sensor"', '"alarm"'))

    await setup(auto({"trigger": "alarm", "min_level": 3}, record(level="{{ trigger.level }}")))
    hub.bus.async_fire("flood_level", {"level": 5})
    await hub.async_block_till_done()
    assert calls.data() == [{"level": 5}]
