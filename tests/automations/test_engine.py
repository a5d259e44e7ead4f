"""The engine: automation entities, run modes, services, traces, YAML errors and transactional reload."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import pytest

import automations
from automations.trace import get_trace_store
from hub.clock import FakeClock
from hub.config.core import load_configuration
from hub.core import Hub
from hub.exceptions import HubError

from .conftest import Calls, Setup, record


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def waiting(mode: str, **extra: Any) -> dict[str, Any]:
    return {"id": "m", "mode": mode, **extra, "triggers": {"trigger": "event", "event_type": "go"},
            "actions": [record(start="{{ trigger.event.data.n }}"), {"delay": 10},
                        record(end="{{ trigger.event.data.n }}")]}


async def fire_n(hub: Hub, *numbers: int) -> None:
    for n in numbers:
        hub.bus.async_fire("go", {"n": n})
        await settle()


@pytest.mark.parametrize(("mode", "expected"), [
    ("single", [{"start": 1}, {"end": 1}]),
    ("restart", [{"start": 1}, {"start": 2}, {"start": 3}, {"end": 3}]),
    ("queued", [{"start": 1}, {"end": 1}, {"start": 2}, {"end": 2}]),
    ("parallel", [{"start": 1}, {"start": 2}, {"end": 1}, {"end": 2}]),
])
async def test_run_modes(hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock, mode: str,
                         expected: list[dict[str, int]]) -> None:
    await setup(waiting(mode, max=2))
    await fire_n(hub, 1, 2, 3)  # single refuses 2 and 3; queued and parallel refuse the third (max 2)
    for _ in range(4):
        await fake_clock.async_advance(10)
    assert calls.data() == expected
    traces = get_trace_store(hub).traces("automation.m")
    refused = [t for t in traces if t["execution"] == "failed_max_runs"]
    assert len(refused) == {"single": 2, "restart": 0, "queued": 1, "parallel": 1}[mode]
    if mode == "restart":
        assert sum(t["execution"] == "cancelled" for t in traces) == 2


async def test_entity_state_services_and_last_triggered(hub: Hub, calls: Calls, setup: Setup,
                                                        fake_clock: FakeClock) -> None:
    await setup({"id": "fire_alarm", "alias": "Fire alarm", "triggers": {"trigger": "event", "event_type": "fire"},
                 "actions": record(ok=True)},
                {"id": "off_at_start", "initial_state": False, "triggers": {"trigger": "event", "event_type": "fire"},
                 "actions": record(never=True)})
    state = hub.states.get("automation.fire_alarm")
    assert state.state == "on"
    assert state.attributes["friendly_name"] == "Fire alarm"
    assert state.attributes["last_triggered"] is None and state.attributes["current"] == 0
    assert hub.states.get("automation.off_at_start").state == "off"
    hub.bus.async_fire("fire")
    await settle()
    assert len(calls) == 1
    assert hub.states.get("automation.fire_alarm").attributes["last_triggered"] == fake_clock.now()
    await hub.services.async_call("automation", "turn_off", {"entity_id": "automation.fire_alarm"})
    assert hub.states.get("automation.fire_alarm").state == "off"
    hub.bus.async_fire("fire")
    await settle()
    assert len(calls) == 1
    await hub.services.async_call("automation", "toggle", {"entity_id": "automation.fire_alarm"})
    await hub.services.async_call("automation", "trigger", {"entity_id": "automation.off_at_start"})
    assert calls.data() == [{"ok": True}, {"never": True}]  # trigger runs the actions even when off
    hub.bus.async_fire("fire")
    await settle()
    assert len(calls) == 3


async def test_turn_off_stops_running_actions(hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock) -> None:
    await setup(waiting("single"))
    await fire_n(hub, 1)
    await hub.services.async_call("automation", "turn_off", {"entity_id": "automation.m"})
    await fake_clock.async_advance(20)
    assert calls.data() == [{"start": 1}]
    assert get_trace_store(hub).traces("automation.m")[0]["execution"] == "cancelled"


async def test_traces_keep_last_n_plus_last_error(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup({"id": "t", "trace": {"stored_traces": 3}, "triggers": {"trigger": "event", "event_type": "go"},
                 "actions": [{"action": "test.record", "data": {"n": "{{ trigger.event.data.n | int }}"}}]})
    hub.bus.async_fire("go", {"n": "bad"})
    for n in range(5):
        hub.bus.async_fire("go", {"n": n})
    await settle()
    traces = get_trace_store(hub).traces("automation.t")
    assert [t["execution"] for t in traces] == ["finished"] * 3 + ["error"]
    assert traces[-1]["error"].startswith("error rendering")
    assert traces[0]["steps"][-1]["result"] == {"action": "test.record", "data": {"n": 4}}
    assert traces[0]["context"]["parent_id"] is not None


def _write(config_dir: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


GOOD = """\
- id: fire_alarm
  alias: Fire alarm
  triggers:
    - trigger: event
      event_type: thermal_fire_detected
  actions:
    - action: test.record
      data: {alarm: fire}
"""

BROKEN = """\
- id: wind_warning
  alias: Wind warning
  triggers:
    - trigger: numeric_state
      entity_id: sensor.port_wind_gust
      above: lots
  actions:
    - action: test.record
