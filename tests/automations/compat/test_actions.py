"""Home Assistant actions and script features, as its documentation writes them, run on the real hub."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from automations.trace import get_trace_store
from hub.clock import FakeClock
from hub.core import Event, Hub, callback

from ..conftest import Calls
from .conftest import LoadHa, config_errors, settle

ON_GO = """\
- id: a
  triggers:
    - trigger: event
      event_type: go
  actions:
"""


def on_go(actions: str, **top: str) -> str:
    """An automation fired by the `go` event, with `actions` (YAML indented by four) and top-level keys."""
    extra = "".join(f"  {key}: {value}\n" for key, value in top.items())
    return ON_GO.replace("  actions:\n", extra + "  actions:\n") + actions


async def go(hub: Hub, **data: object) -> None:
    hub.bus.async_fire("go", data)
    await settle()


async def test_action_literal_target_entity_id(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """The fixed `target: entity_id:` reaches the service as entity ids, not as Template objects."""
    await ha(on_go("""\
    - action: test.record
      target:
        entity_id: lock.my_place
    - action: test.record
      target:
        entity_id:
          - lock.front
          - lock.back
    - action: test.record
      entity_id: lock.side
      data:
        code: "{{ 1 + 1 }}"
"""))
    await go(hub)
    assert calls.data() == [{"entity_id": "lock.my_place"}, {"entity_id": ["lock.front", "lock.back"]},
                            {"entity_id": "lock.side", "code": 2}]
    assert all(type(call.data["entity_id"]) in (str, list) for call in calls)


async def test_action_automation_turn_off_literal_target(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """`automation.turn_off` with a literal target turns the automation off (it stayed on before)."""
    await ha(on_go("""\
    - action: test.record
    - action: automation.turn_off
      target:
        entity_id: automation.a
"""))
    await go(hub)
    assert hub.states.get("automation.a").state == "off"
    await go(hub)
    assert len(calls) == 1  # off: the second `go` does not run it


async def test_action_templated_service_name(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - action: "{{ notification_service }}"
      target:
        entity_id: panel.port_1
      data:
        message: Viento fuerte
""", variables="{notification_service: test.record}"))
    await go(hub)
    assert calls.data() == [{"entity_id": "panel.port_1", "message": "Viento fuerte"}]


