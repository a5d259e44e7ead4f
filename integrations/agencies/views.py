"""REST endpoints for the frontend: agencies and their status, the dead-letter list, replay and enable."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from aiohttp import web

from hub.core import Hub
from hub.http import HUB_KEY, ApiError, HubView, async_read_json_object, request_context
from hub.http.access import ROLES_DELIVERY, ROLES_STAFF
from hub.http.server import async_register_views as register_views

from .const import SERVICE_DOMAIN, SERVICE_ENABLE, SERVICE_REPLAY
from .manager import DATA_MANAGER, AgencyManager

__all__ = ["AgenciesView", "AgencyEnableView", "DeadLetterReplayView", "DeadLettersView", "async_register_views"]

_LOGGER = logging.getLogger(__name__)

_MAX_LIMIT = 1000
_FLAGS = {"": False, "0": False, "false": False, "no": False, "1": True, "true": True, "yes": True}


def _manager(request: web.Request) -> AgencyManager:
    manager = request.app[HUB_KEY].data.get(DATA_MANAGER)
    if manager is None:
        raise ApiError(404, "not_found", "The agencies integration is not loaded")
    return manager


async def _call(request: web.Request, service: str, data: dict[str, Any]) -> Any:
    """Through the service, so permissions and the audit see the operator's call."""
    hub = request.app[HUB_KEY]
    return await hub.services.async_call(SERVICE_DOMAIN, service, data, blocking=True,
                                         context=request_context(request), return_response=True)


class AgenciesView(HubView):
    """GET /api/agencies: every agency with its delivery state and counts."""

    url = "/api/agencies"
    name = "api:agencies"
    roles = ROLES_STAFF
    openapi_tag = "agencies"

    async def get(self, request: web.Request) -> Any:
        """Agencies, their endpoint state (ok, failing, disabled) and pending/dead counts."""
        return _manager(request).status()


class DeadLettersView(HubView):
    """GET /api/agencies/dead_letters?agency_id=&limit=&payload=1: messages that gave up."""

    url = "/api/agencies/dead_letters"
    name = "api:agencies:dead_letters"
    roles = ROLES_DELIVERY  # payloads may carry personal data
    openapi_tag = "agencies"
    openapi: ClassVar[dict[str, dict[str, Any]]] = {"get": {"parameters": [
        {"name": "agency_id", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}},
        {"name": "payload", "in": "query", "schema": {"type": "boolean", "default": False}},
    ]}}

    async def get(self, request: web.Request) -> Any:
        """Dead letters, newest first (the payload only with payload=1)."""
        manager = _manager(request)
        agency_id = request.query.get("agency_id") or None
        if agency_id is not None and agency_id not in manager.agencies:
            raise ApiError(404, "not_found", f"Unknown agency {agency_id!r}")
        try:
            limit = max(1, min(_MAX_LIMIT, int(request.query.get("limit", "100"))))
        except ValueError:
            raise ApiError(400, "invalid_format", "limit must be a whole number") from None
        flag = request.query.get("payload", "").lower()
        if flag not in _FLAGS:
            raise ApiError(400, "invalid_format", "payload must be true or false (1 or 0)")
        with_payload = _FLAGS[flag]
        messages = await manager.async_dead_letters(agency_id, limit)
        return [message.as_dict(with_payload=with_payload) for message in messages]


class DeadLetterReplayView(HubView):
    """POST /api/agencies/dead_letters/{message_id}/replay: deliver one dead letter again."""

    url = "/api/agencies/dead_letters/{message_id}/replay"
    name = "api:agencies:dead_letters:replay"
    roles = ROLES_DELIVERY
    openapi_tag = "agencies"
    openapi: ClassVar[dict[str, dict[str, Any]]] = {"post": {"parameters": [
        {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": r"\S"}},
    ]}}

    async def post(self, request: web.Request, message_id: str) -> Any:
        """Put one dead message back in line; 404 when it is not a dead letter."""
        _manager(request)
        response = await _call(request, SERVICE_REPLAY, {"message_id": [message_id]})
        if not response or not response.get("replayed"):
            raise ApiError(404, "not_found", f"No dead letter {message_id!r}")
        return response


class DeadLettersReplayAllView(HubView):
    """POST /api/agencies/{agency_id}/replay: deliver all of an agency's dead letters again."""

    url = "/api/agencies/{agency_id}/replay"
    name = "api:agencies:replay"
    roles = ROLES_DELIVERY
    openapi_tag = "agencies"

    async def post(self, request: web.Request, agency_id: str) -> Any:
        """Put every dead message of an agency back in line."""
        if agency_id not in _manager(request).agencies:
            raise ApiError(404, "not_found", f"Unknown agency {agency_id!r}")
        await async_read_json_object(request, "The body")  # empty or {}: nothing else to say
        return await _call(request, SERVICE_REPLAY, {"agency_id": agency_id})


class AgencyEnableView(HubView):
    """POST /api/agencies/{agency_id}/enable: deliver again to an endpoint that answered 410."""

    url = "/api/agencies/{agency_id}/enable"
    name = "api:agencies:enable"
    roles = ROLES_DELIVERY
    openapi_tag = "agencies"

    async def post(self, request: web.Request, agency_id: str) -> Any:
        """Enable an agency disabled by its endpoint."""
        if agency_id not in _manager(request).agencies:
            raise ApiError(404, "not_found", f"Unknown agency {agency_id!r}")
        return await _call(request, SERVICE_ENABLE, {"agency_id": agency_id})


_VIEWS: tuple[type[HubView], ...] = (AgenciesView, DeadLettersView, DeadLetterReplayView, DeadLettersReplayAllView,
                                     AgencyEnableView)


def async_register_views(hub: Hub) -> bool:
    """Serve the agencies' REST endpoints (once per hub); False without an HTTP API."""
    return register_views(hub, _VIEWS, "Agency REST endpoints")
