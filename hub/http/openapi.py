"""An OpenAPI 3.1 document built from the routes registered on the server, views and raw routes alike."""

from __future__ import annotations

import copy
import inspect
import re
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..const import __version__
from .const import ATTR_REQUIRES_AUTH, ATTR_VIEW, PUBLIC_ROUTES_KEY

if TYPE_CHECKING:
    from .server import HubHTTP
    from .view import HubView

__all__ = ["build_openapi"]

_PLACEHOLDER: Final = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_ERROR_REF: Final = {"$ref": "#/components/schemas/Error"}
_SKIP_METHODS: Final = frozenset({"HEAD", "OPTIONS", "*"})

_COMPONENTS: Final[dict[str, Any]] = {
    "securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "A long-lived access token (`hacho token create NAME`)"},
    },
    "schemas": {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }},
        },
        "Context": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "parent_id": {"type": ["string", "null"]},
                "user_id": {"type": ["string", "null"]},
                "centre": {"type": ["string", "null"]},
            },
        },
        "State": {
            "type": "object",
            "required": ["entity_id", "state", "attributes", "last_changed", "last_updated"],
            "properties": {
                "entity_id": {"type": "string"},
                "state": {"type": "string"},
                "attributes": {"type": "object"},
                "last_changed": {"type": "string", "format": "date-time"},
                "last_updated": {"type": "string", "format": "date-time"},
                "context": {"$ref": "#/components/schemas/Context"},
            },
        },
    },
}


def _route_path(resource: web.AbstractResource) -> str | None:
    """The OpenAPI path of a plain or dynamic resource; None for static files and others."""
    if isinstance(resource, web.StaticResource):
        return None
    info = resource.get_info()
    path = info.get("path") or info.get("formatter")
    if not isinstance(path, str):
        return None
    return _PLACEHOLDER.sub(lambda match: "{" + match.group(1) + "}", path)


def _split_doc(handler: Any) -> tuple[str, str]:
    doc = inspect.getdoc(handler) or ""
    summary, _, description = doc.partition("\n")
    return summary.strip(), description.strip()


def _operation(http: HubHTTP, route: web.AbstractRoute, path: str) -> dict[str, Any] | None:
    handler = route.handler
    view: HubView | None = getattr(handler, ATTR_VIEW, None)
    if view is not None and not view.include_in_openapi:
        return None
    requires_auth = (route not in http.app[PUBLIC_ROUTES_KEY]
                     and bool(getattr(handler, ATTR_REQUIRES_AUTH, True)))
    method = route.method.lower()
    summary, description = _split_doc(handler)
    name = view.name if view is not None else (route.name or path)
    operation: dict[str, Any] = {
        "operationId": f"{name}:{method}",
        "tags": [view.openapi_tag if view is not None else "other"],
        "responses": {
            "200": {"description": "OK"},
            "default": {"description": "Error", "content": {"application/json": {"schema": _ERROR_REF}}},
        },
        "security": [{"bearerAuth": []}] if requires_auth else [],
    }
    if summary:
        operation["summary"] = summary
    if description:
        operation["description"] = description
    extra = copy.deepcopy(view.openapi.get(method, {})) if view is not None else {}
    declared: list[dict[str, Any]] = extra.pop("parameters", [])
    # A view that describes a path parameter (a pattern, say) replaces the plain string one.
    described = {(item["name"], item["in"]) for item in declared}
    parameters = [
        {"name": placeholder, "in": "path", "required": True, "schema": {"type": "string"}}
        for placeholder in _PLACEHOLDER.findall(path) if (placeholder, "path") not in described
    ]
    parameters.extend(declared)
    if parameters:
        operation["parameters"] = parameters
    operation["responses"].update(extra.pop("responses", {}))
    if requires_auth:
        operation["responses"].setdefault(
            "401", {"description": "Missing, invalid or revoked token",
                    "content": {"application/json": {"schema": _ERROR_REF}}}
        )
    operation.update(extra)
    return operation


def build_openapi(http: HubHTTP) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the REST routes registered on `http` right now."""
    paths: dict[str, dict[str, Any]] = {}
    for route in http.app.router.routes():
        if route.method.upper() in _SKIP_METHODS or route.resource is None:
            continue
        path = _route_path(route.resource)
        if path is None:
            continue
        operation = _operation(http, route, path)
        if operation is not None:
            paths.setdefault(path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hacho API",
            "version": __version__,
            "description": "REST API of the Hacho hub. Authenticate with `Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": copy.deepcopy(_COMPONENTS),
    }
