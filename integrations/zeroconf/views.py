"""GET /api/discovery: what zeroconf found, waiting for an engineer to adopt or ignore it."""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from hub.core import Hub, HubKey
from hub.http import HUB_KEY, ApiError, HubView
from hub.http.access import ROLES_CONFIG
from hub.http.server import async_register_views as register_views

from .const import DISCOVERY_PATH
from .registry import DiscoveryRegistry

__all__ = ["DATA_REGISTRY", "DiscoveryView", "async_register_view"]

# The registry the view reads; set while the integration is loaded.
DATA_REGISTRY: HubKey[DiscoveryRegistry] = HubKey("zeroconf_registry")


class DiscoveryView(HubView):
    """Discovered services with their status (discovered, adopted, configured; ignored with ?all=1)."""

    url = DISCOVERY_PATH
    name = "api:discovery"
    roles = ROLES_CONFIG
    openapi_tag = "discovery"
    openapi: ClassVar[dict[str, dict[str, Any]]] = {"get": {
        "parameters": [{"name": "all", "in": "query", "required": False, "schema": {"type": "boolean"},
                        "description": "include ignored services"}],
        "responses": {"200": {"description": "The discovered services"},
                      "404": {"description": "The zeroconf integration is not loaded"}},
    }}

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Services found on the local network by zeroconf."""
        hub = request.app[HUB_KEY]
        registry = hub.data.get(DATA_REGISTRY)
        if registry is None:
            raise ApiError(404, "not_found", "The zeroconf integration is not loaded")
        include_ignored = request.query.get("all", "").lower() in ("1", "true", "yes")
        return {"services": registry.async_list(include_ignored)}


def async_register_view(hub: Hub) -> bool:
    """Serve the discovery list (once per hub); False without an HTTP API."""
    return register_views(hub, (DiscoveryView,), "Device discovery API")
