"""The hub's HTTP and websocket API (aiohttp), authenticated by long-lived access tokens.

Usage: `http = await async_setup_http(hub, config.get("http"))`; other modules call
`get_http(hub).register_view(MyView)` (or add raw routes on `http.app`), before or after the bootstrap's
`await http.async_start()` (the server answers while integrations still set up). It stops on `hub_stop`.
"""

from __future__ import annotations

from .auth import current_user
from .const import DOMAIN, HUB_KEY, KEY_HUB, KEY_USER
from .server import CONFIG_SCHEMA, HTTP_KEY, HubHTTP, async_setup_http, get_http
from .view import (
    ApiError,
    HubView,
    async_read_json,
    async_read_json_object,
    error_response,
    json_response,
    request_context,
)
from .websocket_api import ActiveConnection, async_register_command

__all__ = [
    "CONFIG_SCHEMA",
    "DOMAIN",
    "HTTP_KEY",
    "HUB_KEY",
    "KEY_HUB",
    "KEY_USER",
    "ActiveConnection",
    "ApiError",
    "HubHTTP",
    "HubView",
    "async_read_json",
    "async_read_json_object",
    "async_register_command",
    "async_setup_http",
    "current_user",
    "error_response",
    "get_http",
    "json_response",
    "request_context",
]
