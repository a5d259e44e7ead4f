"""The OpenAPI document: built from the routes actually registered, including ones added later."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from hub.http import HubHTTP, HubView
from hub.http.access import ROLES_ALL, ROLES_STAFF

from .conftest import StartApi


class TraceView(HubView):
    """Automation traces (as another module would add them)."""

    url = "/api/traces/{automation_id}"
    name = "api:traces"
    roles = ROLES_STAFF
    openapi_tag = "automations"
    openapi = {"get": {"parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]}}

    async def get(self, request: web.Request, automation_id: str) -> list[Any]:
        """Recent traces of one automation.

        Newest first.
        """
        return []


def add_routes(http: HubHTTP) -> None:
    http.register_view(TraceView)

    async def webhook(request: web.Request) -> web.Response:
        """Receive a webhook."""
        return web.Response()

    http.allow_unauthenticated(http.app.router.add_post("/api/webhook/{webhook_id}", webhook), ROLES_ALL)


async def test_openapi_lists_every_rest_route(start_api: StartApi) -> None:
    api = await start_api(before_start=add_routes)
    status, doc = await api.request("GET", "/api/openapi.json")
    assert status == 200
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "Hacho API"
    paths = doc["paths"]
    assert set(paths) == {
        "/api/", "/api/states", "/api/states/{entity_id}", "/api/services/{domain}/{service}",
        "/api/events/{event_type}", "/api/hidden", "/api/history", "/api/openapi.json",
        "/api/traces/{automation_id}", "/api/webhook/{webhook_id}",
    }
    assert "/api/websocket" not in paths  # not a REST route
    assert set(paths["/api/services/{domain}/{service}"]) == {"post"}
    assert set(paths["/api/states"]) == {"get"}

    health = paths["/api/"]["get"]
    assert health["security"] == []
    states = paths["/api/states/{entity_id}"]["get"]
    assert states["security"] == [{"bearerAuth": []}]
    assert {"name": "entity_id", "in": "path", "required": True, "schema": {"type": "string"}} in \
        states["parameters"]
    assert "401" in states["responses"] and "404" in states["responses"]

    traces = paths["/api/traces/{automation_id}"]["get"]
    assert traces["summary"] == "Recent traces of one automation."
    assert traces["description"] == "Newest first."
    assert traces["tags"] == ["automations"]
    assert [p["name"] for p in traces["parameters"]] == ["automation_id", "limit"]

    # A view that describes its path parameter replaces the plain one (one parameter, with its pattern).
    event = paths["/api/events/{event_type}"]["post"]
    [event_type] = [p for p in event["parameters"] if p["name"] == "event_type"]
    assert re.fullmatch(event_type["schema"]["pattern"], "anpr_hotlist_hit")
    assert not re.fullmatch(event_type["schema"]["pattern"], "bad type")

    webhook = paths["/api/webhook/{webhook_id}"]["post"]
    assert webhook["security"] == []
    assert webhook["summary"] == "Receive a webhook."

    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "A long-lived access token (`hacho token create NAME`)",
    }
    for item in paths.values():  # every $ref points at a defined schema
        for op in item.values():
            for ref in _refs(op):
                assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def test_public_raw_route_answers_without_token(start_api: StartApi) -> None:
    api = await start_api(before_start=add_routes)
    status, _ = await api.request("POST", "/api/webhook/abc", token=None)
    assert status == 200
