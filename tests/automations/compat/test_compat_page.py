"""docs/ha-compatibility.md stays true: its rows name tests that exist, and no Home Assistant construct is missing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[3]
PAGE = ROOT / "docs" / "ha-compatibility.md"
COMPAT = Path(__file__).parent
STATUSES = {"same", "different", "not supported"}

# What Home Assistant documents (automation triggers and conditions, script syntax, YAML tags, helpers).
EXPECTED = {
    "Triggers": ["calendar", "conversation", "device", "event", "geo_location", "homeassistant", "mqtt",
                 "numeric_state", "persistent_notification", "state", "sun", "tag", "template", "time",
                 "time_pattern", "webhook", "zone"],
    "Conditions": ["and", "or", "not", "device", "numeric_state", "state", "sun", "template", "time", "trigger",
                   "zone"],
    "Actions and script features": ["action:", "event", "delay", "wait_template", "wait_for_trigger", "condition:",
                                    "choose", "if", "repeat", "parallel", "sequence", "variables", "stop",
                                    "continue_on_error", "enabled", "response_variable", "set_conversation_response",
                                    "scene:", "mode", "use_blueprint:", "metadata"],
    "Helpers": ["input_boolean", "input_number", "input_select", "input_text", "input_datetime", "input_button",
                "counter", "timer", "template:"],
    "YAML tags": ["!include", "!include_dir_list", "!include_dir_named", "!include_dir_merge_list",
                  "!include_dir_merge_named", "!secret", "!env_var", "!input"],
}


def _rows() -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current = ""
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif line.startswith("|") and not line.startswith("|---") and not line.startswith("| construct"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            assert len(cells) == 4, f"{PAGE.name}: a row needs 4 cells: {line}"
            sections[current].append(cells)
    return sections


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in COMPAT.glob("test_*.py"):
        names.update(re.findall(r"^\s*(?:async\s+)?def\s+(test_\w+)", path.read_text(encoding="utf-8"), re.M))
    return names


def test_every_row_names_a_real_test_or_says_why() -> None:
    tests = _test_names()
    problems = []
    for section, rows in _rows().items():
        for construct, status, how, test in rows:
            where = f"[{section}] {construct}"
            if status not in STATUSES:
                problems.append(f"{where}: status {status!r} is not one of {sorted(STATUSES)}")
            elif status == "same" and test not in tests:
                problems.append(f"{where}: same, but the test {test!r} does not exist in {COMPAT}")
            elif status == "different" and (not how or (test and test not in tests)):
                problems.append(f"{where}: different needs a how, and its test {test!r} must exist")
            elif status == "not supported" and not how:
                problems.append(f"{where}: not supported needs a why")
    assert not problems, "\n".join(problems)


def test_every_home_assistant_construct_has_a_row() -> None:
    sections = _rows()
    missing = []
    for section, names in EXPECTED.items():
        constructs = " ".join(row[0] for row in sections.get(section, []))
        missing.extend(f"[{section}] {name}" for name in names if f"`{name}" not in constructs)
    assert not missing, missing
