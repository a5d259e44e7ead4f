"""A fast path for templates that are one `{{ expression }}`: the expression compiled to one Python function.

Jinja's own code for `{{ expr }}` builds a Context, a generator and string output on every render.
For the common single-expression template we generate a plain function instead, from Jinja's own
parse tree, keeping the sandbox where it matters: every attribute and item access goes through
the sandboxed environment's `getattr`/`getitem`, every call of something that is not one of the
hub's template globals through its `call`, and filters and tests are Jinja's own tables. Constants
are passed in, never written into the generated source. Anything outside this small subset
(loops, slices, `{% %}` blocks, filters that need the render context) uses Jinja's normal path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context, EvalContext, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg

__all__ = ["FastRender", "compile_fast"]

FastRender = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]

_MISSING: Any = object()

_COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<=", "in": "in",
            "notin": "not in"}
_BINOPS: dict[type[nodes.Node], str] = {
    nodes.Add: "+", nodes.Sub: "-", nodes.Mul: "*", nodes.Div: "/", nodes.FloorDiv: "//", nodes.Mod: "%",
    nodes.Pow: "**",
}
_SPECIAL_NAMES = frozenset({"self", "loop", "caller", "varargs", "kwargs", "super"})


class _Ineligible(Exception):
    """The expression uses something the fast path does not handle."""


class _Generator:
    """Turns one Jinja expression node into Python source over pre-bound names."""

    def __init__(self, env: SandboxedEnvironment) -> None:
        self.env = env
        self.namespace: dict[str, Any] = {}
        self.names: dict[str, str] = {}
        self.called: set[str] = set()
        self._count = 0

    def bind(self, value: Any, prefix: str = "c") -> str:
        """Put `value` in the function's namespace; returns the Python name to use."""
        self._count += 1
        key = f"_{prefix}{self._count}"
        self.namespace[key] = value
        return key

    def name(self, name: str) -> str:
        if name in _SPECIAL_NAMES:
            raise _Ineligible(name)
        local = self.names.get(name)
        if local is None:
            local = self.names[name] = f"l{len(self.names)}"
        return local

    def args(self, node: nodes.Call | nodes.Filter | nodes.Test) -> str:
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            raise _Ineligible("dynamic arguments")
        parts = [self.expr(arg) for arg in node.args]
        if node.kwargs:
            pairs = ", ".join(f"{self.bind(kw.key)}: {self.expr(kw.value)}" for kw in node.kwargs)
            parts.append(f"**{{{pairs}}}")
        return ", ".join(parts)

    def _table_call(self, table: Mapping[str, Any], kind: str, node: nodes.Filter | nodes.Test) -> str:
        func = table.get(node.name)
        if func is None:
            raise _Ineligible(f"unknown {kind} {node.name}")
        pass_arg = _PassArg.from_obj(func)
        if pass_arg is _PassArg.context:
            raise _Ineligible(f"{kind} {node.name} needs the render context")
        if node.node is None:
            raise _Ineligible(f"{kind} block")
        lead = [self.expr(node.node)]
        if pass_arg is _PassArg.environment:
            lead.insert(0, "_env")
        elif pass_arg is _PassArg.eval_context:
            lead.insert(0, "_evalctx")
        rest = self.args(node)
        all_args = ", ".join([*lead, rest] if rest else lead)
        return f"{self.bind(func, 'f')}({all_args})"

    def expr(self, node: nodes.Node) -> str:
        if isinstance(node, nodes.Const):
            return self.bind(node.value)
        if isinstance(node, nodes.Name):
            if node.ctx != "load":
                raise _Ineligible("assignment")
            return self.name(node.name)
        if isinstance(node, nodes.Getattr):
            return f"_getattr({self.expr(node.node)}, {self.bind(node.attr)})"
        if isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Slice):
                raise _Ineligible("slice")
            return f"_getitem({self.expr(node.node)}, {self.expr(node.arg)})"
        if isinstance(node, nodes.Call):
            args = self.args(node)
            tail = f", {args}" if args else ""
            if isinstance(node.node, nodes.Name):
                local = self.name(node.node.name)
                self.called.add(local)
                return f"({local}({args}) if t{local} else _call(_dctx, {local}{tail}))"
            return f"_call(_dctx, {self.expr(node.node)}{tail})"
        if isinstance(node, nodes.Filter):
            return self._table_call(self.env.filters, "filter", node)
        if isinstance(node, nodes.Test):
            return self._table_call(self.env.tests, "test", node)
        if isinstance(node, nodes.Compare):
            parts = [self.expr(node.expr)]
            for operand in node.ops:
                parts.append(_COMPARE[operand.op])
                parts.append(self.expr(operand.expr))
            return f"({' '.join(parts)})"
        if isinstance(node, nodes.And):
            return f"({self.expr(node.left)} and {self.expr(node.right)})"
        if isinstance(node, nodes.Or):
            return f"({self.expr(node.left)} or {self.expr(node.right)})"
        if isinstance(node, nodes.Not):
            return f"(not {self.expr(node.node)})"
        if isinstance(node, nodes.Neg):
            return f"(-{self.expr(node.node)})"
        if isinstance(node, nodes.Pos):
            return f"(+{self.expr(node.node)})"
        op = _BINOPS.get(type(node))
        if op is not None:
            assert isinstance(node, nodes.BinExpr)
            return f"({self.expr(node.left)} {op} {self.expr(node.right)})"
        if isinstance(node, nodes.Concat):
            return f"_concat(({''.join(self.expr(item) + ', ' for item in node.nodes)}))"
        if isinstance(node, nodes.CondExpr):
            otherwise = self.expr(node.expr2) if node.expr2 is not None else "_undefined()"
            return f"({self.expr(node.expr1)} if {self.expr(node.test)} else {otherwise})"
        if isinstance(node, nodes.List):
            return f"[{', '.join(self.expr(item) for item in node.items)}]"
        if isinstance(node, nodes.Tuple):
            if node.ctx != "load":
                raise _Ineligible("assignment")
            return f"({''.join(self.expr(item) + ', ' for item in node.items)})"
        if isinstance(node, nodes.Dict):
            return "{" + ", ".join(f"{self.expr(p.key)}: {self.expr(p.value)}" for p in node.items) + "}"
        raise _Ineligible(type(node).__name__)


