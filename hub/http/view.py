"""HubView (the base of every API route), JSON responses and errors, and the error middleware."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

import orjson
import voluptuous as vol
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..auth.users import Role
from ..core import Context, Hub
from ..exceptions import (
    DeviceUnavailable,
    HubError,
    InvalidEntityId,
    InvalidStateError,
    ServiceCallTimeout,
    ServiceNotFound,
    ServiceValidationError,
    Unauthorized,
)
from ..helpers.json_depth import JsonTooDeep, loads_limited
from ..humanize import humanize_invalid
from .const import (
    ATTR_REQUIRES_AUTH,
    ATTR_VIEW,
    ERR_BAD_REQUEST,
    ERR_DEVICE_UNAVAILABLE,
    ERR_FORBIDDEN,
    ERR_HUB_ERROR,
    ERR_INTERNAL,
    ERR_INVALID_FORMAT,
    ERR_INVALID_JSON,
    ERR_METHOD_NOT_ALLOWED,
    ERR_NOT_FOUND,
    ERR_PAYLOAD_TOO_LARGE,
    ERR_SERVICE_NOT_FOUND,
    ERR_TIMEOUT,
    ERR_UNAUTHORIZED,
    ERR_VALIDATION,
    KEY_USER,
    RESERVED_EVENT_TYPES,
)

__all__ = [
    "EVENT_TYPE_PATTERN",
    "ApiError",
    "HubView",
    "async_check_free_event",
    "async_read_json",
    "async_read_json_object",
    "check_event_type",
    "error_for_exception",
    "error_middleware",
    "error_response",
    "humanize_invalid",
    "json_dumps",
    "json_response",
    "request_context",
    "same_origin",
]

_LOGGER = logging.getLogger(__name__)

_METHODS: Final = ("get", "post", "put", "patch", "delete")
_STATUS_CODES: Final = {
    400: ERR_BAD_REQUEST,
    401: ERR_UNAUTHORIZED,
    403: ERR_FORBIDDEN,
    404: ERR_NOT_FOUND,
    405: ERR_METHOD_NOT_ALLOWED,
    413: ERR_PAYLOAD_TOO_LARGE,
}
EVENT_TYPE_PATTERN: Final = r"[A-Za-z0-9_.:-]{1,64}"  # what a client may name an event (OpenAPI too)
_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)
_MISSING: Any = object()


# --------------------------------------------------------------------------- JSON


def _json_default(obj: Any) -> Any:
    as_dict = getattr(obj, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    if isinstance(obj, Path | Enum):
        return str(obj)
    # An attribute no client can use should not make the whole state list fail.
    _LOGGER.debug("Serialising unsupported type %s as a string", type(obj).__name__)
    return str(obj)


def json_dumps(data: Any) -> bytes:
    """Serialise with orjson; objects with `as_dict()` (State, Event, Context) are expanded."""
    return orjson.dumps(data, default=_json_default, option=orjson.OPT_NON_STR_KEYS)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response."""
    return web.Response(body=json_dumps(data), status=status, headers=headers,
                        content_type="application/json")


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> web.Response:
    """The one error shape of the API: `{"error": {"code": ..., "message": ...}}`."""
    return json_response({"error": {"code": code, "message": message}}, status, headers)


class ApiError(Exception):
    """Raised by a view to answer with a JSON error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_for_exception(err: BaseException) -> tuple[int, str, str] | None:
    """(HTTP status, code, message) for errors a caller can cause; None for a server fault."""
    if isinstance(err, ApiError):
        return err.status, err.code, err.message
    if isinstance(err, ServiceNotFound):
        return 404, ERR_SERVICE_NOT_FOUND, str(err)
    if isinstance(err, Unauthorized):
        return 403, ERR_FORBIDDEN, str(err)
    if isinstance(err, ServiceCallTimeout):
        return 504, ERR_TIMEOUT, str(err)
    if isinstance(err, ServiceValidationError | InvalidEntityId | InvalidStateError):
        return 400, ERR_VALIDATION, str(err)
    if isinstance(err, vol.Invalid):
        return 400, ERR_VALIDATION, humanize_invalid(err)
    if isinstance(err, JsonTooDeep):
        return 400, ERR_INVALID_JSON, str(err)
    if isinstance(err, DeviceUnavailable):
        return 503, ERR_DEVICE_UNAVAILABLE, str(err)
    if isinstance(err, HubError):
        return 400, ERR_HUB_ERROR, str(err)
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into a JSON error body: 4xx for what the caller did, a logged 500 for the rest."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        text = exc.text or ""
        message = text if text and not text.startswith(f"{exc.status}:") else exc.reason
        headers = {key: value for key, value in exc.headers.items()
                   if key.lower() not in ("content-type", "content-length")}
        return error_response(exc.status, _STATUS_CODES.get(exc.status, f"http_{exc.status}"),
                              message, headers)
    except Exception as err:
        mapped = error_for_exception(err)
        if mapped is not None:
            return error_response(*mapped)
        _LOGGER.exception("Error handling %s %s", request.method, request.path)
        return error_response(500, ERR_INTERNAL, "Internal server error; see the hub log")


# --------------------------------------------------------------------------- request helpers


async def async_read_json(request: web.Request, default: Any = _MISSING) -> Any:
    """The request body parsed as JSON; `default` for an empty body. 400/413 as ApiError.

    A body nested deeper than hub.helpers.json_depth.MAX_JSON_DEPTH raises JsonTooDeep (400).
    """
    body = await request.read()  # aiohttp stops reading and raises 413 past client_max_size
    if not body.strip():
        if default is not _MISSING:
            return default
        raise ApiError(400, ERR_INVALID_JSON, "Request body is empty; expected JSON")
    try:
        return loads_limited(body)
    except orjson.JSONDecodeError as err:
        raise ApiError(400, ERR_INVALID_JSON, f"Request body is not valid JSON: {err}") from None


async def async_read_json_object(request: web.Request, what: str) -> dict[str, Any]:
    """The body as a JSON object (empty body: {}); 400 naming `what` for any other JSON type."""
    data = await async_read_json(request, default={})
    if not isinstance(data, dict):
        raise ApiError(400, ERR_INVALID_FORMAT, f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def request_context(request: web.Request) -> Context:
    """A new Context for work done on behalf of this request's user (and control centre)."""
    user = request.get(KEY_USER)
    return user.context() if user is not None else Context()


