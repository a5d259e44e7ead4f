"""`automation <label>:` keys and Home Assistant packages, loaded into the real hub and run."""

from __future__ import annotations

from hacho.bootstrap import check_config
from hub.core import Hub
from tests.automations.conftest import Calls

from .ha_site import async_load_site, write


async def test_labelled_automation_keys(hub: Hub, calls: Calls) -> None:
    write(hub.config_dir, "automations.yaml", """
        - id: '1700000000001'
          alias: From the UI editor
          trigger: [{platform: event, event_type: go}]
          action: [{service: test.record, data: {who: ui}}]
    """)
    await async_load_site(hub, """
        automation:
          - alias: Hand written
            trigger: [{platform: event, event_type: go}]
            action: [{service: test.record, data: {who: main}}]
        automation ui: !include automations.yaml
        automation 2:
          alias: A single mapping
          trigger: {platform: event, event_type: go}
          action: {service: test.record, data: {who: two}}
    """)
    assert check_config(hub.config_dir) == []
    hub.bus.async_fire("go")
    await hub.async_block_till_done()
    assert sorted(call["who"] for call in calls.data()) == ["main", "two", "ui"]
    assert hub.states.get("automation.1700000000001") is not None


async def test_packages(hub: Hub, calls: Calls) -> None:
    write(hub.config_dir, "packages/night.yaml", """
        input_boolean:
          night_mode:
        automation:
          - alias: Night mode on
            trigger: {platform: state, entity_id: input_boolean.night_mode, to: "on"}
            action: {service: script.dim_panels}
        script:
          dim_panels:
            sequence:
              - service: test.record
                data: {panels: dim}
    """)
    write(hub.config_dir, "packages/port.yaml", """
        input_boolean:
          port_closed:
            initial: true
        counter:
          port_alarms:
    """)
    await async_load_site(hub, """
        hub:
          name: Ceuta
          packages: !include_dir_named packages
        input_boolean:
          main_flag:
        automations:
          - alias: Main list
            trigger: {platform: event, event_type: go}
            action: {service: input_boolean.turn_on, data: {entity_id: input_boolean.night_mode}}
        script:
          main_script:
            sequence: []
    """)
    assert check_config(hub.config_dir) == []
    assert {s.entity_id for s in hub.states.async_all("input_boolean")} == {
        "input_boolean.main_flag", "input_boolean.night_mode", "input_boolean.port_closed"}
    assert hub.states.get("input_boolean.port_closed").state == "on"
    assert hub.states.get("counter.port_alarms").state == "0"
    assert hub.states.get("script.main_script") is not None
    hub.bus.async_fire("go")
    await hub.async_block_till_done()
    assert hub.states.get("input_boolean.night_mode").state == "on"
    assert calls.data() == [{"panels": "dim"}]


def test_package_conflict_is_reported_with_both_places(config_dir) -> None:  # type: ignore[no-untyped-def]
    write(config_dir, "packages/a.yaml", """
        input_boolean:
          night_mode:
        hub:
          name: no
    """)
    write(config_dir, "configuration.yaml", """
        hub:
          packages: !include_dir_named packages
        input_boolean:
          night_mode:
    """)
    errors = check_config(config_dir)
    assert len(errors) == 2, errors
    conflict = next(line for line in errors if "night_mode" in line)
    assert "packages/a.yaml:2: [package a] 'input_boolean'" in conflict
    assert "configuration.yaml:5" in conflict
    assert any("packages/a.yaml:4" in line and "core section" in line for line in errors)


async def test_yaml_tags(hub: Hub, calls: Calls, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every Home Assistant YAML tag, as Home Assistant configurations use them."""
    site = hub.config_dir
    monkeypatch.setenv("HACHO_TEST_GUST_MAX", "150")
    write(site, "secrets.yaml", "panel_note: HOLA\n")
    write(site, "booleans/a.yaml", "night_mode:\nport_closed:\n")
    write(site, "booleans/b.yaml", "gale:\n")
    write(site, "counters/ramming.yaml", "initial: 3\n")
    write(site, "autos/one.yaml", """
        alias: From include_dir_list
        trigger: {platform: event, event_type: go}
        action: {service: test.record, data: {tag: dir_list}}
    """)
    write(site, "more/two.yaml", """
        - alias: From include_dir_merge_list
          trigger: {platform: event, event_type: go}
          action: {service: test.record, data: {tag: dir_merge_list}}
    """)
    write(site, "scripts.yaml", "noop:\n  sequence: []\n")
    await async_load_site(hub, """
        input_boolean: !include_dir_merge_named booleans
        counter: !include_dir_named counters
        input_text:
          panel_note:
            initial: !secret panel_note
        input_number:
          gust:
            min: 0
            max: !env_var HACHO_TEST_GUST_MAX
        script: !include scripts.yaml
        automation: !include_dir_list autos
        automation 2: !include_dir_merge_list more
    """)
    assert {s.entity_id for s in hub.states.async_all("input_boolean")} == {
        "input_boolean.night_mode", "input_boolean.port_closed", "input_boolean.gale"}
    assert hub.states.get("counter.ramming").state == "3"
    assert hub.states.get("input_text.panel_note").state == "HOLA"
    assert hub.states.get("input_number.gust").attributes["max"] == 150
    assert hub.states.get("script.noop") is not None
    hub.bus.async_fire("go")
    await hub.async_block_till_done()
    assert sorted(call["tag"] for call in calls.data()) == ["dir_list", "dir_merge_list"]


def test_homeassistant_packages_key(config_dir) -> None:  # type: ignore[no-untyped-def]
    """`homeassistant: packages:` pasted from Home Assistant works; other core keys there get a pointer to `hub:`."""
    write(config_dir, "packages/a.yaml", "counter:\n  doors:\n")
    write(config_dir, "configuration.yaml", """
        homeassistant:
          packages: !include_dir_named packages
    """)
    assert check_config(config_dir) == []
    write(config_dir, "configuration.yaml", """
        homeassistant:
          name: Home
          packages: !include_dir_named packages
    """)
    (error,) = check_config(config_dir)
    assert "configuration.yaml:2: No integration named 'homeassistant' (Hacho's core section is `hub:`" in error
