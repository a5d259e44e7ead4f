"""`hacho check-config`: every error of every file in one run, also as JSON for editors and CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hacho.bootstrap import check_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A configuration whose automations are split over files: two broken YAML, one invalid automation."""
    config = tmp_path / "site"
    (config / "automations").mkdir(parents=True)
    (config / "configuration.yaml").write_text(textwrap.dedent("""\
        hub:
          name: Test
        automations: !include_dir_merge_list automations
        script: !include scripts.yaml
        """), encoding="utf-8")
    (config / "automations" / "a_broken.yaml").write_text(textwrap.dedent("""\
        - id: broken
          triggers:
            - trigger: event
              event_type: go
           actions: []
        """), encoding="utf-8")
    (config / "automations" / "b_invalid.yaml").write_text(textwrap.dedent("""\
        - id: invalid
          triggers:
            - trigger: event
              event_type: go
          actions:
            - action: test.record
              data:
                value: "{{ states('sensor.x') | flaot }}"
        - id: fine
          triggers:
            - trigger: event
              event_type: go
          actions:
            - delay: nope
        """), encoding="utf-8")
    (config / "scripts.yaml").write_text("patrol:\n  sequence: [\n", encoding="utf-8")
    return config


def test_check_config_reports_every_file(site: Path) -> None:
    """A YAML syntax error stops only its own file: the other files are still loaded and validated."""
    errors = check_config(site)
    assert len(errors) == 4, errors
    text = "\n".join(errors)
    assert f"{site / 'automations' / 'a_broken.yaml'}:5:" in text  # YAML syntax error, with line
    assert f"{site / 'scripts.yaml'}:" in text and "invalid YAML" in text
    assert f"{site / 'automations' / 'b_invalid.yaml'}:8: [automation 'invalid']" in text
    assert "unknown filter 'flaot'" in text
    assert f"{site / 'automations' / 'b_invalid.yaml'}:14: [automation 'fine'] 'actions[0].delay'" in text


def test_check_config_format_json(site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "hacho", "check-config", "-c", str(site), "--format", "json"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["valid"] is False and document["errors"] == 4
    by_file = {(Path(p["file"]).name, p["line"]): p for p in document["problems"]}
    delay = by_file[("b_invalid.yaml", 14)]
    assert delay["key_path"] == "automation 'fine'/actions[0].delay"
    assert delay["severity"] == "error" and "time period" in delay["message"]
    broken = by_file[("a_broken.yaml", 5)]
    assert broken["column"] == 4 and broken["key_path"] is None and "invalid YAML" in broken["message"]
    assert {"file", "line", "column", "key_path", "message", "severity"} <= set(broken)