"""


async def test_broken_file_reported_with_file_line_alias_and_key(hub: Hub, calls: Calls, config_dir: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    _write(config_dir, {"configuration.yaml": "automations: !include_dir_merge_list automations/\n",
                        "automations/fire.yaml": GOOD, "automations/wind.yaml": BROKEN})
    raw = load_configuration(config_dir)
    errors = automations.check_config({"automations": raw["automations"]})
    assert len(errors) == 1
    assert errors[0].startswith(f"{config_dir / 'automations/wind.yaml'}:6:")
    assert "Wind warning" in errors[0] and "above" in errors[0]
    await automations.async_setup(hub, {"automations": raw["automations"]})
    await hub.async_start()
    assert "wind.yaml:6" in caplog.text
    assert hub.states.get("automation.wind_warning") is None
    hub.bus.async_fire("thermal_fire_detected")
    await settle()
    assert calls.data() == [{"alarm": "fire"}]


async def test_reload_is_transactional_and_keeps_untouched_runs(hub: Hub, calls: Calls, config_dir: Path,
                                                                fake_clock: FakeClock) -> None:
    delayed = """\
    - id: long_run
      triggers: {trigger: event, event_type: go}
      actions:
        - delay: 600
        - action: test.record
          data: {done: long_run}
    - id: pending_for
      triggers: {trigger: state, entity_id: binary_sensor.smoke, to: "on", for: 60}
      actions:
        - action: test.record
          data: {done: pending_for}
    - id: to_change
      triggers: {trigger: event, event_type: go}
      actions:
        - action: test.record
          data: {version: 1}
    """
    _write(config_dir, {"configuration.yaml": "automations: !include automations.yaml\n",
                        "automations.yaml": delayed})
    hub.states.async_set("binary_sensor.smoke", "off")
    raw = load_configuration(config_dir)
    await automations.async_setup(hub, {"automations": raw["automations"]})
    await hub.async_start()
    hub.bus.async_fire("go")
    hub.states.async_set("binary_sensor.smoke", "on")
    await settle()
    assert calls.data() == [{"version": 1}]

    # an invalid file: nothing changes, the error names the file and line
    (config_dir / "automations.yaml").write_text(textwrap.dedent(delayed).replace("version: 1", "version: 2")
                                                 + "- id: broken\n  triggers: {trigger: nope}\n  actions: []\n")
    with pytest.raises(HubError, match=r"automations.yaml:\d+"):
        await hub.services.async_call("automation", "reload", {})
    hub.bus.async_fire("go")
    await settle()
    assert calls.data()[-1] == {"version": 1}

    # a valid change: only the changed automation is replaced
    (config_dir / "automations.yaml").write_text(textwrap.dedent(delayed).replace("version: 1", "version: 2"))
    result = await hub.services.async_call("automation", "reload", {}, return_response=True)
    assert result == {"loaded": 3, "unchanged": 2, "added_or_changed": 1, "removed": 0}
    hub.bus.async_fire("go")
    await settle()
    assert calls.data()[-1] == {"version": 2}
    await fake_clock.async_advance(600)
    done = [c["done"] for c in calls.data() if "done" in c]
    assert done == ["pending_for", "long_run"]  # the pending `for:` and the delayed run survived


async def test_default_reload_reads_configuration_yaml(hub: Hub, calls: Calls, config_dir: Path) -> None:
    _write(config_dir, {"configuration.yaml": "automations: []\n"})
    await automations.async_setup(hub, {"automations": []})
    await hub.async_start()
    _write(config_dir, {"configuration.yaml": "automations: !include_dir_merge_list automations/\n",
                        "automations/fire.yaml": GOOD})
    await hub.services.async_call("automation", "reload", {})
    assert hub.states.get("automation.fire_alarm").state == "on"
    _write(config_dir, {"configuration.yaml": "automations: []\n"})
    await hub.services.async_call("automation", "reload", {})
    assert hub.states.get("automation.fire_alarm") is None


async def test_duplicate_ids_and_unknown_platform(hub: Hub) -> None:
    errors = automations.check_config({"automations": [
        {"id": "x", "triggers": {"trigger": "event", "event_type": "a"}, "actions": []},
        {"id": "x", "triggers": {"trigger": "event", "event_type": "a"}, "actions": []},
        {"id": "y", "triggers": {"trigger": "teleport"}, "actions": []},
        {"id": "z", "trigger": {"trigger": "event", "event_type": "a"}, "action": {"bogus": 1}},
    ]})
    assert len(errors) == 3
    assert "already used" in errors[0]
    assert "unknown trigger platform 'teleport'" in errors[1]
    assert "unknown action" in errors[2]


async def test_script_entity_turn_on_off_and_modes(hub: Hub, calls: Calls, setup: Setup,
                                                   fake_clock: FakeClock) -> None:
    await setup(scripts={
        "patrol_lights": {"mode": "single", "sequence": [record(n="{{ n | default(0) }}"), {"delay": 60},
                                                         record(done=True)]},
    })
    assert hub.states.get("script.patrol_lights").state == "off"
    await hub.services.async_call("script", "turn_on", {"entity_id": "script.patrol_lights",
                                                        "variables": {"n": 7}})
    await settle()
    assert hub.states.get("script.patrol_lights").state == "on"
    assert calls.data() == [{"n": 7}]
    with pytest.raises(HubError, match="already running"):
        await hub.services.async_call("script", "patrol_lights", {})
    await hub.services.async_call("script", "turn_off", {"entity_id": "script.patrol_lights"})
    await settle()
    assert hub.states.get("script.patrol_lights").state == "off"
    await fake_clock.async_advance(120)
    assert calls.data() == [{"n": 7}]
    traces = get_trace_store(hub).traces("script.patrol_lights")
    assert traces[0]["execution"] == "cancelled"


async def test_reserved_and_invalid_script_names() -> None:
    errors = automations.check_config({"script": {"reload": {"sequence": []}, "Bad Name": {"sequence": []}}})
    assert any("'reload' is a script service" in e for e in errors)
    assert any("script names are slugs" in e for e in errors)
