"""Spanish first: every string of the screens is in the catalogue with a Spanish translation, no template shows
text outside the translation call, values are formatted in the reader's locale, and each user's choice of
language is remembered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po
from markupsafe import Markup

from frontend.formatting import Formatter
from frontend.i18n import extract_catalogue, load_catalogues, po_path
from frontend.templating import TEMPLATE_DIR
from hub.auth.users import list_users

from .conftest import MakeClient
from .site import LOCAL, Site

# Text a template may show as it is: symbols, units and the table's row-number heading.
_NEUTRAL = re.compile(r"^[\s#+·:,.()/→←↑↓…—\-]*(ms|s)?[\s#+·:,.()/→←↑↓…—\-]*$")
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_TEXT_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt", "data-question", "label"})


class _VisibleText(HTMLParser):
    """Collects the text and the text attributes a reader sees (not scripts or styles)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in _TEXT_ATTRIBUTES and value and not _NEUTRAL.match(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and not _NEUTRAL.match(data):
            self.found.append(data.strip())


def untranslated_text(source: str) -> list[str]:
    """Visible text of a template source outside `{{ ... }}` (so outside `_()`)."""
    parser = _VisibleText()
    parser.feed(_JINJA.sub(" ", source))
    return parser.found


def test_every_string_has_a_spanish_translation() -> None:
    template = extract_catalogue()
    with po_path("es").open("rb") as source:
        spanish = read_po(source, locale="es")
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = spanish.get(message.id)
        strings = translated.string if translated is not None else None
        if not strings or (isinstance(strings, tuple) and not all(strings)) or (
                translated is not None and translated.fuzzy):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert len(template) > 250  # templates, scripts and Python all extracted
    assert missing == [], f"no Spanish for {missing} (run tools/i18n_update.py and translate)"
    # placeholders survive the translation (Babel's checkers: python-format, plurals)
    problems = [(message.id, errors) for message, errors in spanish.check() if errors]
    assert problems == []
    for message in spanish:
        if isinstance(message.id, str) and isinstance(message.string, str) and "{" in message.id:
            assert set(re.findall(r"\{\w+\}", message.id)) == set(re.findall(r"\{\w+\}", message.string)), message.id


def test_every_translation_is_still_extracted() -> None:
    """A translated message the extraction no longer sees is one that tools/i18n_update.py would drop (the
    incident report's f-strings and words shown through `_(variable)` once were)."""
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract_catalogue() if m.id}
    with po_path("es").open("rb") as source:
        spanish = read_po(source, locale="es")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in spanish if m.id}
    assert sorted(translated - extracted) == []


def test_untranslated_text_is_found() -> None:
    """The scanner below catches what it should (so its empty answer means something)."""
    assert untranslated_text("<h1>Alarms</h1>") == ["Alarms"]
    assert untranslated_text('<input placeholder="Note">') == ["<input placeholder='Note'>"]
    assert untranslated_text('<h1>{{ _("Alarms") }} · {{ centre.name }}</h1><td>+{{ n }} ms</td>') == []


def test_templates_show_no_text_outside_the_translation_call() -> None:
    found = {path.name: text for path in sorted(TEMPLATE_DIR.glob("*.html"))
             if (text := untranslated_text(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_scripts_show_no_literal_english() -> None:
    """A literal string handed to the page as text (`text: "..."`, toast("...")) must go through t()."""
    literal = re.compile(r'(?:text:\s*|toast\(|textContent\s*=\s*|push\()(["`])[A-Za-z][a-z]+ [^"`]*\1')
    found = {path.name: literal.findall(path.read_text(encoding="utf-8"))
             for path in sorted((TEMPLATE_DIR.parent / "static" / "js").glob("*.js"))}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_formatting_in_spanish_and_the_site_time_zone() -> None:
    spanish = Formatter(load_catalogues().get("es"), ZoneInfo("Europe/Madrid"), None)
    noon_utc = datetime(2026, 12, 6, 12, 0, 5, tzinfo=UTC)
    assert spanish.when(noon_utc) == "6 dic 2026, 13:00:05"  # CET is UTC+1
    assert spanish.when(noon_utc.isoformat()) == "6 dic 2026, 13:00:05"
    assert spanish.when(datetime(2026, 7, 1, 12, 0, tzinfo=UTC).timestamp()) == "1 jul 2026, 14:00:00"  # CEST
    assert spanish.ago(noon_utc - timedelta(minutes=3), now=noon_utc) == "hace 3 min"
    assert spanish.number(1234.5) == "1234,5" or spanish.number(1234.5) == "1.234,5"
    assert spanish.quantity("21.5", "µg/m³") == "21,5\u00a0µg/m³"
    # counts in words, a state that is no number as its word and without the unit
    assert spanish.quantity("12", "vehicles") == "12\u00a0vehículos"
    assert spanish.quantity("340", "vehicles/h") == "340\u00a0vehículos/h"
    assert spanish.quantity("unknown", "km/h") == "desconocido"
    assert spanish.quantity("unavailable", "%") not in ("unavailable", "unavailable\u00a0%")
    assert spanish.value(None) == "—" and spanish.value(True) == "sí" and spanish.value(False) == "no"
    assert spanish.value(["B-05", "B-07"]) == Markup('<ul class="plain"><li>B-05</li><li>B-07</li></ul>')
    assert spanish.value({"a_b": None}) == Markup('<dl class="kv inner"><dt>a b</dt><dd>—</dd></dl>')
    assert spanish.label("in_progress") == "en curso" and spanish.label("raised") == "disparada"
    assert spanish.label("raised", "bollard") == "subido" and spanish.label("lowered", "bollard") == "bajado"
    english = Formatter(load_catalogues().get("en"), ZoneInfo("Europe/Madrid"), None)
    assert english.ago(noon_utc - timedelta(minutes=3), now=noon_utc) == "3 min. ago"
    assert english.value(True) == "yes" and english.label("in_progress") == "in_progress"


async def test_spanish_by_default_and_each_users_choice_remembered(site: Site, make_client: MakeClient) -> None:
    operator = await make_client("op_local")
    status, page = await operator.get(f"/c/{LOCAL}/")
    assert status == 200 and '<html lang="es">' in page and ">Alarmas</a>" in page
    async with operator.session.post(operator.url("/language"), data={
            "language": "en", "next": f"/c/{LOCAL}/devices", "csrf_token": operator.csrf}) as resp:
        assert resp.status == 200 and resp.url.path == f"/c/{LOCAL}/devices"
        page = await resp.text()
    assert '<html lang="en">' in page and ">Devices</h1>" in page
    stored = {user.id: user.language for user in await site.hub.async_add_executor_job(list_users, site.hub.config_dir)}
    assert stored["op_local"] == "en" and stored["op_local2"] is None
    # remembered across sessions; other users keep the site's language
    again = await make_client("op_local")
    assert ">Devices</h1>" in (await again.get(f"/c/{LOCAL}/devices"))[1]
    other = await make_client("op_local2")
    assert ">Dispositivos</h1>" in (await other.get(f"/c/{LOCAL}/devices"))[1]
    # a language that is not offered is refused, and changes nothing
    async with operator.session.post(operator.url("/language"), data={
            "language": "xx", "csrf_token": operator.csrf}) as resp:
        assert resp.status == 400
    assert ">Devices</h1>" in (await again.get(f"/c/{LOCAL}/devices"))[1]


def test_catalogue_paths() -> None:
    assert po_path("es") == Path(TEMPLATE_DIR.parent / "locale" / "es" / "LC_MESSAGES" / "messages.po")
