"""Templates in message lines: compiled once, rendered with current states, tracking what they read.

Lines are rendered by the hub's sandbox (`hub.helpers.template`), so panels get the same functions and
filters as automations. Each render reports the entities (and domains) it read, so a panel can
re-render its message when one of them changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.core import Hub
from hub.exceptions import ServiceValidationError, TemplateError
from hub.helpers.template import Template

from .message import Pages

__all__ = ["MessageTemplate", "TemplateDeps", "is_template"]

def is_template(text: str) -> bool:
    """Whether a line holds Jinja2 syntax."""
    return "{{" in text or "{%" in text or "{#" in text


@dataclass(frozen=True, slots=True)
class TemplateDeps:
    """What a render read: entity ids, whole domains, or every state."""

    entities: frozenset[str] = field(default_factory=frozenset)
    domains: frozenset[str] = field(default_factory=frozenset)
    all_states: bool = False

    def __bool__(self) -> bool:
        return bool(self.entities or self.domains or self.all_states)


class MessageTemplate:
    """The lines of a message, compiled. Static lines stay plain strings."""

    __slots__ = ("_compiled", "_hub", "_source", "has_templates")

    def __init__(self, hub: Hub, pages: Pages) -> None:
        self._hub = hub
        self._source = pages
        self._compiled: list[list[str | Template]] = []
        self.has_templates = False
        for page_no, page in enumerate(pages, 1):
            compiled_page: list[str | Template] = []
            for line_no, line in enumerate(page, 1):
                if not is_template(line):
                    compiled_page.append(line)
                    continue
                self.has_templates = True
                try:
                    compiled_page.append(Template(line))
                except TemplateError as err:
                    raise ServiceValidationError(
                        f"page {page_no} line {line_no}: template error: {err}"
                    ) from err
            self._compiled.append(compiled_page)

    @property
    def source(self) -> Pages:
        """The pages as written, templates unrendered."""
        return self._source

    def render(self) -> tuple[Pages, TemplateDeps]:
        """Render every line with the current states; returns the pages and what they read.

        Raises ServiceValidationError naming the page and line of a template that fails.
        """
        seen: set[str] = set()
        domains: set[str] = set()
        all_states = False
        pages: list[tuple[str, ...]] = []
        for page_no, page in enumerate(self._compiled, 1):
            lines: list[str] = []
            for line_no, item in enumerate(page, 1):
                if isinstance(item, str):
                    lines.append(item)
                    continue
                result, info, error = item.async_render_with_info(self._hub, None, parse_result=False)
                if error is not None:
                    raise ServiceValidationError(f"page {page_no} line {line_no}: template error: {error}") from error
                seen |= info.entities
                domains |= info.domains
                all_states = all_states or info.all_states
                text = "" if result is None else str(result)
                lines.append(text.strip())
            pages.append(tuple(lines))
        return tuple(pages), TemplateDeps(frozenset(seen), frozenset(domains), all_states)