async def test_action_metadata_key(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """Home Assistant's editor writes `metadata: {}` on each step."""
    await ha(on_go("""\
    - action: test.record
      metadata: {}
      data:
        ok: true
"""))
    await go(hub)
    assert calls.data() == [{"ok": True}]


async def test_automation_hide_entity_deprecated(hub: Hub, calls: Calls, ha: LoadHa,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await ha(on_go("    - action: test.record\n", hide_entity="true"))
    assert any("'hide_entity' is deprecated" in record.message and "automations.yaml:" in record.message
               for record in caplog.records)
    await go(hub)
    assert len(calls) == 1


async def test_action_event(hub: Hub, ha: LoadHa) -> None:
    seen: list[Event] = []
    hub.bus.async_listen("panel_warning", callback(seen.append))
    await ha(on_go("""\
    - event: panel_warning
      event_data:
        zone: "{{ trigger.event.data.zone }}"
"""))
    await go(hub, zone="hacho")
    assert [dict(event.data) for event in seen] == [{"zone": "hacho"}]


async def test_action_delay(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    await ha(on_go("""\
    - delay:
        minutes: 5
    - action: test.record
"""))
    await go(hub)
    await fake_clock.async_advance(299)
    assert calls == []
    await fake_clock.async_advance(1)
    assert len(calls) == 1


async def test_action_wait_template(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - wait_template: "{{ is_state('binary_sensor.gate', 'on') }}"
    - action: test.record
      data:
        completed: "{{ wait.completed }}"
"""))
    await go(hub)
    assert calls == []
    hub.states.async_set("binary_sensor.gate", "on")
    await settle()
    assert calls.data() == [{"completed": True}]


async def test_action_wait_for_trigger(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    await ha(on_go("""\
    - wait_for_trigger:
        - trigger: state
          entity_id: binary_sensor.gate
          to: "on"
      timeout: "00:01:00"
      continue_on_timeout: true
    - action: test.record
      data:
        fired: "{{ wait.trigger is not none }}"
"""))
    await go(hub)
    await fake_clock.async_advance(60)
    assert calls.data() == [{"fired": False}]


async def test_action_choose(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - choose:
        - conditions: "{{ trigger.event.data.level > 5 }}"
          sequence:
            - action: test.record
              data: {branch: high}
      default:
        - action: test.record
          data: {branch: low}
"""))
    await go(hub, level=9)
    await go(hub, level=1)
    assert calls.data() == [{"branch": "high"}, {"branch": "low"}]


async def test_action_if_then_else(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    hub.states.async_set("sensor.wind", "80")
    await ha(on_go("""\
    - if:
        - condition: numeric_state
          entity_id: sensor.wind
          above: 60
      then:
        - action: test.record
          data: {gale: true}
      else:
        - action: test.record
          data: {gale: false}
"""))
    await go(hub)
    assert calls.data() == [{"gale": True}]


async def test_action_repeat(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - repeat:
        for_each: [p1, p2]
        sequence:
          - action: test.record
            data: {panel: "{{ repeat.item }}", n: "{{ repeat.index }}"}
    - repeat:
        count: 2
        sequence:
          - action: test.record
            data: {count: "{{ repeat.index }}"}
"""))
    await go(hub)
    assert calls.data() == [{"panel": "p1", "n": 1}, {"panel": "p2", "n": 2}, {"count": 1}, {"count": 2}]


async def test_action_parallel(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock) -> None:
    await ha(on_go("""\
    - parallel:
        - sequence:
            - delay: 10
            - action: test.record
              data: {branch: slow}
        - action: test.record
          data: {branch: fast}
    - action: test.record
      data: {branch: after}
"""))
    await go(hub)
    await fake_clock.async_advance(10)
    await settle()
    assert calls.data() == [{"branch": "fast"}, {"branch": "slow"}, {"branch": "after"}]


async def test_action_variables_scope(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """Home Assistant 2025.4+: a variable set in an inner sequence is visible after it in the outer one."""
    await ha(on_go("""\
    - variables:
        level: 1
    - if: "{{ true }}"
      then:
        - variables:
            level: "{{ level + 1 }}"
    - action: test.record
      data: {level: "{{ level }}"}
"""))
    await go(hub)
    assert calls.data() == [{"level": 2}]


async def test_action_variables_scope_counter_in_repeat(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """The Home Assistant 2025.4 release example: a counter kept across repeat iterations."""
    await ha(on_go("""\
    - variables:
        hits: 0
    - repeat:
        for_each: [fire, smoke, fire, fire]
        sequence:
          - if: "{{ repeat.item == 'fire' }}"
            then:
              - variables:
                  hits: "{{ hits + 1 }}"
    - action: test.record
      data: {hits: "{{ hits }}"}
"""))
    await go(hub)
    assert calls.data() == [{"hits": 3}]


async def test_action_continue_on_error(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - action: nothing.here
      continue_on_error: true
    - action: test.record
      data: {after: true}
"""))
    await go(hub)
    assert calls.data() == [{"after": True}]


async def test_action_stop_response_variable(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - action: script.lookup
      response_variable: found
    - action: test.record
      data: {plate: "{{ found.plate }}"}
"""), scripts="""\
lookup:
  sequence:
    - variables:
        result: {plate: "1234ABC"}
    - stop: done
      response_variable: result
""")
    await go(hub)
    assert calls.data() == [{"plate": "1234ABC"}]


async def test_action_condition_template_shorthand(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """`- condition: "{{ ... }}"` and a bare `- "{{ ... }}"` step end the run when false."""
    await ha(on_go("""\
    - action: test.record
      data: {step: 1}
    - condition: "{{ trigger.event.data.go_on }}"
    - action: test.record
      data: {step: 2}
    - "{{ trigger.event.data.twice }}"
    - action: test.record
      data: {step: 3}
"""))
    await go(hub, go_on=False, twice=True)
    await go(hub, go_on=True, twice=False)
    await go(hub, go_on=True, twice=True)
    assert [call["step"] for call in calls.data()] == [1, 1, 2, 1, 2, 3]


@pytest.mark.parametrize("kind", ["or", "and", "not"])
async def test_action_or_and_not_shorthand(hub: Hub, calls: Calls, ha: LoadHa, kind: str) -> None:
    hub.states.async_set("binary_sensor.a", "on")
    hub.states.async_set("binary_sensor.b", "off")
    await ha(on_go(f"""\
    - {kind}:
        - condition: state
          entity_id: binary_sensor.a
          state: "on"
        - condition: state
          entity_id: binary_sensor.b
          state: "on"
    - action: test.record
"""))
    await go(hub)
    assert len(calls) == {"or": 1, "and": 0, "not": 0}[kind]


async def test_action_sequence_and_alias(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - alias: Tell both panels
      sequence:
        - action: test.record
          data: {panel: 1}
        - action: test.record
          data: {panel: 2}
"""))
    await go(hub)
    assert calls.data() == [{"panel": 1}, {"panel": 2}]
    assert get_trace_store(hub).traces("automation.a")[0]["execution"] == "finished"


async def test_action_unknown_step_reported_with_line(tmp_path: Path) -> None:
    errors = config_errors(tmp_path, on_go("    - actoin: test.record\n"))
    assert len(errors) == 1 and "automations.yaml:6" in errors[0] and "unknown action" in errors[0]


async def test_action_service_key_and_data_template(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """The older spellings `service:` and `data_template:` still call the service with the rendered data."""
    await ha(on_go("""\
    - service: test.record
      target:
        entity_id: panel.port_1
      data_template:
        gust: "{{ trigger.event.data.gust }}"
"""))
    await go(hub, gust=80)
    assert calls.data() == [{"entity_id": "panel.port_1", "gust": 80}]


async def test_action_condition_step(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """A `condition:` step that is false ends the run there."""
    hub.states.async_set("binary_sensor.gate", "off")
    await ha(on_go("""\
    - condition: state
      entity_id: binary_sensor.gate
      state: "on"
    - action: test.record
"""))
    await go(hub)
    assert calls == []
    hub.states.async_set("binary_sensor.gate", "on")
    await go(hub)
    assert len(calls) == 1


async def test_action_repeat_while_until(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    await ha(on_go("""\
    - repeat:
        while:
          - condition: template
            value_template: "{{ repeat.index <= 2 }}"
        sequence:
          - action: test.record
            data: {while: "{{ repeat.index }}"}
    - repeat:
        sequence:
          - action: test.record
            data: {until: "{{ repeat.index }}"}
        until:
          - "{{ repeat.index >= 3 }}"
"""))
    await go(hub)
    assert calls.data() == [{"while": 1}, {"while": 2}, {"until": 1}, {"until": 2}, {"until": 3}]


async def test_action_stop_error(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """`stop` ends the run; with `error: true` the run is recorded as failed, with the reason."""
    await ha(on_go("""\
    - action: test.record
    - stop: No wind sensor on the quay
      error: true
    - action: test.record
"""))
    await go(hub)
    assert len(calls) == 1
    trace = get_trace_store(hub).traces("automation.a")[0]
    assert trace["execution"] == "error" and "No wind sensor on the quay" in str(trace["error"])


async def test_action_enabled_false(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """A step (or a condition) with `enabled: false` is skipped."""
    await ha(on_go("""\
    - action: test.record
      enabled: false
      data: {step: 1}
    - condition: template
      value_template: "{{ false }}"
      enabled: false
    - action: test.record
      data: {step: 2}
"""))
    await go(hub)
    assert calls.data() == [{"step": 2}]


async def test_action_script_fields(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """`script.<name>` called as a service: its data are the script's variables.

    Different from Home Assistant, where `fields` only describe the script to the UI: a `default`
    fills a field the caller leaves out, and a `required` field left out refuses the call.
    """
    await ha(on_go("""\
    - action: script.announce
      data:
        panel: p1
    - action: script.announce
      data:
        text: no panel given
    - action: test.record
      data: {after: true}
"""), scripts="""\
announce:
  fields:
    panel:
      description: The message panel
      required: true
    text:
      description: What it shows
      default: Precaución
  sequence:
    - action: test.record
      data:
        panel: "{{ panel }}"
        text: "{{ text }}"
""")
    await go(hub)
    assert calls.data() == [{"panel": "p1", "text": "Precaución"}]
    trace = get_trace_store(hub).traces("automation.a")[0]
    assert trace["execution"] == "error" and "missing required field 'panel'" in str(trace["error"])


async def test_automation_keys(hub: Hub, calls: Calls, ha: LoadHa) -> None:
    """`id`, `alias`, `description`, `initial_state` and `trigger_variables`, as the UI editor writes them.

    Different from Home Assistant: the entity id comes from `id` (Home Assistant takes it from `alias`).
    """
    await ha("""\
- id: "1767268800001"
  alias: Night watch
  description: Records each round
  initial_state: false
  triggers:
    - trigger: event
      event_type: go
  actions:
    - action: test.record
      data: {who: night}
- id: patrol_round
  alias: Patrol round
  trigger_variables:
    round_event: go
  triggers:
    - trigger: event
      event_type: "{{ round_event }}"
  actions:
    - action: test.record
      data:
        who: "{{ this.attributes.friendly_name }}"
        id: "{{ this.attributes.id }}"
""")
    watch = hub.states.get("automation.1767268800001")
    assert watch is not None and watch.state == "off" and watch.attributes["friendly_name"] == "Night watch"
    assert hub.states.get("automation.night_watch") is None
    await go(hub)
    assert calls.data() == [{"who": "Patrol round", "id": "patrol_round"}]


async def test_automation_modes(hub: Hub, calls: Calls, ha: LoadHa, fake_clock: FakeClock,
                                caplog: pytest.LogCaptureFixture) -> None:
    """`mode` single/restart/queued/parallel with `max` and `max_exceeded`, three triggers in a row."""
    def auto(mode: str, extra: str = "") -> str:
        return f"""\
- id: {mode}
  mode: {mode}
{extra}  triggers:
    - trigger: event
      event_type: go
  actions:
    - delay: 10
    - action: test.record
      data: {{mode: {mode}, n: "{{{{ trigger.event.data.n }}}}"}}
"""
    await ha(auto("single", "  max_exceeded: silent\n") + auto("restart") + auto("queued", "  max: 2\n")
             + auto("parallel"))
    with caplog.at_level(logging.WARNING):
        for n in (1, 2, 3):
            await go(hub, n=n)
    await fake_clock.async_advance(10)
    await settle()
    assert sorted((call["mode"], call["n"]) for call in calls.data()) == [
        ("parallel", 1), ("parallel", 2), ("parallel", 3), ("queued", 1), ("restart", 3), ("single", 1)]
    await fake_clock.async_advance(10)
    await settle()
    assert [call["n"] for call in calls.data() if call["mode"] == "queued"] == [1, 2]
    exceeded = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("queued" in message for message in exceeded)
    assert not any("single" in message for message in exceeded)  # max_exceeded: silent
