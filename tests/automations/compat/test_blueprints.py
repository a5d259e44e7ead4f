"""Blueprints (`blueprint:` files, `!input`, `use_blueprint:`, selectors, `hacho blueprint import`) on the real hub."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hacho.__main__ import main
from hacho.bootstrap import check_config
from hub.clock import FakeClock
from hub.core import Hub, ServiceCall, callback

from .ha_site import async_load_site, write

MOTION_LIGHT = Path(__file__).parents[2] / "data" / "ha" / "motion_light.yaml"


def _install(config_dir: Path) -> None:
    target = config_dir / "blueprints" / "automation" / "homeassistant" / "motion_light.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(MOTION_LIGHT, target)


async def test_blueprint_motion_light(hub: Hub, fake_clock: FakeClock) -> None:
    _install(hub.config_dir)
    light_calls: list[ServiceCall] = []

    @callback
    def light(call: ServiceCall) -> None:
        light_calls.append(call)

    hub.services.async_register("light", "turn_on", light)
    hub.services.async_register("light", "turn_off", light)
    await async_load_site(hub, """
        automation:
          - alias: Corridor light
            use_blueprint:
              path: homeassistant/motion_light.yaml
              input:
                motion_entity: binary_sensor.corridor_motion
                light_target:
                  entity_id: light.corridor
                no_motion_wait: 30
    """)
    assert hub.states.get("automation.corridor_light").attributes["mode"] == "restart"
    hub.states.async_set("binary_sensor.corridor_motion", "off")
    hub.states.async_set("binary_sensor.corridor_motion", "on")
    await hub.async_block_till_done()
    assert [c.service for c in light_calls] == ["turn_on"]
    hub.states.async_set("binary_sensor.corridor_motion", "off")
    await fake_clock.async_advance(29)
    await hub.async_block_till_done()
    assert len(light_calls) == 1
    await fake_clock.async_advance(2)
    await hub.async_block_till_done()
    assert [c.service for c in light_calls] == ["turn_on", "turn_off"]


async def test_blueprint_target_reaches_service_as_entity_ids(hub: Hub) -> None:
    _install(hub.config_dir)
    light_calls: list[ServiceCall] = []
    hub.services.async_register("light", "turn_on", callback(light_calls.append))
    await async_load_site(hub, """
        automation:
          - use_blueprint:
              path: homeassistant/motion_light.yaml
              input:
                motion_entity: binary_sensor.corridor_motion
                light_target: {entity_id: light.corridor}
    """)
    hub.states.async_set("binary_sensor.corridor_motion", "off")
    hub.states.async_set("binary_sensor.corridor_motion", "on")
    await hub.async_block_till_done()
    assert light_calls[0].data["entity_id"] == ["light.corridor"]


async def test_blueprint_input_sections_and_defaults(hub: Hub) -> None:
    write(hub.config_dir, "blueprints/automation/flag_on_event.yaml", """
        blueprint:
          name: Flag on event
          domain: automation
          input:
            what:
              name: What
              collapsed: false
              input:
                event_type:
                  selector: {text: {}}
                level:
                  default: amber
                  selector: {select: {options: [green, amber, red]}}
            flag:
              selector: {entity: {domain: input_select}}
        trigger:
          - platform: event
            event_type: !input event_type
        variables:
          level: !input level
        action:
          - service: input_select.select_option
            data:
              entity_id: !input flag
              option: "{{ level }}"
    """)
    await async_load_site(hub, """
        input_select:
          port_level:
            options: [green, amber, red]
        automation:
          - alias: Amber on a gale
            use_blueprint:
              path: flag_on_event.yaml
              input:
                event_type: gale
                flag: input_select.port_level
          - alias: Red on a fire
            use_blueprint:
              path: flag_on_event.yaml
              input: {event_type: fire, flag: input_select.port_level, level: red}
    """)
    hub.bus.async_fire("gale")
    await hub.async_block_till_done()
    assert hub.states.get("input_select.port_level").state == "amber"
    hub.bus.async_fire("fire")
    await hub.async_block_till_done()
    assert hub.states.get("input_select.port_level").state == "red"


def test_blueprint_input_errors_all_reported(config_dir: Path) -> None:
    _install(config_dir)
    write(config_dir, "configuration.yaml", """
        automation:
          - alias: Wrong domain
            use_blueprint:
              path: homeassistant/motion_light.yaml
              input:
                motion_entity: light.corridor
                light_target: {entity_id: light.corridor}
                no_motion_wait: 99999
                wiat: 3
          - alias: Missing input
            use_blueprint:
              path: homeassistant/motion_light.yaml
              input:
                light_target: {entity_id: light.corridor}
          - alias: No such file
            use_blueprint:
              path: homeassistant/nothing.yaml
          - alias: Escaping
            use_blueprint:
              path: ../../secrets.yaml
    """)
    errors = check_config(config_dir)
    text = "\n".join(errors)
    assert "configuration.yaml:7: [automation 'Wrong domain'] input 'motion_entity': expected an entity of " \
           "domain binary_sensor, got 'light.corridor'" in text
    assert "configuration.yaml:9: [automation 'Wrong domain'] input 'no_motion_wait': expected a number " \
           "between 0 and 3600" in text
    assert "input 'wiat' is not an input of blueprint 'Motion-activated Light'" in text
    assert "[automation 'Missing input'] missing input 'motion_entity'" in text
    assert "blueprint 'homeassistant/nothing.yaml' not found" in text
    assert "[automation 'Escaping'] blueprint path '../../secrets.yaml' leaves" in text
    assert len(errors) == 6, errors


def test_blueprint_import_cli(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["blueprint", "import", str(MOTION_LIGHT), "-c", str(config_dir)]) == 0
    target = config_dir / "blueprints" / "automation" / "motion_light.yaml"
    assert target.read_bytes() == MOTION_LIGHT.read_bytes()
    out = capsys.readouterr().out
    assert "input motion_entity (required)" in out and "path: motion_light.yaml" in out
    assert main(["blueprint", "import", str(MOTION_LIGHT), "-c", str(config_dir)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["blueprint", "import", "https://example.org/b.yaml", "-c", str(config_dir)]) == 1
    assert "no network" in capsys.readouterr().err
    not_blueprint = write(config_dir, "x.yaml", "automation: []\n")
    assert main(["blueprint", "import", str(not_blueprint), "-c", str(config_dir)]) == 1
    assert "not a blueprint" in capsys.readouterr().err


_SELECTOR_BLUEPRINT = """
    blueprint:
      name: Timed steps
      domain: automation
      input:
        at:
          selector: {time: {}}
        enabled:
          default: true
          selector: {boolean: {}}
        level:
          selector: {select: {options: [{label: Low, value: low}, {label: High, value: high}]}}
        steps:
          selector: {action: {}}
    variables:
      enabled: !input enabled
      level: !input level
    triggers:
      - trigger: time
        at: !input at
    conditions:
      - condition: template
        value_template: "{{ enabled }}"
    actions: !input steps
