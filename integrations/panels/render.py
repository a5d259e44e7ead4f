"""Templates in message lines: compiled once, rendered with current states, tracking what they read.

The automations engine's renderer (`automations.template`) is used when it is installed, so panels
get the same functions and filters as automations; otherwise a Jinja2 ImmutableSandboxedEnvironment
with `states()`, `is_state()`, `state_attr()` and `now()`. Each render reports the entities (and
domains) it read, so a panel can re-render its message when one of them changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub.const import STATE_UNKNOWN
from hub.core import Hub
from hub.exceptions import ServiceValidationError, TemplateError

from .message import Pages

HubTemplate: Any
try:  # the automations engine's renderer, when that package is installed
    from automations.template import Template as HubTemplate
except ImportError:  # pragma: no cover - depends on what is installed
    HubTemplate = None

__all__ = ["MessageTemplate", "TemplateDeps", "is_template"]

_LOGGER = logging.getLogger(__name__)

_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


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


def _functions(hub: Hub, seen: set[str]) -> dict[str, Callable[..., Any]]:
    """The fallback renderer's functions; each records the entity ids it reads in `seen`."""

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
        return bool(state.state == value)

    def state_attr(entity_id: str, name: str) -> Any:
        seen.add(entity_id)
        state = hub.states.get(entity_id)
        return None if state is None else state.attributes.get(name)

    def now() -> Any:
        return hub.clock.now()

    return {"states": states, "is_state": is_state, "state_attr": state_attr, "now": now}


class MessageTemplate:
    """The lines of a message, compiled. Static lines stay plain strings.

    `use_hub_renderer=False` forces the fallback sandbox even where automations is installed.
    """

    __slots__ = ("_compiled", "_hub", "_source", "has_templates")

    def __init__(self, hub: Hub, pages: Pages, *, use_hub_renderer: bool = True) -> None:
        self._hub = hub
        self._source = pages
        self._compiled: list[list[Any]] = []
        self.has_templates = False
        hub_renderer = HubTemplate if use_hub_renderer else None
        for page_no, page in enumerate(pages, 1):
            compiled_page: list[Any] = []
            for line_no, line in enumerate(page, 1):
                if not is_template(line):
                    compiled_page.append(line)
                    continue
                self.has_templates = True
                try:
                    compiled_page.append(hub_renderer(line) if hub_renderer else _ENV.from_string(line))
                except (jinja2.TemplateError, TemplateError) as err:
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
        functions: dict[str, Callable[..., Any]] | None = None
        pages: list[tuple[str, ...]] = []
        for page_no, page in enumerate(self._compiled, 1):
            lines: list[str] = []
            for line_no, item in enumerate(page, 1):
                if isinstance(item, str):
                    lines.append(item)
                    continue
                where = f"page {page_no} line {line_no}"
                if isinstance(item, jinja2.Template):
                    if functions is None:
                        functions = _functions(self._hub, seen)
                    try:
                        text = item.render(functions)
                    except Exception as err:  # any failure inside a template is the user's to read
                        raise ServiceValidationError(f"{where}: template error: {err}") from err
                else:
                    result, info, error = item.async_render_with_info(self._hub, None, parse_result=False)
                    if error is not None:
                        raise ServiceValidationError(f"{where}: template error: {error}") from error
                    seen |= info.entities
                    domains |= info.domains
                    all_states = all_states or info.all_states
                    text = "" if result is None else str(result)
                lines.append(text.strip())
            pages.append(tuple(lines))
        return tuple(pages), TemplateDeps(frozenset(seen), frozenset(domains), all_states)
