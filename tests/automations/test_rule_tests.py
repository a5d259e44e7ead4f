"""The rule-test harness behind `hacho test-automations`, on the Ceuta site and on small sites."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from automations.rule_tests import async_run_rule_tests
from hub.clock import FakeClock
from hub.core import Hub

CEUTA = Path(__file__).resolve().parents[2] / "config" / "ceuta"


async def run(config_dir: Path, tests: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = await async_run_rule_tests(config_dir, tests, out)
    return code, out.getvalue()


async def test_ceuta_automations_pass_their_rule_tests() -> None:
    code, output = await run(CEUTA, CEUTA / "tests" / "automations.yaml")
    assert code == 0, output
    assert "0 failed" in output and "FAIL" not in output


def site(tmp_path: Path, automations: str, tests: str) -> tuple[Path, Path]:
    (tmp_path / "configuration.yaml").write_text("automations: !include automations.yaml\n")
    (tmp_path / "automations.yaml").write_text(textwrap.dedent(automations))
    path = tmp_path / "tests.yaml"
    path.write_text(textwrap.dedent(tests))
    return tmp_path, path


BOLLARD = """\
- id: raise_bollards
  triggers: {trigger: event, event_type: ramming_alert}
  actions:
    - action: bollard.raise
      data: {entity_id: "bollard.b{{ trigger.event.data.gate }}"}
    - delay: "00:00:30"
    - action: panel.display
      data: {entity_id: panel.gate, lines: ["CERRADO"]}
"""


async def test_failure_is_reported_with_the_step_and_the_calls(tmp_path: Path) -> None:
    config_dir, tests = site(tmp_path, BOLLARD, """\
    tests:
      - name: ok
        steps:
          - event: ramming_alert
            data: {gate: 7}
          - expect: {calls: [{action: bollard.raise, data: {entity_id: bollard.b7}}], only: true}
          - advance: 30
          - expect: {calls: [{action: panel.display}], only: true}
      - name: wrong gate
        steps:
          - event: ramming_alert
            data: {gate: 7}
          - expect: {calls: [{action: bollard.raise, data: {entity_id: bollard.b8}}]}
    """)
    code, output = await run(config_dir, tests)
    assert code == 1
    assert "PASS  ok" in output
    assert "FAIL  wrong gate" in output
    assert "step 2 (expect): expected call bollard.raise {'entity_id': 'bollard.b8'}" in output
    assert "bollard.raise {'entity_id': 'bollard.b7'}" in output


async def test_invalid_automation_or_test_file_is_exit_2(tmp_path: Path) -> None:
    config_dir, tests = site(tmp_path, BOLLARD.replace("delay: \"00:00:30\"", "delay: soon"), """\
    tests:
      - name: x
        steps: [{teleport: 1}]
    """)
    code, output = await run(config_dir, tests)
    assert code == 2
    assert "automations.yaml:6:" in output and "delay" in output
    assert "tests.yaml:3:" in output


async def test_replay_recorded_history(tmp_path: Path) -> None:
    from hub.recorder import async_setup_recorder, get_recorder

    db = tmp_path / "history.db"
    clock = FakeClock(1_767_268_800.0)
    hub = Hub(tmp_path / "recording", clock=clock)
    (tmp_path / "recording").mkdir()
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{db}", "commit_interval": 3600})
    for offset, value in ((0, "40"), (60, "72"), (120, "50"), (180, "90")):
        hub.states.async_set("sensor.port_wind_gust", value, timestamp=clock.time() + offset)
    await get_recorder(hub).async_flush()
    await hub.async_stop()

    config_dir, tests = site(tmp_path, """\
    - id: gust
      triggers: {trigger: numeric_state, entity_id: sensor.port_wind_gust, above: 70}
      actions: [{action: panel.display, data: {lines: ["{{ trigger.to_state.state }}"]}}]
    """, f"""\
    tests:
      - name: replay a windy afternoon
        steps:
          - replay: {{db_url: "sqlite:///{db}", entity_ids: [sensor.port_wind_gust],
                      start: "2026-01-01T11:59:00+00:00"}}
          - expect:
              calls: [{{action: panel.display, data: {{lines: [72]}}}},
                      {{action: panel.display, data: {{lines: [90]}}}}]
              only: true
    """)
    code, output = await run(config_dir, tests)
    assert code == 0, output
