"""Jinja2 for the server-rendered screens: templates read once in the executor, autoescaped, compiled once
per language with Jinja2's i18n extension and the formatting filters (frontend/formatting.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import jinja2

from hub.core import Hub

from .formatting import Formatter, Names
from .i18n import Catalogues, Language, load_catalogues

__all__ = ["TEMPLATE_DIR", "Templates", "async_load_templates"]

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"


def _read_templates(directory: Path) -> dict[str, str]:
    """Every template file by its name relative to `directory` (blocking)."""
    return {path.relative_to(directory).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(directory.rglob("*.html"))}


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory and shared by the languages' environments: the source and the
    settings are the same, only the translations and filters (looked up when rendering) differ, so each
    template is compiled once at start rather than once per language."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def _environment(sources: dict[str, str], language: Language, formatter: Formatter,
                 bytecode: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(sources),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=bytecode,
    )
    env.install_gettext_translations(language.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(formatter.filters())
    # Readable JSON for people (autoescaping still applies); `tojson` is for <script> data blocks.
    env.filters["as_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    env.globals["lang"] = language.code
    env.globals["i18n_catalogue"] = language.js_catalogue
    # Compile every template now: a broken one fails setup, not an operator's click.
    for name in sources:
        env.get_template(name)
    return env


class Templates:
    """The screens' templates, compiled from memory (one environment per language) so rendering never
    touches the disk."""

    def __init__(self, sources: dict[str, str], catalogues: Catalogues, zone: Any = None,
                 names: Names | None = None) -> None:
        self.catalogues = catalogues
        self.names = names
        self.formatters = {code: Formatter(language, zone, names)
                           for code, language in catalogues.languages.items()}
        bytecode = _SharedBytecode()
        self.envs = {code: _environment(sources, language, self.formatters[code], bytecode)
                     for code, language in catalogues.languages.items()}

    def render(self, template: str, /, *, language: str | None = None, **context: Any) -> str:
        """Render `template` with `context` in `language` (the site's default when None)."""
        code = self.catalogues.get(language).code
        return self.envs[code].get_template(template).render(**context)


async def async_load_templates(hub: Hub, catalogues: Catalogues | None = None, names: Names | None = None,
                               directory: Path = TEMPLATE_DIR) -> Templates:
    """Read and compile the templates and the catalogues (file reads in the executor)."""
    sources = await hub.async_add_executor_job(_read_templates, directory)
    if catalogues is None:
        catalogues = await hub.async_add_executor_job(load_catalogues)
    zone = hub.config.tz if hub.config is not None else None
    return Templates(sources, catalogues, zone, names)
