"""The REST API: health, states, services, events, history and the OpenAPI document."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..auth.hidden import async_hidden_counts, hidden_entities
from ..auth.users import Role
from ..auth.visibility import read_scope
from ..const import EVENT_STATE_CHANGED, __version__
from ..core import Event, State, callback, valid_entity_id
from ..exceptions import HubError
from ..setup import SETUP_MANAGER
from .access import DEFAULT_EVENT_ROLES, ROLES_STAFF
from .const import (
    CONF_EVENT_ROLES,
    CONF_SERVICE_TIMEOUT,
    DEFAULT_SERVICE_TIMEOUT,
    ERR_ENTITY_NOT_FOUND,
    ERR_INVALID_FORMAT,
    ERR_RECORDER_NOT_RUNNING,
    KEY_HUB,
    KEY_USER,
)
from .openapi import build_openapi
from .view import (
    EVENT_TYPE_PATTERN,
    ApiError,
    HubView,
    async_check_free_event,
    async_read_json_object,
    json_response,
    request_context,
)

if TYPE_CHECKING:
    from ..core import Hub
    from .server import HubHTTP

__all__ = [
    "APIEntityStateView",
    "APIEventView",
    "APIHiddenView",
    "APIHistoryView",
    "APIOpenAPIView",
    "APIServicesView",
    "APIStatesView",
    "APIStatusView",
    "register_api_views",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_HISTORY_PERIOD: Final = timedelta(days=1)
MAX_HISTORY_ENTITIES: Final = 100
_NO_RECORDER: Final = "History is unavailable: recorder not running"
HEADER_NOT_SHARED: Final = "X-Hacho-Not-Shared"  # `centre=count,...` of asked entities left out (no ids)

_STATE_REF: Final = {"$ref": "#/components/schemas/State"}
_ERROR_RESPONSE: Final = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# What filter_entity_id takes: comma-separated `domain.object_id`s (hub.states.valid_entity_id, any case:
# letters, digits and single inner underscores), spaces around them ignored.
_ENTITY_ID_PATTERN: Final = r"\s*[A-Za-z0-9]+(_[A-Za-z0-9]+)*\.[A-Za-z0-9]+(_[A-Za-z0-9]+)*\s*"
_ENTITY_IDS_PATTERN: Final = f"^{_ENTITY_ID_PATTERN}(,{_ENTITY_ID_PATTERN})*$"
_TIME: Final = {"anyOf": [{"type": "string", "format": "date-time"}, {"const": ""}]}  # "" means the default


def _query(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string"}}


class APIStatusView(HubView):
    """Health check; the one REST route that needs no token."""

    url = "/api/"
    name = "api:status"
    requires_auth = False
    roles = ROLES_STAFF
    openapi = {"get": {"responses": {"200": _json({"type": "object"},
                                                  "The API is up; `starting` lists what still sets up")}}}

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Whether the API is running, the hub version, its lifecycle state and what is still starting
        (integrations and components, while the hub sets up; the state turns RUNNING when none is left)."""
        hub = request[KEY_HUB]
        manager = hub.data.get(SETUP_MANAGER)
        starting = list(manager.starting) if manager is not None else []
        return {"message": "API running.", "version": __version__, "state": hub.state.value, "starting": starting}


class APIStatesView(HubView):
    """Every entity's current state that the caller may read."""

    url = "/api/states"
    name = "api:states"
    roles = ROLES_STAFF
    openapi = {"get": {"responses": {"200": _json({"type": "array", "items": _STATE_REF}, "All states")}}}

    async def get(self, request: web.Request) -> list[State | dict[str, Any]]:
        """The current state of every entity the caller may read (its centre's, shared and city-wide ones)."""
        hub: Hub = request[KEY_HUB]
        return read_scope(hub, request.get(KEY_USER)).states(hub, hub.states.async_all())


class APIEntityStateView(HubView):
    """One entity's current state."""

    url = "/api/states/{entity_id}"
    name = "api:entity-state"
    roles = ROLES_STAFF
    openapi = {"get": {"responses": {"200": _json(_STATE_REF, "The state"),
                                     "404": {"description": "Unknown entity", **_ERROR_RESPONSE}}}}

    async def get(self, request: web.Request, entity_id: str) -> State | dict[str, Any]:
        """The current state of one entity (404 for one the caller may not read)."""
        hub: Hub = request[KEY_HUB]
        state = read_scope(hub, request.get(KEY_USER)).state(hub, hub.states.get(entity_id))
        if state is None:
            raise ApiError(404, ERR_ENTITY_NOT_FOUND, f"Entity {entity_id} not found")
        return state


