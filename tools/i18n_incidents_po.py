"""Write frontend/translations/incidents.es.po from incidents.es.json (the same pairs, for the Babel catalogue).

Usage: python tools/i18n_incidents_po.py
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["main", "po_text"]

FOLDER = Path(__file__).resolve().parents[1] / "frontend" / "translations"
HEADER = [
    "# Spanish for the plate search, incident, shift log and alarm evidence screens and the incident PDF.",
    "# Generated from incidents.es.json (the same pairs) by tools/i18n_incidents_po.py; merge with:",
    "#   msgcat --use-first frontend/locale/es/LC_MESSAGES/messages.po frontend/translations/incidents.es.po \\",
    "#     -o frontend/locale/es/LC_MESSAGES/messages.po",
    'msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=utf-8\\n"', '"Language: es\\n"', "",
]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def po_text(pairs: dict[str, str]) -> str:
    """The .po file of `pairs` (msgid -> msgstr), sorted by msgid."""
    lines = list(HEADER)
    for msgid in sorted(pairs):
        lines += [f"msgid {_quote(msgid)}", f"msgstr {_quote(pairs[msgid])}", ""]
    return "\n".join(lines)


def main() -> None:
    pairs = json.loads((FOLDER / "incidents.es.json").read_text(encoding="utf-8"))
    pairs.pop("_comment", None)
    (FOLDER / "incidents.es.po").write_text(po_text(pairs), encoding="utf-8")


if __name__ == "__main__":
    main()
