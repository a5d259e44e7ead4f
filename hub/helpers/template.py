"""Templates: Jinja2 in an immutable sandbox, compiled at load, rendered against the hub's states.

`Template(source)` compiles when it is created (a syntax error is a load error); `async_render(hub,
variables)` renders in the loop. A template that is a single `{{ expression }}` renders through a
generated function (see template_compiler) and returns the expression's native value; others go
through Jinja and their text is turned into a number, list or bool when it reads as one (as Home
Assistant does). `async_render_with_info` also says which entities the render read, so template
triggers re-render only when one of those changes.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub.core import HubKey
from hub.exceptions import TemplateError

from .template_compiler import FastRender, compile_fast
from .template_functions import KNOWN_GLOBALS, RenderInfo, collecting, hub_globals, install_filters

if TYPE_CHECKING:
    from jinja2 import Template as JinjaTemplate

    from hub.core import Hub

__all__ = [
    "RenderInfo",
    "Template",
    "TemplateEnvironment",
    "get_environment",
    "has_template",
    "is_template_string",
    "is_true",
    "parse_result_text",
    "render_complex",
    "unknown_names",
    "walk_templates",
]

_LOGGER = logging.getLogger(__name__)

_EMPTY: Mapping[str, Any] = {}
_TEMPLATE_MARK = re.compile(r"{%|{{|{#")
_CACHE_LIMIT = 4096


def is_template_string(value: str) -> bool:
    """Whether a string contains Jinja syntax."""
    return _TEMPLATE_MARK.search(value) is not None


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox: no writes to lists/dicts/sets, no private attributes, our filters and tests."""

    def __init__(self) -> None:
        super().__init__(undefined=Undefined, autoescape=False, cache_size=0)
        install_filters(self.filters, self.tests)


_ENV: TemplateEnvironment | None = None


def get_environment() -> TemplateEnvironment:
    """The process-wide environment (hub-specific names come from each render's globals)."""
    global _ENV
    if _ENV is None:
        _ENV = TemplateEnvironment()
    return _ENV


