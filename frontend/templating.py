"""Jinja2 for the server-rendered screens: templates read once in the executor, autoescaped, with filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Final

import jinja2

from hub.core import Hub

__all__ = ["TEMPLATE_DIR", "Templates", "async_load_templates", "format_time"]

TEMPLATE_DIR: Final = Path(__file__).parent / "templates"


def _read_templates(directory: Path) -> dict[str, str]:
    """Every template file by its name relative to `directory` (blocking)."""
    return {path.relative_to(directory).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(directory.rglob("*.html"))}


def _to_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_time(value: Any, zone: tzinfo | None = None) -> str:
    """`2025-03-01 14:05:09` in the site's time zone, from an epoch, ISO string or datetime."""
    when = _to_datetime(value)
    if when is None:
        return "" if value is None else str(value)
    if zone is not None:
        when = when.astimezone(zone)
    return when.strftime("%Y-%m-%d %H:%M:%S")


class Templates:
    """The screens' templates, compiled from memory so rendering never touches the disk."""

    def __init__(self, sources: dict[str, str], zone: tzinfo | None = None) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.DictLoader(sources),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = lambda value: format_time(value, zone)
        self.env.filters["title_id"] = lambda value: str(value).replace("_", " ").capitalize()
        # Readable JSON for people (autoescaping still applies); `tojson` is for <script> data blocks.
        self.env.filters["as_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                               default=str)
        # Until the Babel catalogue of main is merged here, `_()` marks a visible string and returns it as is.
        self.env.globals.setdefault("_", lambda text, **values: text % values if values else text)
        # Compile every template now: a broken one fails setup, not an operator's click.
        for name in sources:
            self.env.get_template(name)

    def render(self, template: str, /, **context: Any) -> str:
        """Render `template` with `context`."""
        return self.env.get_template(template).render(**context)


async def async_load_templates(hub: Hub, directory: Path = TEMPLATE_DIR) -> Templates:
    """Read and compile the templates (file reads in the executor)."""
    sources = await hub.async_add_executor_job(_read_templates, directory)
    zone = hub.config.tz if hub.config is not None else None
    return Templates(sources, zone)
