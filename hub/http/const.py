"""Constants of the HTTP API: typed app/request keys, config keys, error codes, reserved events."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from ..auth.models import User
from ..auth.tokens import TokenStore
from ..const import (
    EVENT_CALL_SERVICE,
    EVENT_HUB_CLOSE,
    EVENT_HUB_FINAL_WRITE,
    EVENT_HUB_START,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
    EVENT_INTEGRATION_FAILED,
    EVENT_INTEGRATION_LOADED,
    EVENT_INTEGRATION_UNLOADED,
    EVENT_SERVICE_REGISTERED,
    EVENT_SERVICE_REMOVED,
    EVENT_STATE_CHANGED,
)
from ..core import Hub

DOMAIN: Final = "http"

CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_CORS_ORIGINS: Final = "cors_origins"
CONF_SSL_CERTIFICATE: Final = "ssl_certificate"
CONF_SSL_KEY: Final = "ssl_key"
CONF_MAX_BODY_BYTES: Final = "max_body_bytes"
CONF_SERVICE_TIMEOUT: Final = "service_timeout"
CONF_WEBSOCKET_MAX_PENDING: Final = "websocket_max_pending"
CONF_EVENT_ROLES: Final = "event_roles"  # who may fire free (unowned) events through the API

DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024
DEFAULT_SERVICE_TIMEOUT: Final = 60.0
DEFAULT_WEBSOCKET_MAX_PENDING: Final = 1024

# Application and request storage, typed (aiohttp AppKey/RequestKey).
HUB_KEY: Final[web.AppKey[Hub]] = web.AppKey("hub", Hub)
TOKEN_STORE_KEY: Final[web.AppKey[TokenStore]] = web.AppKey("token_store", TokenStore)
PUBLIC_ROUTES_KEY: Final[web.AppKey[set[web.AbstractRoute]]] = web.AppKey("public_routes")
KEY_HUB: Final[web.RequestKey[Hub]] = web.RequestKey("hub", Hub)
KEY_USER: Final[web.RequestKey[User]] = web.RequestKey("user", User)

# Attributes set on route handlers made by HubView.
ATTR_REQUIRES_AUTH: Final = "__hub_requires_auth__"
ATTR_VIEW: Final = "__hub_view__"

# Error codes in `{"error": {"code": ..., "message": ...}}` (REST) and websocket results.
ERR_BAD_REQUEST: Final = "bad_request"
ERR_INVALID_JSON: Final = "invalid_json"
ERR_INVALID_FORMAT: Final = "invalid_format"
ERR_VALIDATION: Final = "validation_error"
ERR_UNAUTHORIZED: Final = "unauthorized"
ERR_FORBIDDEN: Final = "forbidden"
ERR_NOT_FOUND: Final = "not_found"
ERR_ENTITY_NOT_FOUND: Final = "entity_not_found"
ERR_SERVICE_NOT_FOUND: Final = "service_not_found"
ERR_METHOD_NOT_ALLOWED: Final = "method_not_allowed"
ERR_PAYLOAD_TOO_LARGE: Final = "payload_too_large"
ERR_TIMEOUT: Final = "timeout"
ERR_HUB_ERROR: Final = "hub_error"
ERR_DEVICE_UNAVAILABLE: Final = "device_unavailable"
ERR_RECORDER_NOT_RUNNING: Final = "recorder_not_running"
ERR_INTERNAL: Final = "internal_error"
ERR_UNKNOWN_COMMAND: Final = "unknown_command"
ERR_ID_REUSE: Final = "id_reuse"

# Events only the hub itself may fire: firing hub_stop or state_changed through the API would
# stop the hub or forge history.
RESERVED_EVENT_TYPES: Final = frozenset({
    EVENT_STATE_CHANGED,
    EVENT_CALL_SERVICE,
    EVENT_SERVICE_REGISTERED,
    EVENT_SERVICE_REMOVED,
    EVENT_HUB_START,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
    EVENT_HUB_FINAL_WRITE,
    EVENT_HUB_CLOSE,
    EVENT_INTEGRATION_LOADED,
    EVENT_INTEGRATION_FAILED,
    EVENT_INTEGRATION_UNLOADED,
})
