"""The screens' templates: compiled once at start whatever the number of languages, each rendered in its own."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest

from frontend.i18n import load_catalogues
from frontend.templating import TEMPLATE_DIR, Templates, _read_templates


def test_each_template_is_compiled_once_for_every_language(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = _read_templates(TEMPLATE_DIR)
    catalogues = load_catalogues()
    assert len(catalogues.languages) >= 2
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    templates = Templates(sources, catalogues)
    assert sorted(compiled) == sorted(sources)  # not once per language
    context = {"site_title": "Ceuta", "static": "/static", "error": None, "login_csrf": "x", "next_url": "/",
               "username": ""}
    spanish = templates.render("login.html", language="es", **context)
    english = templates.render("login.html", language="en", **context)
    assert "Contraseña" in spanish and "Contraseña" not in english and "Password" in english