def same_origin(request: web.Request) -> bool:
    """Whether the Origin header, when a browser sent one, names this site (so another site's page
    cannot ride a session cookie, e.g. on a websocket, which browsers open cross-site)."""
    origin = request.headers.get(hdrs.ORIGIN)
    return origin is None or urlsplit(origin).netloc == request.host


def check_event_type(event_type: str) -> None:
    """Refuse event types a client may not fire: malformed, or reserved for the hub itself."""
    if not _EVENT_TYPE.fullmatch(event_type):
        raise ApiError(400, ERR_INVALID_FORMAT,
                       f"Invalid event type {event_type[:70]!r}: use 1 to 64 letters, digits and _ . : -")
    if event_type in RESERVED_EVENT_TYPES:
        raise ApiError(403, ERR_FORBIDDEN, f"Event type {event_type} is reserved for the hub")


async def async_check_free_event(hub: Hub, event_type: str) -> None:
    """Refuse what `check_event_type` refuses, and every owned event type (hub.helpers.owned_events):
    those only their producer fires; people go through the owner's services."""
    from ..helpers.owned_events import CORE_OWNER, async_get_owned_events

    check_event_type(event_type)
    owner = (await async_get_owned_events(hub)).owner(event_type)
    if owner == CORE_OWNER:
        raise ApiError(403, ERR_FORBIDDEN, f"Event type {event_type} is reserved for the hub")
    if owner is not None:
        raise ApiError(403, ERR_FORBIDDEN, f"Event type {event_type} belongs to the {owner} integration: only it "
                                           f"fires it (use its services, e.g. a drill, instead)")


# --------------------------------------------------------------------------- views


class HubView:
    """Base of an API route: set `url` and `name`, define `get`/`post`/... as `async def get(self, request)`.

    Path placeholders arrive as keyword arguments. A handler returns a response, or any
    JSON-able value (sent as 200 JSON), or raises ApiError / a hub error (mapped to 4xx JSON).
    Every view requires a bearer token unless it sets `requires_auth = False`, and every view declares
    `roles`, the roles that may use it (hub.http.access ROLES_*; a view without is refused). `openapi` may add
    per-method OpenAPI fields (parameters, requestBody, responses); the summary is the
    handler's docstring.
    """

    url: ClassVar[str]
    name: ClassVar[str]
    extra_urls: ClassVar[list[str]] = []
    requires_auth: ClassVar[bool] = True
    roles: frozenset[Role] | None = None  # who may use it: declared by every view
    include_in_openapi: ClassVar[bool] = True
    openapi_tag: ClassVar[str] = "api"
    openapi: ClassVar[dict[str, dict[str, Any]]] = {}

    def methods(self) -> list[str]:
        """The HTTP methods (lower case) this view handles."""
        return [method for method in _METHODS if callable(getattr(self, method, None))]

    def register(self, router: web.UrlDispatcher) -> list[web.AbstractRoute]:
        """Add this view's routes to `router`."""
        routes = []
        for url in [self.url, *self.extra_urls]:
            for method in self.methods():
                handler = _wrap(self, getattr(self, method))
                route_name = self.name if url == self.url else None
                routes.append(router.add_route(method.upper(), url, handler, name=route_name))
        return routes


def _wrap(view: HubView,
          method: Callable[..., Any]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        result = method(request, **request.match_info)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    handle.__doc__ = method.__doc__
    handle.__name__ = f"{type(view).__name__}.{method.__name__}"
    setattr(handle, ATTR_REQUIRES_AUTH, view.requires_auth)
    setattr(handle, ATTR_VIEW, view)
    return handle