class _Layered(Mapping[str, Any]):
    """Render variables over the hub's globals, without copying either."""

    __slots__ = ("_globals", "_vars")

    def __init__(self, variables: Mapping[str, Any], globals_: Mapping[str, Any]) -> None:
        self._vars = variables
        self._globals = globals_

    def __contains__(self, key: object) -> bool:
        return key in self._vars or key in self._globals

    def __getitem__(self, key: str) -> Any:
        if key in self._vars:
            return self._vars[key]
        return self._globals[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._vars
        for key in self._globals:
            if key not in self._vars:
                yield key

    def __len__(self) -> int:
        return len(set(self._vars) | set(self._globals))


class _Compiled:
    """One template source, compiled once and shared by every Template with that source."""

    __slots__ = ("_jinja", "fast", "source")

    def __init__(self, source: str) -> None:
        env = get_environment()
        self.source = source
        self._jinja: JinjaTemplate | None = None
        try:
            tree = env.parse(source)
        except TemplateSyntaxError as err:
            raise TemplateError(f"invalid template ({err.message} on line {err.lineno}): {source!r}") from err
        unknown = unknown_names(env, tree)
        if unknown:
            raise TemplateError(f"invalid template ({'; '.join(unknown)}): {source!r}")
        self.fast: FastRender | None = compile_fast(env, tree)
        if self.fast is None:
            self.jinja  # noqa: B018 - compile now so compile-time errors are load errors

    @property
    def jinja(self) -> JinjaTemplate:
        if self._jinja is None:
            env = get_environment()
            try:
                self._jinja = env.from_string(self.source)
            except JinjaTemplateError as err:
                raise TemplateError(f"invalid template ({err}): {self.source!r}") from err
        return self._jinja

    def render_text(self, variables: Mapping[str, Any], globals_: Mapping[str, Any]) -> str:
        template = self.jinja
        env = template.environment
        context = env.context_class(env, _Layered(variables, globals_), None, template.blocks)  # type: ignore[arg-type]
        return env.concat(template.root_render_func(context))


def _declared(tree: nodes.Template) -> set[str]:
    """Names the template defines itself: {% set %}, {% for %} targets, macros, imports."""
    names: set[str] = set()
    for node in tree.find_all((nodes.Name, nodes.Macro, nodes.FromImport, nodes.Import)):
        if isinstance(node, nodes.Name) and node.ctx in ("store", "param"):
            names.add(node.name)
        elif isinstance(node, nodes.Macro):
            names.add(node.name)
        elif isinstance(node, nodes.Import):
            names.add(node.target)
        elif isinstance(node, nodes.FromImport):
            names.update(name if isinstance(name, str) else name[1] for name in node.names)
    return names


def unknown_names(env: TemplateEnvironment, tree: nodes.Template) -> list[str]:
    """Functions, filters and tests the template uses that do not exist, each with its line.

    A called name that is neither a known function nor defined in the template is reported (a
    variable is never called); filters and tests come from the environment's tables.
    """
    problems: list[str] = []
    declared: set[str] | None = None
    for node in tree.find_all((nodes.Call, nodes.Filter, nodes.Test, nodes.FilterBlock)):
        if isinstance(node, nodes.Call):
            if not isinstance(node.node, nodes.Name):
                continue
            name = node.node.name
            if name in KNOWN_GLOBALS or name in env.globals or name in ("caller", "super"):
                continue
            if declared is None:
                declared = _declared(tree)
            if name not in declared:
                problems.append(f"unknown function {name!r} on line {node.lineno}")
        elif isinstance(node, nodes.Test):
            if node.name not in env.tests:
                problems.append(f"unknown test {node.name!r} on line {node.lineno}")
        elif isinstance(node, nodes.Filter) and node.name not in env.filters:
            problems.append(f"unknown filter {node.name!r} on line {node.lineno}")
    return problems


_COMPILED: dict[str, _Compiled] = {}


def _compiled(source: str) -> _Compiled:
    compiled = _COMPILED.get(source)
    if compiled is None:
        compiled = _Compiled(source)
        if len(_COMPILED) >= _CACHE_LIMIT:
            _COMPILED.clear()
        _COMPILED[source] = compiled
    return compiled


_GLOBALS_KEY: HubKey[dict[str, Any]] = HubKey("template_globals_cache")


class _GlobalsCache:
    """The last hub's globals, so a render skips the hub.data lookup."""

    __slots__ = ("globals", "hub")

    def __init__(self) -> None:
        self.hub: Hub | None = None
        self.globals: dict[str, Any] = {}


_LAST = _GlobalsCache()


def _globals_for(hub: Hub) -> dict[str, Any]:
    if hub is _LAST.hub:
        return _LAST.globals
    globals_ = hub_globals(hub, get_environment().globals)
    _LAST.hub = hub
    _LAST.globals = globals_
    return globals_


class Template:
    """A compiled template. Equal sources share one compiled form."""

    __slots__ = ("_compiled", "is_static", "source")

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise TemplateError(f"a template must be a string, got {type(source).__name__}")
        self.source = source
        self.is_static = not is_template_string(source)
        self._compiled: _Compiled | None = None if self.is_static else _compiled(source)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def async_render(self, hub: Hub, variables: Mapping[str, Any] | None = None,
                     parse_result: bool = True) -> Any:
        """Render in the loop. Raises TemplateError (with the source) when rendering fails."""
        compiled = self._compiled
        if compiled is None:
            return self.source
        globals_ = _LAST.globals if hub is _LAST.hub else _globals_for(hub)
        if variables is None:
            variables = _EMPTY
        fast = compiled.fast
        try:
            if fast is not None:
                result = fast(variables, globals_)
                if type(result) is bool:
                    return result
                if isinstance(result, Undefined):
                    result = str(result)
            else:
                result = compiled.render_text(variables, globals_)
        except TemplateError:
            raise
        except Exception as err:
            raise TemplateError(f"error rendering {self.source!r}: {type(err).__name__}: {err}") from err
        if parse_result and type(result) is str:
            return parse_result_text(result)
        return result

    def async_render_with_info(self, hub: Hub, variables: Mapping[str, Any] | None = None,
                               parse_result: bool = True) -> tuple[Any, RenderInfo, Exception | None]:
        """Render and record what was read: (result, info, error). Never raises."""
        with collecting() as info:
            try:
                result = self.async_render(hub, variables, parse_result)
            except TemplateError as err:
                return None, info, err
        return result, info, None


_NUMERIC = re.compile(r"^[+-]?(?!0\d)\d*(?:\.\d*)?$")


@lru_cache(maxsize=1024)
def parse_result_text(text: str) -> Any:
    """Turn rendered text into a native value when it reads as one ('31.5' -> 31.5, 'True' -> True).

    Like Home Assistant: strings stay strings (no quote games), numbers with leading zeros stay text.
    """
    stripped = text.strip()
    if not stripped:
        return text
    try:
        result = ast.literal_eval(stripped)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(result, str | complex):
        return text
    if isinstance(result, int | float) and not isinstance(result, bool) and _NUMERIC.match(stripped) is None:
        return text
    return result


def render_complex(hub: Hub, value: Any, variables: Mapping[str, Any] | None = None,
                   parse_result: bool = True) -> Any:
    """Render every Template inside nested dicts and lists; other values pass through."""
    if isinstance(value, Template):
        return value.async_render(hub, variables, parse_result)
    if isinstance(value, dict):
        return {
            (key.async_render(hub, variables, False) if isinstance(key, Template) else key):
                render_complex(hub, item, variables, parse_result)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [render_complex(hub, item, variables, parse_result) for item in value]
    return value


def has_template(value: Any) -> bool:
    """Whether a nested structure contains a Template that needs rendering."""
    if isinstance(value, Template):
        return not value.is_static
    if isinstance(value, dict):
        return any(has_template(k) or has_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_template(item) for item in value)
    return False


def walk_templates(value: Any) -> Iterator[Template]:
    """Every Template in a nested structure."""
    if isinstance(value, Template):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_templates(key)
            yield from walk_templates(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_templates(item)


def is_true(value: Any) -> bool:
    """How a rendered condition reads: True, 'true'/'on'/'yes', non-zero numbers."""
    if value is True:
        return True
    if value is False or value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "on", "yes", "1")
    if isinstance(value, int | float):
        return value != 0
    return False