"""


async def test_blueprint_action_and_selector_inputs(hub: Hub, calls: list[ServiceCall],
                                                    fake_clock: FakeClock) -> None:
    write(hub.config_dir, "blueprints/automation/timed.yaml", _SELECTOR_BLUEPRINT)
    await async_load_site(hub, """
        automation:
          - alias: Five past
            use_blueprint:
              path: timed.yaml
              input:
                at: "12:05"
                level: high
                steps:
                  - service: test.record
                    data: {level: "{{ level }}"}
          - alias: Switched off
            use_blueprint:
              path: timed.yaml
              input:
                at: "12:05"
                enabled: false
                level: low
                steps: {service: test.record, data: {level: off}}
    """)
    await fake_clock.async_advance(300)
    await hub.async_block_till_done()
    assert [dict(call.data) for call in calls] == [{"level": "high"}]


def test_blueprint_selector_errors(config_dir: Path) -> None:
    write(config_dir, "blueprints/automation/timed.yaml", _SELECTOR_BLUEPRINT)
    write(config_dir, "configuration.yaml", """
        automation:
          - alias: Bad values
            use_blueprint:
              path: timed.yaml
              input:
                at: "25:00"
                enabled: maybe
                level: medium
                steps: 3
    """)
    errors = "\n".join(check_config(config_dir))
    assert "input 'at': expected a time of day 'HH:MM' or 'HH:MM:SS'" in errors
    assert "input 'enabled': " in errors
    assert "input 'level': expected one of low, high, got 'medium'" in errors
    assert "input 'steps': expected a list of steps" in errors


def test_input_outside_a_blueprint_is_a_clear_error(config_dir: Path) -> None:
    write(config_dir, "configuration.yaml", """
        automation:
          - alias: Pasted from a blueprint
            trigger:
              - platform: state
                entity_id: !input motion_entity
            action: []
    """)
    assert check_config(config_dir) == [
        f"{config_dir / 'configuration.yaml'}:6: [automation 'Pasted from a blueprint'] `!input motion_entity` "
        "outside a blueprint (only blueprint files take inputs; use `use_blueprint:`)"]
