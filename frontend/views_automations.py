"""Automation screens: the list with on/off and configuration errors, and each run's trace step by step."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from hub.core import split_entity_id, valid_entity_id

from .data import state_name
from .i18n import N_
from .view import FrontendView, Refused, page

__all__ = ["AutomationListView", "AutomationTraceView", "describe_path", "trace_steps"]

MAX_DETAIL = 600
_WORDS = {
    "trigger": N_("Trigger"),
    "condition": N_("Condition"),
    "conditions": N_("condition"),
    "action": N_("Action"),
    "actions": N_("action"),
    "sequence": N_("step"),
    "choose": N_("option"),
    "default": N_("otherwise"),
    "then": N_("then"),
    "else": N_("else"),
    "repeat": N_("repeat"),
    "parallel": N_("branch"),
    "if": N_("if"),
}
_SEGMENT = re.compile(r"[A-Za-z_]+|\d+")


def _same(text: str) -> str:
    return text


def describe_path(path: str, gettext: Callable[[str], str] = _same) -> str:
    """A trace path as words: `action/1/choose/0/sequence/2` -> `Action 2 > option 1 > step 3` (each word
    through `gettext`: `Acción 2 > opción 1 > paso 3`)."""
    if path == "sequence":
        return gettext(N_("Run started"))
    parts: list[str] = []
    tokens = [token for token in path.split("/") if token]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = gettext(_WORDS[token]) if token in _WORDS else token.replace("_", " ")
        if index + 1 < len(tokens) and tokens[index + 1].isdigit():
            parts.append(f"{word} {int(tokens[index + 1]) + 1}")
            index += 2
        else:
            parts.append(word)
            index += 1
    return " > ".join(parts) if parts else path


def _brief(value: Any) -> Any:
    """The value for the template's `value` filter (lists as lists...), or its first characters as text
    when it is too long to show whole."""
    try:
        text = orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        text = str(value)
    return value if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "…"


def trace_steps(trace: dict[str, Any], gettext: Callable[[str], str] = _same) -> list[dict[str, Any]]:
    """The steps of a trace ready to show: words for the path, time from the start, result, error."""
    steps = []
    for step in trace.get("steps", []):
        result = step.get("result")
        variables = step.get("changed_variables")
        steps.append({
            "path": step.get("path", ""),
            "title": describe_path(str(step.get("path", "")), gettext),
            "offset_ms": round(int(step.get("offset_us") or 0) / 1000, 1),
            "result": _brief(result) if result is not None else None,
            "variables": _brief(variables) if variables else None,
            "error": step.get("error"),
        })
    return steps


def _manager_errors(hub: Any) -> list[str]:
    try:
        from automations.engine import DATA_AUTOMATIONS
    except ImportError:
        return []
    manager = hub.data.get(DATA_AUTOMATIONS)
    return list(manager.errors) if manager is not None else []


class AutomationListView(FrontendView):
    """Automations: name, on/off (for roles that may switch them), last run, configuration errors."""

    url = "/c/{centre}/automations"
    name = "frontend:automations"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The automation list."""
        viewer = self.viewer(request, centre)
        hub = self.frontend.hub
        may_switch = self.frontend.policy.can_call(viewer.principal, "automation", "turn_on")
        rows = []
        for state in sorted(hub.states.async_all("automation"), key=lambda s: state_name(s).lower()):
            rows.append({
                "entity_id": state.entity_id,
                "name": state_name(state),
                "on": state.state == "on",
                "state": state.state,
                "last_triggered": state.attributes.get("last_triggered"),
                "mode": state.attributes.get("mode"),
                "running": state.attributes.get("current") or 0,
                "url": f"/c/{viewer.centre.id}/automations/{state.entity_id}",
            })
        return self.render(request, viewer, "automations.html", page="automations", title=N_("Automations"),
                           automations=rows, errors=_manager_errors(hub), may_switch=may_switch)


class AutomationTraceView(FrontendView):
    """One automation's recent runs, each as a readable list of steps."""

    url = "/c/{centre}/automations/{entity_id}"
    name = "frontend:automation"

    @page
    async def get(self, request: web.Request, centre: str, entity_id: str) -> web.StreamResponse:
        """The automation's traces, newest first."""
        viewer = self.viewer(request, centre)
        hub = self.frontend.hub
        state = hub.states.get(entity_id) if valid_entity_id(entity_id) else None
        if state is None or split_entity_id(entity_id)[0] != "automation":
            raise Refused(self.error_page(request, 404, N_("No such automation"),
                                          N_("There is no automation %(id)s."), viewer.principal,
                                          id=repr(entity_id[:80])))
        from automations.trace import get_trace_store

        gettext = self.frontend.language(viewer.principal.user_id).gettext
        traces = []
        for trace in get_trace_store(hub).traces(entity_id):
            traces.append({
                "run_id": trace.get("run_id"),
                "start": trace.get("start"),
                "finish": trace.get("finish"),
                "execution": trace.get("execution"),
                "error": trace.get("error"),
                "trigger": trace.get("trigger"),
                "user_id": (trace.get("context") or {}).get("user_id"),
                "steps": trace_steps(trace, gettext),
            })
        may_switch = self.frontend.policy.can_call(viewer.principal, "automation", "turn_on")
        return self.render(request, viewer, "automation.html", page="automations", title=state_name(state),
                           state=state, name=state_name(state), traces=traces, may_switch=may_switch,
                           page_data={"entity_id": entity_id})
