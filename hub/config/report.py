"""Configuration errors as records for editors and CI: file, line, column, key path, message, severity.

Every error the validators produce is one line `file:line[:column]: [section] 'key.path': message`
(see hub.config.validation.humanize_error and the YAML loader); `parse_error` splits one back into
its parts, and a line without a location keeps it all in `message`.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["parse_error", "report"]

_LINE = re.compile(
    r"^(?P<file>[^\n]+?):(?P<line>\d+)(?::(?P<column>\d+))?: "
    r"(?:\[(?P<section>[^\]]+)\] )?(?:'(?P<path>[^']*)': )?(?P<message>.*)$", re.DOTALL)
_SECTION_ONLY = re.compile(r"^\[(?P<section>[^\]]+)\] (?:'(?P<path>[^']*)': )?(?P<message>.*)$", re.DOTALL)


def parse_error(text: str, severity: str = "error") -> dict[str, Any]:
    """One error line as {file, line, column, key_path, message, severity} (None where not known)."""
    record: dict[str, Any] = {"file": None, "line": None, "column": None, "key_path": None,
                              "message": text, "severity": severity}
    match = _LINE.match(text) or _SECTION_ONLY.match(text)
    if match is None:
        return record
    groups = match.groupdict()
    if groups.get("file"):
        record["file"] = groups["file"]
        record["line"] = int(groups["line"])
        record["column"] = int(groups["column"]) if groups.get("column") else None
    parts = [part for part in (groups.get("section"), groups.get("path")) if part]
    record["key_path"] = "/".join(parts) or None
    record["message"] = groups["message"]
    return record


def report(errors: list[str], warnings: list[str] | None = None) -> dict[str, Any]:
    """The JSON document `hacho check-config --format json` prints."""
    items = [parse_error(error) for error in errors]
    items += [parse_error(warning, "warning") for warning in warnings or []]
    return {"valid": not errors, "errors": len(errors), "warnings": len(warnings or []), "problems": items}
