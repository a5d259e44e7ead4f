"""The screens' languages: one message catalogue (gettext .po files under frontend/locale/), Spanish first.

Source strings are English (the msgids); `frontend/locale/<lang>/LC_MESSAGES/messages.po` translates them.
The .po files are compiled in memory at load (Babel), so there is no build step. Templates use Jinja2's
i18n extension (`{{ _("...") }}`, `{% trans %}`), Python marks strings with `N_` and translates them when
it renders, and the scripts get the strings they use (`t("...")` in frontend/static/js) as a JSON
catalogue in the page. tests/frontend/test_i18n.py fails on a string without a Spanish translation.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Final

from babel import Locale
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = [
    "DEFAULT_LANGUAGE",
    "JS_DIR",
    "LANGUAGE_NAMES",
    "LOCALE_DIR",
    "N_",
    "SUPPORTED_LANGUAGES",
    "Catalogues",
    "js_msgids",
    "load_catalogues",
]

LOCALE_DIR: Final = Path(__file__).parent / "locale"
JS_DIR: Final = Path(__file__).parent / "static" / "js"
DOMAIN: Final = "messages"
SUPPORTED_LANGUAGES: Final = ("es", "en")
DEFAULT_LANGUAGE: Final = "es"
# Each language in its own words (the language menu shows these untranslated).
LANGUAGE_NAMES: Final = {"es": "Español", "en": "English"}
JS_KEYWORDS: Final = {"t": None, "tr": None}  # `tr` where `t` names a time
JS_OPTIONS: Final = {"parse_template_string": True}  # t() inside `${...}` of template literals


def N_(message: str) -> str:
    """Mark `message` for the catalogue; it is translated where it is shown."""
    return message


def po_path(language: str, directory: Path = LOCALE_DIR) -> Path:
    """Where a language's .po source lives."""
    return directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(path: Path, language: str) -> gettext.NullTranslations:
    """A .po file compiled in memory (blocking); English (the source language) needs none."""
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def js_msgids(directory: Path = JS_DIR) -> list[str]:
    """Every `t("...")` string of the scripts (blocking)."""
    found: dict[str, None] = {}
    for path in sorted(directory.glob("*.js")):
        with path.open("rb") as source:
            for _line, message, _comments, _context in extract("javascript", source, keywords=JS_KEYWORDS,
                                                                options=JS_OPTIONS):
                if isinstance(message, str) and message:
                    found[message] = None
    return list(found)


@dataclass(frozen=True, slots=True)
class Language:
    """One language: its translations, Babel locale and the catalogue its scripts get."""

    code: str
    translations: gettext.NullTranslations
    locale: Locale
    js_catalogue: dict[str, str] = field(default_factory=dict)

    def gettext(self, message: str, /, **params: Any) -> str:
        """`message` translated, with `%(name)s` placeholders filled from `params`."""
        text = self.translations.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, count: int, /, **params: Any) -> str:
        """The singular or plural form for `count` (`%(num)s` is the count)."""
        text = self.translations.ngettext(singular, plural, count)
        return text % {"num": count, **params}


class Catalogues:
    """Every supported language, compiled once."""

    def __init__(self, languages: dict[str, Language], default: str = DEFAULT_LANGUAGE) -> None:
        self.languages = languages
        self.default = default if default in languages else DEFAULT_LANGUAGE

    def get(self, code: str | None) -> Language:
        """The language `code`, else the site's default."""
        return self.languages.get(code or "", self.languages[self.default])

    def choose(self, *preferences: str | None) -> Language:
        """The first supported language of `preferences` (a user's choice, ...), else the default."""
        for code in preferences:
            if code and code in self.languages:
                return self.languages[code]
        return self.languages[self.default]


def load_catalogues(default: str = DEFAULT_LANGUAGE, languages: Iterable[str] = SUPPORTED_LANGUAGES,
                    directory: Path = LOCALE_DIR, js_directory: Path = JS_DIR) -> Catalogues:
    """Compile every language's catalogue (blocking: file reads)."""
    script_ids = js_msgids(js_directory)
    loaded: dict[str, Language] = {}
    for code in languages:
        translations = _compile(po_path(code, directory), code)
        loaded[code] = Language(code, translations, Locale.parse(code),
                                {msgid: translations.gettext(msgid) for msgid in script_ids})
    return Catalogues(loaded, default)


# Modules outside frontend/ that write with its catalogue (the incident's PDF report).
_ELSEWHERE: Final = (Path(__file__).resolve().parents[1] / "integrations" / "incident" / "report.py",)


def extract_catalogue(root: Path = Path(__file__).parent) -> Any:
    """Every msgid of the frontend as a Babel Catalog (blocking): Python (`N_`, `_`), templates (`_`,
    `ngettext`, `{% trans %}`) and scripts (`t`). tools/i18n_update.py merges it into the .po files."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(project="Hacho", domain=DOMAIN)
    sources: list[tuple[str, str, dict[str, Any] | None]] = [
        ("python", "*.py", None),
        ("jinja2.ext:babel_extract", "templates/*.html", {"extensions": "jinja2.ext.i18n"}),
        ("javascript", "static/js/*.js", JS_OPTIONS),
    ]
    for method, pattern, options in sources:
        for path in sorted([*root.glob(pattern), *(p for p in _ELSEWHERE if p.match(pattern))]):
            with path.open("rb") as source:
                if method == "javascript":
                    found = extract(method, source, keywords=JS_KEYWORDS, options=options)
                else:
                    found = extract(method, source, options=options)
                for line, message, comments, context in found:
                    where = path.relative_to(root) if path.is_relative_to(root) else path.relative_to(root.parent)
                    catalog.add(message, locations=[(where.as_posix(), line)],
                                auto_comments=comments, context=context)
    return catalog
