"""Templates in message lines: compiled once in a Jinja2 sandbox, rendered with current states.

Each render records the entity ids it read, so a panel can re-render its message when one of them
changes (a car park sign counting free places).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub.const import STATE_UNKNOWN
from hub.core import Hub
from hub.exceptions import ServiceValidationError

from .message import Pages

__all__ = ["MessageTemplate", "is_template"]

_LOGGER = logging.getLogger(__name__)

_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def is_template(text: str) -> bool:
    """Whether a line holds Jinja2 syntax."""
    return "{{" in text or "{%" in text or "{#" in text


def _functions(hub: Hub, seen: set[str]) -> dict[str, Callable[..., Any]]:
    """The functions a panel template may call; each records the entity ids it reads in `seen`."""

    def states(entity_id: str) -> str:
        seen.add(entity_id)
        state = hub.states.get(entity_id)
        return state.state if state is not None else STATE_UNKNOWN

    def is_state(entity_id: str, value: Any) -> bool:
        seen.add(entity_id)
        state = hub.states.get(entity_id)
        if state is None:
            return False
        if isinstance(value, (list, tuple, set)):
            return state.state in value
        return state.state == value

    def state_attr(entity_id: str, name: str) -> Any:
        seen.add(entity_id)
        state = hub.states.get(entity_id)
        return None if state is None else state.attributes.get(name)

    def now() -> Any:
        return hub.clock.now()

    return {"states": states, "is_state": is_state, "state_attr": state_attr, "now": now}


class MessageTemplate:
    """The lines of a message, compiled. Static lines stay plain strings."""

    __slots__ = ("_compiled", "_hub", "_source", "has_templates")

    def __init__(self, hub: Hub, pages: Pages) -> None:
        self._hub = hub
        self._source = pages
        self._compiled: list[list[jinja2.Template | str]] = []
        self.has_templates = False
        for page_no, page in enumerate(pages, 1):
            compiled_page: list[jinja2.Template | str] = []
            for line_no, line in enumerate(page, 1):
                if is_template(line):
                    self.has_templates = True
                    try:
                        compiled_page.append(_ENV.from_string(line))
                    except jinja2.TemplateError as err:
                        raise ServiceValidationError(
                            f"page {page_no} line {line_no}: template error: {err}"
                        ) from err
                else:
                    compiled_page.append(line)
            self._compiled.append(compiled_page)

    @property
    def source(self) -> Pages:
        """The pages as written, templates unrendered."""
        return self._source

    def render(self) -> tuple[Pages, frozenset[str]]:
        """Render every line with the current states; returns the pages and the entity ids read.

        Raises ServiceValidationError naming the page and line of a template that fails.
        """
        seen: set[str] = set()
        functions = _functions(self._hub, seen)
        pages: list[tuple[str, ...]] = []
        for page_no, page in enumerate(self._compiled, 1):
            lines: list[str] = []
            for line_no, item in enumerate(page, 1):
                if isinstance(item, str):
                    lines.append(item)
                    continue
                try:
                    lines.append(item.render(functions).strip())
                except Exception as err:  # any failure inside a template is the user's to read
                    raise ServiceValidationError(
                        f"page {page_no} line {line_no}: template error: {err}"
                    ) from err
            pages.append(tuple(lines))
        return tuple(pages), frozenset(seen)