class APIServicesView(HubView):
    """Call a service as the token's user; answers with the states it changed."""

    url = "/api/services/{domain}/{service}"
    name = "api:domain-services"
    roles = ROLES_STAFF  # the permission hook decides each call
    openapi = {"post": {
        "parameters": [_query("return_response", "present: include the service's response")],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {
            "200": _json({"oneOf": [
                {"type": "array", "items": _STATE_REF},
                {"type": "object", "properties": {
                    "changed_states": {"type": "array", "items": _STATE_REF},
                    "service_response": {"type": "object"},
                }},
            ]}, "States changed during the call (and the response with ?return_response)"),
            "400": {"description": "Invalid service data", **_ERROR_RESPONSE},
            "403": {"description": "Refused by a permission hook", **_ERROR_RESPONSE},
            "404": {"description": "Unknown service", **_ERROR_RESPONSE},
            "504": {"description": "The service did not finish in time", **_ERROR_RESPONSE},
        },
    }}

    def __init__(self, timeout: float = DEFAULT_SERVICE_TIMEOUT) -> None:
        self.timeout = timeout

    async def post(self, request: web.Request, domain: str, service: str) -> Any:
        """Call domain.service with the JSON body as service data (blocking, with a timeout)."""
        hub: Hub = request[KEY_HUB]
        data = await async_read_json_object(request, "Service data")
        return_response = "return_response" in request.query
        context = request_context(request)
        changed: list[State] = []

        @callback
        def _collect(event: Event) -> None:
            event_context = event.context
            if event_context.id == context.id or event_context.parent_id == context.id:
                if (new_state := event.data.get("new_state")) is not None:
                    changed.append(new_state)

        remove = hub.bus.async_listen(EVENT_STATE_CHANGED, _collect)
        try:
            response = await hub.services.async_call(
                domain, service, data, blocking=True, context=context, timeout=self.timeout,
                return_response=return_response,
            )
        finally:
            remove()
        if return_response:
            return {"changed_states": changed, "service_response": response}
        return changed


class APIEventView(HubView):
    """Fire a free event as the token's user (the roles of `http: event_roles`; owned types are refused)."""

    url = "/api/events/{event_type}"
    name = "api:event"
    openapi = {"post": {
        "parameters": [{"name": "event_type", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": f"^{EVENT_TYPE_PATTERN}$"}}],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": _json({"type": "object"}, "The event was fired"),
                      "403": {"description": "An owned event type, or a role that may not fire events",
                              **_ERROR_RESPONSE}},
    }}

    def __init__(self, roles: frozenset[Role] = DEFAULT_EVENT_ROLES) -> None:
        self.roles = roles

    async def post(self, request: web.Request, event_type: str) -> dict[str, Any]:
        """Fire event_type with the JSON body as event data."""
        await async_check_free_event(request[KEY_HUB], event_type)
        data = await async_read_json_object(request, "Event data")
        context = request_context(request)
        request[KEY_HUB].bus.async_fire(event_type, data, context=context)
        return {"message": f"Event {event_type} fired.", "context": context}


def _parse_time(request: web.Request, key: str) -> datetime | None:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, ERR_INVALID_FORMAT, f"{key} must be an ISO 8601 time, got {raw[:40]!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _async_history(hub: Hub, entity_ids: list[str], start_time: datetime,
                         end_time: datetime | None) -> Mapping[str, list[State]]:
    """The recorder's history, imported lazily (the API runs without a recorder); 503 without one."""
    try:
        from ..recorder import get_recorder
    except ImportError as err:
        _LOGGER.debug("No recorder module for history: %s", err)
        raise ApiError(503, ERR_RECORDER_NOT_RUNNING, _NO_RECORDER) from None
    try:
        recorder = get_recorder(hub)
    except HubError:
        raise ApiError(503, ERR_RECORDER_NOT_RUNNING, _NO_RECORDER) from None
    try:
        return await recorder.async_get_history(entity_ids, start_time, end_time)
    except HubError as err:  # stopped, or its database is unreachable
        raise ApiError(503, ERR_RECORDER_NOT_RUNNING, f"History is unavailable: {err}") from None


