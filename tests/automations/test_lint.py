"""`hacho lint`: warnings for valid configurations that will not do what their author thinks."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import orjson

import automations
from automations.lint import lint_config
from hub.clock import FakeClock
from hub.config.core import load_configuration
from hub.core import Hub

T0 = 1767268800.0  # 2026-01-01 12:00 UTC

SITE = """\
hub:
  name: Lint
automations: !include automations.yaml
"""

AUTOMATIONS = """\
- id: door_never
  triggers:
    - trigger: state
      entity_id: sensor.wind
      from: "on"
      to: "on"
    - trigger: numeric_state
      entity_id: sensor.wind
      above: 50
      below: 10
    - trigger: sun
      event: sunset
    - trigger: time
      at: input_datetime.nobody
  actions:
    - action: test.record
      target:
        entity_id: light.kitchen
    - action: test.record
      data:
        wind: "{{ states('sensor.wnid') }} {{ states.sensor.wind.state }}"
- id: slow
  mode: single
  triggers:
    - trigger: event
      event_type: go
  actions:
    - delay: 60
"""


async def run_site_once(config_dir: Path) -> None:
    """Run the site on a hub with its recorder: `slow` is triggered three times while its first run waits."""
    from hub.recorder import async_setup_recorder

    hub = Hub(config_dir, clock=FakeClock(T0))
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{config_dir / 'hacho.db'}", "commit_interval": 3600})
    raw = load_configuration(config_dir)
    hub.services.async_register("test", "record", lambda call: None)
    await automations.async_setup(hub, {"automations": raw["automations"]})
    await hub.async_start()
    for _ in range(3):
        hub.bus.async_fire("go")
        await asyncio.sleep(0)
    await hub.async_block_till_done()
    await hub.async_stop()


async def test_lint_warns_about_what_cannot_work(tmp_path: Path) -> None:
    config_dir = tmp_path / "site"
    (config_dir / ".storage").mkdir(parents=True)
    (config_dir / "configuration.yaml").write_text(SITE, encoding="utf-8")
    (config_dir / "automations.yaml").write_text(AUTOMATIONS, encoding="utf-8")
    registry = {"version": 1, "key": "core.entity_registry",
                "data": {"entities": [{"entity_id": "sensor.wind", "platform": "mqtt", "unique_id": "w"}]}}
    (config_dir / ".storage" / "core.entity_registry.json").write_bytes(orjson.dumps(registry))
    await run_site_once(config_dir)

    errors, warnings = lint_config(config_dir, T0 + 120)  # blocking, as the CLI runs it
    assert errors == []
    text = "\n".join(warnings)
    where = f"{config_dir / 'automations.yaml'}"
    assert f"{where}:3: [automation 'door_never'] 'triggers[0]': this trigger can never fire: 'from' and 'to'" \
           in text
    assert f"{where}:7: [automation 'door_never'] 'triggers[1]': this trigger can never fire: no value is above 50" \
           in text
    assert "'triggers[2]': this trigger can never fire: the hub: section gives no latitude" in text
    assert f"{where}:18: [automation 'door_never'] 'actions[0].target.entity_id': 'light.kitchen': no integration" \
           in text
    assert f"{where}:21: [automation 'door_never'] 'actions[1].data.wind': the template reads 'sensor.wnid': " \
           "not in the entity registry" in text
    assert not any("'sensor.wind'" in warning for warning in warnings)  # registered: read literally or as states.x
    assert f"{where}:23: [automation 'slow'] 'mode': 2 run(s) in the last day were skipped" in text
    assert (f"{where}:14: [automation 'door_never'] 'triggers[3].at': 'input_datetime.nobody': "
            "not in the entity registry") in text
    assert len(warnings) == 7, text


def test_lint_cli_json(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    config_dir = tmp_path / "site"
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text(SITE, encoding="utf-8")
    (config_dir / "automations.yaml").write_text(textwrap.dedent("""\
        - id: t
          triggers: {trigger: template, value_template: "true"}
          actions: {action: test.record}
        """), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "hacho", "lint", "-c", str(config_dir), "--format", "json"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)},
                            cwd=root, timeout=120, check=False)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["errors"] == 0 and document["warnings"] == 1
    (problem,) = document["problems"]
    assert problem["severity"] == "warning" and problem["line"] == 2
    assert problem["key_path"] == "automation 't'/triggers[0]"
    assert "value_template has no {{ }}" in problem["message"]
