"""Which top-level keys of configuration.yaml hold automations: `automation:`, `automations:`, `automation ui:`.

Home Assistant merges every `automation <label>:` list with `automation:` (the UI editor writes
`automation ui: !include automations.yaml` next to hand-written lists); Hacho does the same, in
the order the keys appear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SCRIPT_SECTION", "automation_keys", "is_automation_key", "is_automation_section"]

SCRIPT_SECTION = "script"
_AUTOMATION_KEY = re.compile(r"^automations?( +\S.*)?$")


def is_automation_key(key: Any) -> bool:
    """`automation`, `automations`, or either followed by a space and a label."""
    return isinstance(key, str) and _AUTOMATION_KEY.match(key) is not None


def is_automation_section(key: Any) -> bool:
    """An automation key or `script` (the sections the automation engine reads)."""
    return key == SCRIPT_SECTION or is_automation_key(key)


def automation_keys(config: Mapping[Any, Any]) -> list[str]:
    """The automation keys of `config`, in order."""
    return [key for key in config if is_automation_key(key)]