def single_expression(tree: nodes.Template) -> nodes.Expr | None:
    """The one expression of a template that is `{{ expr }}` (whitespace around it allowed)."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    found: nodes.Expr | None = None
    for node in tree.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            if node.data.strip():
                return None
            continue
        if found is not None:
            return None
        found = node
    return found


def compile_fast(env: SandboxedEnvironment, tree: nodes.Template) -> FastRender | None:
    """A function `render(variables, globals) -> value` for a `{{ expr }}` template, or None."""
    expression = single_expression(tree)
    if expression is None:
        return None
    gen = _Generator(env)
    try:
        body = gen.expr(expression)
    except _Ineligible:
        return None
    lines = ["def render(v, g):", "    _get = v.get", "    _gget = g.get"]
    for name, local in gen.names.items():
        key = gen.bind(name)
        lines.append(f"    {local} = _get({key}, _M)")
        lines.append(f"    if {local} is _M:")
        lines.append(f"        {local} = _gget({key}, _M)")
        lines.append(f"        if {local} is _M:")
        lines.append(f"            {local} = _undefined(name={key})")
        if local in gen.called:
            lines.append(f"        t{local} = True")
            lines.append("    else:")
            lines.append(f"        t{local} = False")
    lines.append(f"    return {body}")
    namespace = {
        **gen.namespace,
        "_M": _MISSING,
        "_env": env,
        "_evalctx": EvalContext(env),
        "_dctx": Context(env, {}, None, {}),
        "_getattr": env.getattr,
        "_getitem": env.getitem,
        "_call": env.call,
        "_undefined": env.undefined,
        "_concat": str_join,
    }
    code = compile("\n".join(lines), "<template fast path>", "exec")
    exec(code, namespace)
    render: FastRender = namespace["render"]
    return render
