"""`value_template` for MQTT payloads: the automations' Jinja2 sandbox when installed, else a tiny renderer.

Templates see `value` (the payload text) and `value_json` (the payload parsed as JSON, only when
the template mentions it). The fallback renderer understands `{{ value }}` and
`{{ value_json.a.b }}` / `{{ value_json['a'][0] }}` with the filters `float`, `int`, `round(n)`,
`lower`, `upper` and `string`; anything else is a load error that says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from hub.exceptions import TemplateError

if TYPE_CHECKING:
    from hub.core import Hub

try:  # the automation engine's sandboxed renderer (compiled once, fast path for one expression)
    from automations.template import Template as _HubTemplate
except ImportError:  # pragma: no cover - the automations package is part of this repository
    _HubTemplate = None  # type: ignore[assignment,misc]

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

    __slots__ = ("_local", "_template", "source", "uses_json")

    def __init__(self, source: str, *, force_local: bool = False) -> None:
        if not isinstance(source, str):
            raise TemplateError(f"a template must be a string, got {type(source).__name__}")
        self.source = source
        self.uses_json = "value_json" in source
        self._template: Any = None
        self._local: Callable[[dict[str, Any]], Any] | None = None
        if _HubTemplate is not None and not force_local:
            self._template = _HubTemplate(source)
        else:
            self._local = _compile_local(source)

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
        if self._local is not None:
            try:
                return self._local(scope)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
                raise TemplateError(f"error rendering {self.source!r}: {type(err).__name__}: {err}") from err
        return self._template.async_render(hub, scope, parse_result=False)


# --------------------------------------------------------------------------- fallback renderer

_EXPR = re.compile(r"^\s*\{\{\s*(?P<expr>.+?)\s*\}\}\s*$", re.S)
_PATH_PART = re.compile(r"\.(?P<attr>[A-Za-z_]\w*)|\[\s*(?:'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\"|(?P<idx>-?\d+))\s*\]")
_FILTER = re.compile(r"^(?P<name>float|int|round|lower|upper|string)(?:\(\s*(?P<arg>-?\d+(?:\.\d+)?)?\s*\))?$")


def _compile_local(source: str) -> Callable[[dict[str, Any]], Any]:
    match = _EXPR.match(source)
    if match is None:
        raise TemplateError(f"the built-in renderer handles one '{{{{ value... }}}}' expression only: {source!r}")
    head, *filters = (part.strip() for part in match["expr"].split("|"))
    root = "value_json" if head.startswith("value_json") else "value" if head.startswith("value") else None
    if root is None:
        raise TemplateError(f"the built-in renderer reads 'value' or 'value_json' only: {source!r}")
    steps: list[str | int] = []
    rest = head[len(root):]
    while rest:
        part = _PATH_PART.match(rest)
        if part is None:
            raise TemplateError(f"cannot read the path {head!r} in {source!r}")
        if part["idx"] is not None:
            steps.append(int(part["idx"]))
        else:
            steps.append(part["attr"] or part["sq"] or part["dq"] or "")
        rest = rest[part.end():]
    funcs = [_filter(item, source) for item in filters]

    def render(scope: dict[str, Any]) -> Any:
        value = scope[root]
        for step in steps:
            value = value[step]
        for func in funcs:
            value = func(value)
        return value

    return render


def _filter(text: str, source: str) -> Callable[[Any], Any]:
    match = _FILTER.match(text)
    if match is None:
        raise TemplateError(f"the built-in renderer does not know the filter {text!r} in {source!r}")
    name, arg = match["name"], match["arg"]
    if name == "float":
        return float
    if name == "int":
        return lambda value: int(float(value))
    if name == "round":
        digits = int(float(arg)) if arg is not None else 0
        return lambda value: round(float(value), digits)
    if name == "lower":
        return lambda value: str(value).lower()
    if name == "upper":
        return lambda value: str(value).upper()
    return str
