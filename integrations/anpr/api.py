"""REST API for hotlists (so the Ministry's feed can push changes), hit review and read corrections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import web

from hub.core import Hub
from hub.http import HUB_KEY, KEY_USER, ApiError, HubView
from hub.http.access import ROLES_POLICE
from hub.http.server import async_register_views as register_views
from hub.http.view import async_read_json, request_context

from .const import DOMAIN, SERVICE_HOTLIST_IMPORT, SERVICE_HOTLIST_REMOVE, SERVICE_READ_CORRECT

__all__ = ["async_register_views"]


async def _call(request: web.Request, service: str, data: dict[str, Any]) -> Any:
    """Call an anpr service as the request's user (the permission hook and the audit log see it)."""
    hub: Hub = request.app[HUB_KEY]
    return await hub.services.async_call(DOMAIN, service, data, blocking=True, context=request_context(request),
                                         return_response=True)


def _manager(request: web.Request) -> Any:
    from . import DATA_KEY

    hub = request.app[HUB_KEY]
    manager = hub.data.get(DATA_KEY)
    if manager is None:
        raise ApiError(404, "not_found", "The anpr integration is not loaded")
    return manager


async def _hit_request(request: web.Request, hit_id: str, key: str, valid: Callable[[Any], bool],
                       message: str) -> tuple[Any, dict[str, Any]]:
    """A hit request's JSON body: its `key` checked (400 with `message`), the hit id and reason as data."""
    _manager(request)
    body = await async_read_json(request)
    value = body.get(key) if isinstance(body, dict) else None
    if not valid(value):
        raise ApiError(400, "invalid_format", message)
    data = {"hit_id": hit_id}
    if body.get("reason"):
        data["reason"] = str(body["reason"])
    return value, data


class HotlistsView(HubView):
    """GET /api/anpr/hotlists: every list with its size."""

    url = "/api/anpr/hotlists"
    name = "api:anpr:hotlists"
    openapi_tag = "anpr"
    roles = ROLES_POLICE  # plates are personal data: the police roles only

    async def get(self, request: web.Request) -> Any:
        """The configured hotlists and how many entries each has."""
        manager = _manager(request)
        counts = manager.hotlists.counts()
        return [{"id": lst.id, "name": lst.name, "kind": lst.kind, "priority": lst.priority,
                 "entries": counts.get(lst.id, 0)} for lst in manager.hotlists.lists.values()]


class HotlistEntriesView(HubView):
    """GET/POST/PUT /api/anpr/hotlists/{list_id}/entries."""

    url = "/api/anpr/hotlists/{list_id}/entries"
    name = "api:anpr:hotlist_entries"
    openapi_tag = "anpr"
    roles = ROLES_POLICE  # plates are personal data: the police roles only
    openapi: ClassVar[dict[str, dict[str, Any]]] = {"post": {"requestBody": {"content": {
        "application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}}}}

    async def get(self, request: web.Request, list_id: str) -> Any:
        """The entries of one list."""
        manager = _manager(request)
        if list_id not in manager.hotlists.lists:
            raise ApiError(404, "not_found", f"No hotlist {list_id!r}")
        return [e.as_dict() for e in manager.hotlists.entries(list_id)]

    async def post(self, request: web.Request, list_id: str) -> Any:
        """Add or replace entries: a JSON object or list of objects, or CSV text (all or nothing)."""
        manager = _manager(request)
        if list_id not in manager.hotlists.lists:
            raise ApiError(404, "not_found", f"No hotlist {list_id!r}")
        user = request.get(KEY_USER)
        data: dict[str, Any] = {"list": list_id, "source": f"api:{user.name}" if user is not None else "api"}
        if request.content_type == "text/csv":
            data["csv"] = await request.text()
        else:
            body = await async_read_json(request)
            items = body if isinstance(body, list) else [body]
            for index, item in enumerate(items):
                if not isinstance(item, dict) or "plate" not in item:
                    raise ApiError(400, "invalid_format", f"item {index}: expected an object with 'plate'")
            data["entries"] = [{**item, "list": list_id} for item in items]
        # Through the service: the permission hook and the audit log see who changed the list.
        return await _call(request, SERVICE_HOTLIST_IMPORT, data)


class HotlistEntryView(HubView):
    """DELETE /api/anpr/hotlists/{list_id}/entries/{plate}."""

    url = "/api/anpr/hotlists/{list_id}/entries/{plate}"
    name = "api:anpr:hotlist_entry"
    openapi_tag = "anpr"
    roles = ROLES_POLICE  # plates are personal data: the police roles only

    async def delete(self, request: web.Request, list_id: str, plate: str) -> Any:
        """Remove one plate from a list."""
        manager = _manager(request)
        if list_id not in manager.hotlists.lists:
            raise ApiError(404, "not_found", f"No hotlist {list_id!r}")
        response = await _call(request, SERVICE_HOTLIST_REMOVE, {"list": list_id, "plate": plate})
        if not response or not response.get("removed"):
            raise ApiError(404, "not_found", f"That plate is not on {list_id}")
        return {"removed": True}


class HitReviewView(HubView):
    """POST /api/anpr/hits/{hit_id}/review {"verdict": "accept"|"reject", "reason": "..."}."""

    url = "/api/anpr/hits/{hit_id}/review"
    name = "api:anpr:hit_review"
    openapi_tag = "anpr"
    roles = ROLES_POLICE  # plates are personal data: the police roles only
    openapi: ClassVar[dict[str, dict[str, Any]]] = {"post": {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"oneOf": [  # a rejection says why
            {"type": "object", "required": ["verdict"], "properties": {
                "verdict": {"const": "accept"}, "reason": {"type": "string"}}},
            {"type": "object", "required": ["verdict", "reason"], "properties": {
                "verdict": {"const": "reject"}, "reason": {"type": "string", "minLength": 1}}},
        ]}}}}}}

    async def post(self, request: web.Request, hit_id: str) -> Any:
        """Accept or reject a hit, with a reason."""
        verdict, data = await _hit_request(request, hit_id, "verdict", lambda v: v in ("accept", "reject"),
                                           "'verdict' must be 'accept' or 'reject'")
        return await _call(request, f"hit_{verdict}", data)


class HitCorrectionView(HubView):
    """POST /api/anpr/hits/{hit_id}/correction {"plate": "...", "reason": "..."}: "this plate reads X"."""

    url = "/api/anpr/hits/{hit_id}/correction"
    name = "api:anpr:hit_correction"
    openapi_tag = "anpr"
    roles = ROLES_POLICE  # plates are personal data: the police roles only

    async def post(self, request: web.Request, hit_id: str) -> Any:
        """Correct a hit's read; its crop joins the site's training set (audited, through the service)."""
        plate, data = await _hit_request(request, hit_id, "plate", lambda v: isinstance(v, str) and bool(v.strip()),
                                         "'plate' must be the plate's text")
        return await _call(request, SERVICE_READ_CORRECT, {**data, "plate": plate})


def async_register_views(hub: Hub) -> bool:
    """Serve the ANPR API (once per hub; the views find the manager at request time); False without an HTTP
    API."""
    return register_views(hub, (HotlistsView, HotlistEntriesView, HotlistEntryView, HitReviewView,
                                HitCorrectionView), "ANPR API")
