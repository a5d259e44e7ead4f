"""Merge the frontend's strings into its .po files: `python tools/i18n_update.py`.

New strings arrive with an empty translation (tests/frontend/test_i18n.py then fails until someone writes
it); strings no longer used are dropped. The .po files are compiled when the hub starts (frontend/i18n.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from babel.messages.pofile import read_po, write_po

from frontend.i18n import SUPPORTED_LANGUAGES, extract_catalogue, po_path


def main() -> int:
    template = extract_catalogue()
    for language in SUPPORTED_LANGUAGES:
        if language == "en":
            continue  # the msgids are English
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            with path.open("rb") as source:
                catalog = read_po(source, locale=language)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=language, project="Hacho", domain="messages")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as target:
            write_po(target, catalog, width=0, omit_header=False, sort_output=True, include_lineno=False)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{path}: {len(catalog)} messages, {len(missing)} without a translation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