class APIHistoryView(HubView):
    """State history from the recorder."""

    url = "/api/history"
    name = "api:history"
    roles = ROLES_STAFF
    openapi = {"get": {
        "parameters": [
            {**_query("filter_entity_id", "comma-separated entity ids", required=True),
             "schema": {"type": "string", "pattern": _ENTITY_IDS_PATTERN}},
            {**_query("start_time", "ISO 8601; default one day before end_time"), "schema": _TIME},
            {**_query("end_time", "ISO 8601; default now"), "schema": _TIME},
        ],
        "responses": {
            "200": _json({"type": "array", "items": {"type": "array", "items": _STATE_REF}},
                         "One list of states per entity"),
            "503": {"description": "The recorder is not running", **_ERROR_RESPONSE},
        },
    }}

    async def get(self, request: web.Request) -> web.Response:
        """The states of some entities over a period, oldest first (only those the caller may read; how many
        of the asked ones are left out, per owning centre, in the X-Hacho-Not-Shared header)."""
        hub: Hub = request[KEY_HUB]
        raw_ids = request.query.get("filter_entity_id", "")
        entity_ids = [item.strip().lower() for item in raw_ids.split(",") if item.strip()]
        if not entity_ids:
            raise ApiError(400, ERR_INVALID_FORMAT,
                           "filter_entity_id is required (comma-separated entity ids)")
        if len(entity_ids) > MAX_HISTORY_ENTITIES:
            raise ApiError(400, ERR_INVALID_FORMAT,
                           f"filter_entity_id names {len(entity_ids)} entities; "
                           f"at most {MAX_HISTORY_ENTITIES}")
        if bad := [eid for eid in entity_ids if not valid_entity_id(eid)]:
            raise ApiError(400, ERR_INVALID_FORMAT, f"Invalid entity id {bad[0][:80]!r} in filter_entity_id")
        end_time = _parse_time(request, "end_time")
        start_time = _parse_time(request, "start_time")
        if start_time is None:
            start_time = (end_time or hub.clock.now()) - DEFAULT_HISTORY_PERIOD
        if end_time is not None and end_time < start_time:
            raise ApiError(400, ERR_INVALID_FORMAT, "end_time is before start_time")
        scope = read_scope(hub, request.get(KEY_USER))
        hidden = hidden_entities(hub, scope, entity_ids)
        headers = {HEADER_NOT_SHARED: ",".join(f"{centre}={count}" for centre, count in sorted(hidden.items()))} \
            if hidden else None
        entity_ids = [entity_id for entity_id in entity_ids if scope.sees_entity(hub, entity_id)]
        if not entity_ids:
            return json_response([], headers=headers)
        history = await _async_history(hub, entity_ids, start_time, end_time)
        return json_response([scope.states(hub, list(states)) for states in history.values() if states],
                             headers=headers)


class APIHiddenView(HubView):
    """How much the caller's scoped views leave out: counts per kind and owning centre, never what."""

    url = "/api/hidden"
    name = "api:hidden"
    roles = ROLES_STAFF
    openapi = {"get": {"responses": {"200": _json(
        {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
        "{kind: {centre: count}} of what is not shared with the caller's centre (entities, alarms, ...)")}}}

    async def get(self, request: web.Request) -> dict[str, dict[str, int]]:
        """Counts of what is not shared with the caller's centre."""
        return await async_hidden_counts(request[KEY_HUB], request.get(KEY_USER))


class APIOpenAPIView(HubView):
    """The OpenAPI document of every REST route, built from the registered routes."""

    url = "/api/openapi.json"
    name = "api:openapi"
    roles = ROLES_STAFF
    openapi = {"get": {"responses": {"200": _json({"type": "object"}, "An OpenAPI 3.1 document")}}}

    def __init__(self, http: HubHTTP) -> None:
        self._http = http

    async def get(self, request: web.Request) -> dict[str, Any]:
        """This document."""
        return build_openapi(self._http)


def register_api_views(http: HubHTTP) -> None:
    """Register the built-in REST views."""
    http.register_view(APIStatusView)
    http.register_view(APIStatesView)
    http.register_view(APIEntityStateView)
    http.register_view(APIServicesView(http.conf.get(CONF_SERVICE_TIMEOUT, DEFAULT_SERVICE_TIMEOUT)))
    http.register_view(APIEventView(http.conf.get(CONF_EVENT_ROLES, DEFAULT_EVENT_ROLES)))
    http.register_view(APIHistoryView)
    http.register_view(APIHiddenView)
    http.register_view(APIOpenAPIView(http))
