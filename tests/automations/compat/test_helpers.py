"""Home Assistant helper entities (input_*, counter, timer) loaded from HA-style YAML into the real hub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from hub.clock import FakeClock
from hub.core import Hub
from hub.exceptions import ServiceValidationError
from tests.automations.conftest import Calls

from .ha_site import async_load_site, capture_events

Restart = Callable[[], Awaitable[Hub]]


@pytest.fixture
async def restart(hub: Hub, fake_clock: FakeClock) -> AsyncIterator[Restart]:
    """Stop the hub and load the same configuration.yaml into a fresh one on the same config dir."""
    started: list[Hub] = []

    async def _restart() -> Hub:
        await hub.async_stop()
        fresh = Hub(hub.config_dir, clock=fake_clock)
        started.append(fresh)
        await async_load_site(fresh)
        return fresh

    yield _restart
    for instance in started:
        if not instance.is_stopping:
            await instance.async_stop()


def state(hub: Hub, entity_id: str) -> str:
    current = hub.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def call(hub: Hub, service: str, **data: object) -> None:
    domain, name = service.split(".")
    await hub.services.async_call(domain, name, data, blocking=True)
    await hub.async_block_till_done()


async def test_input_boolean(hub: Hub, calls: Calls) -> None:
    await async_load_site(hub, """
        input_boolean:
          guest_mode:
            name: Guest mode
            icon: mdi:account
        automation:
          - alias: Guest mode on
            trigger:
              - platform: state
                entity_id: input_boolean.guest_mode
                to: "on"
            action:
              - service: test.record
                data: {mode: "{{ states('input_boolean.guest_mode') }}"}
    """)
    assert state(hub, "input_boolean.guest_mode") == "off"
    assert hub.states.get("input_boolean.guest_mode").attributes["friendly_name"] == "Guest mode"
    await call(hub, "input_boolean.toggle", entity_id="input_boolean.guest_mode")
    assert state(hub, "input_boolean.guest_mode") == "on"
    assert calls.data() == [{"mode": "on"}]
    await call(hub, "input_boolean.turn_off", entity_id="input_boolean.guest_mode")
    await call(hub, "input_boolean.turn_on", entity_id=["input_boolean.guest_mode"])
    assert len(calls) == 2
    await call(hub, "input_boolean.turn_off", entity_id="input_boolean.guest_mode")
    with pytest.raises(ServiceValidationError, match=r"input_boolean\.nope: no such input_boolean"):
        await call(hub, "input_boolean.turn_on", entity_id=["input_boolean.guest_mode", "input_boolean.nope"])
    assert state(hub, "input_boolean.guest_mode") == "off"  # nothing touched


async def test_input_boolean_restored_unless_initial(hub: Hub, restart: Restart) -> None:
    await async_load_site(hub, """
        input_boolean:
          remembered:
          forced:
            initial: false
    """)
    await call(hub, "input_boolean.turn_on", entity_id="all")
    assert state(hub, "input_boolean.forced") == "on"
    fresh = await restart()
    assert state(fresh, "input_boolean.remembered") == "on"
    assert state(fresh, "input_boolean.forced") == "off"


async def test_input_number(hub: Hub, calls: Calls) -> None:
    await async_load_site(hub, """
        input_number:
          gust_limit:
            name: Gust limit
            min: 0
            max: 100
            step: 10
            initial: 70
            unit_of_measurement: km/h
        automation:
          - alias: Gust over the limit
            trigger:
              - platform: numeric_state
                entity_id: sensor.gust
                above: input_number.gust_limit
            action:
              - action: test.record
    """)
    assert state(hub, "input_number.gust_limit") == "70.0"
    attrs = hub.states.get("input_number.gust_limit").attributes
    assert (attrs["min"], attrs["max"], attrs["step"], attrs["unit_of_measurement"]) == (0, 100, 10, "km/h")
    await call(hub, "input_number.set_value", entity_id="input_number.gust_limit", value=40)
    hub.states.async_set("sensor.gust", "45")
    await hub.async_block_till_done()
    assert len(calls) == 1
    await call(hub, "input_number.increment", entity_id="input_number.gust_limit")
    assert state(hub, "input_number.gust_limit") == "50.0"
    for _ in range(3):
        await call(hub, "input_number.decrement", entity_id="input_number.gust_limit")
    assert state(hub, "input_number.gust_limit") == "20.0"
    with pytest.raises(ServiceValidationError, match="outside"):
        await call(hub, "input_number.set_value", entity_id="input_number.gust_limit", value=101)
    assert state(hub, "input_number.gust_limit") == "20.0"


async def test_input_select(hub: Hub, calls: Calls) -> None:
    await async_load_site(hub, """
        input_select:
          port_level:
            name: Port alert level
            options: [green, amber, red]
        automation:
          - trigger: {platform: state, entity_id: input_select.port_level, to: red}
            action: {service: test.record}
    """)
    assert state(hub, "input_select.port_level") == "green"
    assert hub.states.get("input_select.port_level").attributes["options"] == ["green", "amber", "red"]
    await call(hub, "input_select.select_previous", entity_id="input_select.port_level")
    assert state(hub, "input_select.port_level") == "red"
    assert len(calls) == 1
    await call(hub, "input_select.select_next", entity_id="input_select.port_level", cycle=False)
    assert state(hub, "input_select.port_level") == "red"
    await call(hub, "input_select.select_first", entity_id="input_select.port_level")
    await call(hub, "input_select.select_option", entity_id="input_select.port_level", option="amber")
    assert state(hub, "input_select.port_level") == "amber"
    with pytest.raises(ServiceValidationError, match="not one of"):
        await call(hub, "input_select.select_option", entity_id="input_select.port_level", option="blue")
    await call(hub, "input_select.set_options", entity_id="input_select.port_level", options=["low", "high"])
    assert state(hub, "input_select.port_level") == "low"


async def test_input_text(hub: Hub) -> None:
    await async_load_site(hub, """
        input_text:
          panel_note:
            max: 10
            pattern: "[A-Z ]*"
            initial: HOLA
    """)
    assert state(hub, "input_text.panel_note") == "HOLA"
    await call(hub, "input_text.set_value", entity_id="input_text.panel_note", value="VIENTO")
    assert state(hub, "input_text.panel_note") == "VIENTO"
    with pytest.raises(ServiceValidationError, match="pattern"):
        await call(hub, "input_text.set_value", entity_id="input_text.panel_note", value="viento")
    with pytest.raises(ServiceValidationError, match="length"):
        await call(hub, "input_text.set_value", entity_id="input_text.panel_note", value="A" * 11)
    assert state(hub, "input_text.panel_note") == "VIENTO"


async def test_input_datetime(hub: Hub, restart: Restart) -> None:
    await async_load_site(hub, """
        hub:
          time_zone: Africa/Ceuta
        input_datetime:
          lights_off:
            has_time: true
            initial: "22:30"
          holiday:
            has_date: true
          visit:
            has_date: true
            has_time: true
    """)
    assert state(hub, "input_datetime.lights_off") == "22:30:00"
    assert hub.states.get("input_datetime.lights_off").attributes["timestamp"] == 22 * 3600 + 30 * 60
    assert state(hub, "input_datetime.holiday") == "unknown"
    await call(hub, "input_datetime.set_datetime", entity_id="input_datetime.holiday", date="2026-08-05")
    await call(hub, "input_datetime.set_datetime", entity_id="input_datetime.visit",
               datetime="2026-08-05 10:15:00")
    await call(hub, "input_datetime.set_datetime", entity_id="input_datetime.lights_off", time="23:00")
    assert state(hub, "input_datetime.holiday") == "2026-08-05"
    visit = hub.states.get("input_datetime.visit")
    assert visit.state == "2026-08-05 10:15:00"
    # 10:15 in Ceuta in summer (UTC+2) is 08:15 UTC
    assert visit.attributes["timestamp"] == 1785917700.0
    assert (visit.attributes["year"], visit.attributes["hour"]) == (2026, 10)
    fresh = await restart()
    assert state(fresh, "input_datetime.visit") == "2026-08-05 10:15:00"
    assert state(fresh, "input_datetime.lights_off") == "22:30:00"  # initial wins


async def test_input_button(hub: Hub, calls: Calls, fake_clock: FakeClock) -> None:
    await async_load_site(hub, """
        input_button:
          test_sirens:
            name: Test sirens
        automation:
          - trigger: {platform: state, entity_id: input_button.test_sirens}
            action: {service: test.record}
    """)
    assert state(hub, "input_button.test_sirens") == "unknown"
    await call(hub, "input_button.press", entity_id="input_button.test_sirens")
    assert state(hub, "input_button.test_sirens") == fake_clock.now().isoformat()
    await fake_clock.async_advance(5)
    await call(hub, "input_button.press", entity_id="input_button.test_sirens")
    assert len(calls) == 2


async def test_counter(hub: Hub, calls: Calls, restart: Restart) -> None:
    await async_load_site(hub, """
        counter:
          ramming_alarms:
            initial: 1
            step: 2
            minimum: 0
            maximum: 6
          not_kept:
            restore: false
        automation:
          - trigger: {platform: numeric_state, entity_id: counter.ramming_alarms, above: 4}
            action: {service: test.record, data: {count: "{{ states('counter.ramming_alarms') | int }}"}}
    """)
    assert state(hub, "counter.ramming_alarms") == "1"
    await call(hub, "counter.increment", entity_id="counter.ramming_alarms")
    await call(hub, "counter.increment", entity_id="counter.ramming_alarms")
    assert calls.data() == [{"count": 5}]
    await call(hub, "counter.increment", entity_id="counter.ramming_alarms")
    assert state(hub, "counter.ramming_alarms") == "6"  # maximum
    await call(hub, "counter.reset", entity_id="counter.ramming_alarms")
    assert state(hub, "counter.ramming_alarms") == "1"
    with pytest.raises(ServiceValidationError):
        await call(hub, "counter.set_value", entity_id="counter.ramming_alarms", value=7)
    await call(hub, "counter.set_value", entity_id="counter.ramming_alarms", value=3)
    await call(hub, "counter.decrement", entity_id="counter.not_kept")
    assert state(hub, "counter.not_kept") == "-1"
    fresh = await restart()
    assert state(fresh, "counter.ramming_alarms") == "3"
    assert state(fresh, "counter.not_kept") == "0"


async def test_timer(hub: Hub, calls: Calls, fake_clock: FakeClock) -> None:
    await async_load_site(hub, """
        timer:
          bollard_hold:
            name: Bollard hold
            duration: "00:05:00"
        automation:
          - alias: Hold over
            trigger:
              - platform: event
                event_type: timer.finished
                event_data:
                  entity_id: timer.bollard_hold
            action:
              - service: test.record
    """)
    started = capture_events(hub, "timer.started")
    paused = capture_events(hub, "timer.paused")
    timer = "timer.bollard_hold"
    assert state(hub, timer) == "idle"
    assert hub.states.get(timer).attributes["duration"] == "0:05:00"
    await call(hub, "timer.start", entity_id=timer)
    assert state(hub, timer) == "active" and len(started) == 1
    assert hub.states.get(timer).attributes["finishes_at"] == (fake_clock.now() + timedelta(minutes=5)).isoformat()
    await fake_clock.async_advance(60)
    await call(hub, "timer.pause", entity_id=timer)
    assert state(hub, timer) == "paused" and len(paused) == 1
    assert hub.states.get(timer).attributes["remaining"] == "0:04:00"
    await fake_clock.async_advance(600)
    assert calls == []
    await call(hub, "timer.start", entity_id=timer)  # resumes with 4 minutes left
    await fake_clock.async_advance(239)
    await hub.async_block_till_done()
    assert calls == [] and state(hub, timer) == "active"
    await fake_clock.async_advance(1)
    await hub.async_block_till_done()
    assert len(calls) == 1 and state(hub, timer) == "idle"
    cancelled = capture_events(hub, "timer.cancelled")
    await call(hub, "timer.start", entity_id=timer, duration=30)
    assert hub.states.get(timer).attributes["duration"] == "0:00:30"
    await call(hub, "timer.cancel", entity_id=timer)
    await fake_clock.async_advance(60)
    await hub.async_block_till_done()
    assert len(cancelled) == 1 and len(calls) == 1
    await call(hub, "timer.start", entity_id=timer)
    await call(hub, "timer.finish", entity_id=timer)
    assert len(calls) == 2 and state(hub, timer) == "idle"


async def test_timer_restored_across_restart(hub: Hub, calls: Calls, fake_clock: FakeClock,
                                             restart: Restart) -> None:
    await async_load_site(hub, """
        timer:
          kept:
            duration: 120
            restore: true
          lost:
            duration: 120
    """)
    await call(hub, "timer.start", entity_id="timer.kept, timer.lost")
    fresh = await restart()
    assert state(fresh, "timer.kept") == "active"
    assert state(fresh, "timer.lost") == "idle"
    finished = capture_events(fresh, "timer.finished")
    await fake_clock.async_advance(121)
    await fresh.async_block_till_done()
    assert [event.data["entity_id"] for event in finished] == ["timer.kept"]
    assert state(fresh, "timer.kept") == "idle"


async def test_template_sensor(hub: Hub, calls: Calls) -> None:
    await async_load_site(hub, """
        template:
          - sensor:
              - name: Port gust ms
                unit_of_measurement: m/s
                state_class: measurement
                state: "{{ (states('sensor.port_gust') | float(0) / 3.6) | round(1) }}"
                availability: "{{ has_value('sensor.port_gust') }}"
                attributes:
                  source: "{{ state_attr('sensor.port_gust', 'station') }}"
        automation:
          - trigger:
              - platform: numeric_state
                entity_id: sensor.port_gust_ms
                above: 20
            action:
              - service: test.record
                data: {ms: "{{ trigger.to_state.state }}"}
    """)
    assert state(hub, "sensor.port_gust_ms") == "unavailable"
    hub.states.async_set("sensor.port_gust", "36", {"station": "muelle"})
    await hub.async_block_till_done()
    gust = hub.states.get("sensor.port_gust_ms")
    assert gust.state == "10.0"
    assert gust.attributes["source"] == "muelle"
    assert gust.attributes["unit_of_measurement"] == "m/s"
    assert gust.attributes["state_class"] == "measurement"
    hub.states.async_set("sensor.port_gust", "90", {"station": "muelle"})
    await hub.async_block_till_done()
    assert calls.data() == [{"ms": 25.0}]


async def test_template_binary_sensor_delay(hub: Hub, fake_clock: FakeClock) -> None:
    await async_load_site(hub, """
        template:
          binary_sensor:
            - name: Levante gale
              device_class: safety
              state: "{{ states('sensor.gust') | float(0) > 70 }}"
              delay_on: 30
              delay_off: {minutes: 5}
    """)
    gale = "binary_sensor.levante_gale"
    assert state(hub, gale) == "off"
    hub.states.async_set("sensor.gust", "80")
    await hub.async_block_till_done()
    assert state(hub, gale) == "off"
    await fake_clock.async_advance(31)
    await hub.async_block_till_done()
    assert state(hub, gale) == "on"
    hub.states.async_set("sensor.gust", "50")
    await fake_clock.async_advance(120)
    hub.states.async_set("sensor.gust", "75")  # back over before delay_off: stays on
    await fake_clock.async_advance(400)
    await hub.async_block_till_done()
    assert state(hub, gale) == "on"
    assert hub.states.get(gale).attributes["device_class"] == "safety"


async def test_template_trigger_based(hub: Hub, restart: Restart) -> None:
    await async_load_site(hub, """
        template:
          - trigger:
              - platform: event
                event_type: plate_seen
            condition:
              - condition: template
                value_template: "{{ trigger.event.data.camera != 'test' }}"
            sensor:
              - name: Last camera
                state: "{{ trigger.event.data.camera }}"
                attributes:
                  lane: "{{ trigger.event.data.lane }}"
                  seen: "{{ (this.attributes.seen | default(0)) + 1 }}"
    """)
    assert state(hub, "sensor.last_camera") == "unknown"
    hub.bus.async_fire("plate_seen", {"camera": "tarajal", "lane": 2})
    await hub.async_block_till_done()
    hub.bus.async_fire("plate_seen", {"camera": "test", "lane": 1})
    await hub.async_block_till_done()
    last = hub.states.get("sensor.last_camera")
    assert (last.state, last.attributes["lane"], last.attributes["seen"]) == ("tarajal", 2, 1)
    fresh = await restart()
    last = fresh.states.get("sensor.last_camera")
    assert (last.state, last.attributes["lane"]) == ("tarajal", 2)


def test_helper_config_errors_name_file_and_line(config_dir: Path) -> None:
    from hacho.bootstrap import check_config

    (config_dir / "configuration.yaml").write_text(
        "input_number:\n  gust:\n    min: 10\n    max: 5\n"
        "input_select:\n  level:\n    options: [a, b]\n    initial: c\n"
        "template:\n  - trigger: {platform: event, event_type: x}\n    action: [{service: test.record}]\n"
        "    sensor: [{name: a, state: '1'}]\n")
    errors = check_config(config_dir)
    assert [line.split(": ", 1)[0].rsplit("/", 1)[-1] for line in errors] == [
        "configuration.yaml:3", "configuration.yaml:8", "configuration.yaml:11"]
    assert "'gust.min': 'min' (10.0) must be below 'max' (5.0)" in errors[0]
    assert "'level.initial': 'initial' 'c' is not one of the options" in errors[1]
    assert "`action:` in a template block is not supported" in errors[2]
