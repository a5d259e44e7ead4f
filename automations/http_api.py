"""HTTP: `GET /api/automations/{id}/traces`, `GET /api/scripts/{name}/traces` and `/api/webhook/{id}`."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from hub.auth.visibility import read_scope
from hub.core import Hub
from hub.exceptions import HubError
from hub.http.access import ROLES_ALL, ROLES_AUTOMATIONS
from hub.http.const import KEY_HUB, KEY_USER
from hub.http.view import ApiError, HubView
from hub.http.webhook import async_webhook_response

from .engine import get_manager
from .trace import get_trace_store

__all__ = ["AutomationTracesView", "ScriptTracesView", "WebhookView", "async_register_api"]

_LOGGER = logging.getLogger(__name__)

_TRACE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "run_id": {"type": "string"}, "key": {"type": "string"}, "start": {"type": "number"},
    "finish": {"type": ["number", "null"]}, "execution": {"type": "string"}, "error": {"type": ["string", "null"]},
    "trigger": {"type": ["string", "null"]}, "context": {"type": "object"},
    "steps": {"type": "array", "items": {"type": "object"}},
}}


def _traces_response(request: web.Request, key: str, run_id: str | None) -> dict[str, Any]:
    hub = request[KEY_HUB]
    traces = get_trace_store(hub).traces(key)
    if run_id is not None:
        traces = [trace for trace in traces if trace["run_id"] == run_id]
        if not traces:
            raise ApiError(404, "not_found", f"No trace {run_id} for {key}")
    # traces carry what triggered a run (plates, names): withheld from roles that do not work with them
    return {"key": key, "traces": read_scope(hub, request.get(KEY_USER)).redact(traces)}


class AutomationTracesView(HubView):
    """Traces of one automation: running ones, the last 20, the last error and the last success."""

    url = "/api/automations/{automation_id}/traces"
    name = "api:automation-traces"
    roles = ROLES_AUTOMATIONS
    openapi_tag = "automations"
    openapi = {"get": {
        "parameters": [{"name": "run_id", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "Only this run"}],
        "responses": {"200": {"description": "Traces, newest first", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"key": {"type": "string"},
                                                        "traces": {"type": "array", "items": _TRACE_SCHEMA}}}}}},
                      "404": {"description": "Unknown automation"}},
    }}

    async def get(self, request: web.Request, automation_id: str) -> dict[str, Any]:
        """The traces of `automation.<id>` (the id or the entity id), newest first."""
        hub = request[KEY_HUB]
        entity_id = automation_id if automation_id.startswith("automation.") else f"automation.{automation_id}"
        if get_manager(hub).get(entity_id) is None and not get_trace_store(hub).traces(entity_id):
            raise ApiError(404, "not_found", f"No automation {automation_id}")
        return _traces_response(request, entity_id, request.query.get("run_id"))


class ScriptTracesView(HubView):
    """Traces of one script."""

    url = "/api/scripts/{name}/traces"
    name = "api:script-traces"
    roles = ROLES_AUTOMATIONS
    openapi_tag = "automations"

    async def get(self, request: web.Request, name: str) -> dict[str, Any]:
        """The traces of `script.<name>`, newest first."""
        hub = request[KEY_HUB]
        entity_id = name if name.startswith("script.") else f"script.{name}"
        if hub.states.get(entity_id) is None and not get_trace_store(hub).traces(entity_id):
            raise ApiError(404, "not_found", f"No script {name}")
        return _traces_response(request, entity_id, request.query.get("run_id"))


class WebhookView(HubView):
    """Deliver a request to a `platform: webhook` trigger (no token: the webhook id is the secret)."""

    url = "/api/webhook/{webhook_id}"
    name = "api:webhook"
    requires_auth = False
    roles = ROLES_ALL  # the secret webhook id decides
    openapi_tag = "automations"

    async def _handle(self, request: web.Request, webhook_id: str) -> web.Response:
        return await async_webhook_response(request[KEY_HUB], request, webhook_id)

    async def get(self, request: web.Request, webhook_id: str) -> web.Response:
        """A GET to the webhook (when its trigger allows GET)."""
        return await self._handle(request, webhook_id)

    async def post(self, request: web.Request, webhook_id: str) -> web.Response:
        """A POST to the webhook; the JSON body becomes `trigger.json`."""
        return await self._handle(request, webhook_id)

    async def put(self, request: web.Request, webhook_id: str) -> web.Response:
        """A PUT to the webhook."""
        return await self._handle(request, webhook_id)


def async_register_api(hub: Hub) -> None:
    """Register the views when the HTTP server is set up and not started yet."""
    try:
        from hub.http import get_http

        http = get_http(hub)
    except (ImportError, HubError):
        return
    try:
        for view in (AutomationTracesView, ScriptTracesView, WebhookView):
            http.register_view(view)
    except HubError as err:
        _LOGGER.warning("Automation API not available: %s", err)


