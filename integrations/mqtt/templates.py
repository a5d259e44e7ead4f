"""`value_template` for MQTT payloads, rendered by the hub's Jinja2 sandbox (`hub.helpers.template`).

Templates see `value` (the payload text) and `value_json` (the payload parsed as JSON, only when
the template mentions it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from hub.exceptions import TemplateError
from hub.helpers.template import Template

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["MalformedPayload", "ValueTemplate", "parse_json"]


class MalformedPayload(ValueError):
    """A payload the template needs as JSON is not JSON."""


def parse_json(payload: str | bytes) -> Any:
    """Parse a JSON payload; raises MalformedPayload with the parser's reason."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise MalformedPayload(f"payload is not valid JSON ({err})") from None


class ValueTemplate:
    """A compiled value template; `render(hub, payload)` raises MalformedPayload or TemplateError."""

    __slots__ = ("_template", "source", "uses_json")

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise TemplateError(f"a template must be a string, got {type(source).__name__}")
        self.source = source
        self.uses_json = "value_json" in source
        self._template = Template(source)

    def __repr__(self) -> str:
        return f"ValueTemplate({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueTemplate) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def render(self, hub: Hub, payload: str | bytes, variables: dict[str, Any] | None = None) -> Any:
        """The template's value for one payload (a native value from a single expression, else text)."""
        scope: dict[str, Any] = {"value": payload}
        if variables:
            scope.update(variables)
        if self.uses_json:
            scope["value_json"] = parse_json(payload)
        return self._template.async_render(hub, scope, parse_result=False)
