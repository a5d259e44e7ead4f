"""REST views: GET /api/federation (link, peers, peers' alarms) and /api/federation/actuations (requests)."""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from aiohttp import web

from hub.auth.visibility import read_scope
from hub.core import Hub, callback
from hub.http.access import ROLES_STAFF
from hub.http.const import ERR_INVALID_FORMAT, KEY_HUB, KEY_USER
from hub.http.server import async_register_views as register_views
from hub.http.view import ApiError, HubView

from .const import ACT_FINAL, ACT_PENDING, DIRECTION_IN, DIRECTION_OUT
from .manager import FederationManager, get_federation
from .store import list_actuations

__all__ = ["async_register_views"]


def _manager(request: web.Request) -> FederationManager:
    manager = get_federation(request[KEY_HUB])
    if manager is None:
        raise ApiError(503, "federation_not_running", "The federation integration is not running")
    return manager


class _FederationView(HubView):
    openapi_tag: ClassVar[str] = "federation"
    roles = ROLES_STAFF


class FederationStatusView(_FederationView):
    """This centre in the federation."""

    url = "/api/federation"
    name = "api:federation"

    async def get(self, request: web.Request) -> dict[str, Any]:
        """The broker link, every peer (connected or not, missing messages) and the peers' open alarms."""
        manager = _manager(request)
        return read_scope(manager.hub, request.get(KEY_USER)).redact(manager.status())


class FederationActuationsView(_FederationView):
    """Actuation requests between centres."""

    url = "/api/federation/actuations"
    name = "api:federation:actuations"

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Requests newest first: filters state (pending, done, refused, failed, expired), direction (in: peers
        asking us, out: ours); limit (default 100)."""
        manager = _manager(request)
        state = request.query.get("state") or None
        direction = request.query.get("direction") or None
        if state is not None and state not in ACT_FINAL | {ACT_PENDING}:
            raise ApiError(400, ERR_INVALID_FORMAT, f"Unknown state {state!r}")
        if direction is not None and direction not in (DIRECTION_IN, DIRECTION_OUT):
            raise ApiError(400, ERR_INVALID_FORMAT, f"direction must be '{DIRECTION_IN}' or '{DIRECTION_OUT}'")
        try:
            limit = min(1000, max(1, int(request.query.get("limit", "100"))))
        except ValueError:
            raise ApiError(400, ERR_INVALID_FORMAT, "limit must be a number") from None
        requests = await manager.outbox.async_db_job(partial(list_actuations, state=state, direction=direction,
                                                             limit=limit))
        return {"requests": requests}


@callback
def async_register_views(hub: Hub) -> bool:
    """Serve the federation API (once per hub; the server may already listen); False without an HTTP API."""
    return register_views(hub, (FederationStatusView, FederationActuationsView), "Federation API")
