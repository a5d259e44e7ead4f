"""GET /api/datex2/vms: the DATEX II VMS publication over the hub's HTTP API."""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from hub.core import Hub
from hub.http import HUB_KEY, ApiError, HubView, get_http
from hub.http.access import ROLES_STAFF

from .const import DATEX2_PATH
from .datex2 import DATEX_SETTINGS, build_vms_publication

__all__ = ["DatexVmsView", "PublicDatexVmsView", "async_register_view"]

CONTENT_TYPE = "application/xml"


class DatexVmsView(HubView):
    """The current message and status of every panel, as DATEX II v3 XML (token required)."""

    url = DATEX2_PATH
    name = "api:datex2:vms"
    roles = ROLES_STAFF
    openapi_tag = "datex2"
    openapi: ClassVar[dict[str, dict[str, Any]]] = {"get": {"responses": {
        "200": {"description": "A DATEX II v3 VmsPublication",
                "content": {CONTENT_TYPE: {"schema": {"type": "string"}}}},
        "404": {"description": "The panels integration is not loaded"},
    }}}

    async def get(self, request: web.Request) -> web.Response:
        """DATEX II VMS publication of every panel's displayed message."""
        hub = request.app[HUB_KEY]
        if DATEX_SETTINGS not in hub.data:
            raise ApiError(404, "not_found", "The panels integration is not loaded")
        body = build_vms_publication(hub)
        return web.Response(body=body, content_type=CONTENT_TYPE, charset="utf-8")


class PublicDatexVmsView(DatexVmsView):
    """The same publication, open to anyone (`datex2: public: true`) as open traffic data."""

    requires_auth = False


def async_register_view(hub: Hub, public: bool = False) -> bool:
    """Add the view to the hub's HTTP server. Raises HubError when http is absent or already started."""
    http = get_http(hub)
    http.register_view(PublicDatexVmsView if public else DatexVmsView)
    return True
