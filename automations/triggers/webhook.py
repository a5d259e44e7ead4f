"""`platform: webhook`: an HTTP request to /api/webhook/<webhook_id>; the registry the HTTP view calls."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Context, Hub, HubKey, callback
from hub.helpers import config_validation as cv

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger", "async_handle_webhook", "async_register_webhook"]

_LOGGER = logging.getLogger(__name__)

METHODS = ("GET", "HEAD", "POST", "PUT")
DEFAULT_METHODS = ("POST", "PUT")

_WEBHOOKS: HubKey[dict[str, _Webhook]] = HubKey("automations_webhooks")

TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "webhook",
    vol.Required("webhook_id"): cv.string,
    vol.Optional("allowed_methods", default=list(DEFAULT_METHODS)): vol.All(
        cv.ensure_list, [vol.All(cv.string, vol.Upper, vol.In(METHODS))]),
    vol.Optional("local_only", default=True): cv.boolean,
})


class _Webhook:
    __slots__ = ("handler", "local_only", "methods")

    def __init__(self, handler: Callable[[dict[str, Any]], None], methods: frozenset[str],
                 local_only: bool) -> None:
        self.handler = handler
        self.methods = methods
        self.local_only = local_only


def _is_local(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


@callback
def async_register_webhook(hub: Hub, webhook_id: str, handler: Callable[[dict[str, Any]], None],
                           methods: frozenset[str] = frozenset(DEFAULT_METHODS),
                           local_only: bool = True) -> CALLBACK_TYPE:
    """Route requests for `webhook_id` to `handler(request_data)`; returns the remover."""
    hooks = hub.data.setdefault(_WEBHOOKS, {})
    if webhook_id in hooks:
        raise ValueError(f"webhook {webhook_id!r} is already in use")
    entry = _Webhook(handler, methods, local_only)
    hooks[webhook_id] = entry

    @callback
    def remove() -> None:
        if hooks.get(webhook_id) is entry:
            del hooks[webhook_id]

    return remove


@callback
def async_handle_webhook(hub: Hub, webhook_id: str, method: str, *, json: Any = None,
                         query: Mapping[str, str] | None = None, remote: str | None = None,
                         headers: Mapping[str, str] | None = None) -> int:
    """Deliver one request; returns the HTTP status to answer (200, 404 unknown, 405 method, 403 remote)."""
    entry = hub.data.get(_WEBHOOKS, {}).get(webhook_id)
    if entry is None:
        return 404
    if method.upper() not in entry.methods:
        return 405
    if entry.local_only and not _is_local(remote):
        return 403
    entry.handler({"json": json, "query": dict(query or {}), "method": method.upper(),
                   "headers": dict(headers or {})})
    return 200


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Register the webhook id; each request fires the trigger with its JSON and query."""
    trigger_data = trigger_info["trigger_data"]
    webhook_id = config["webhook_id"]

    @callback
    def on_request(request: dict[str, Any]) -> None:
        action({**trigger_data, "platform": "webhook", "webhook_id": webhook_id, **request,
                "description": f"webhook {webhook_id}"}, Context())

    return async_register_webhook(hub, webhook_id, on_request, frozenset(config["allowed_methods"]),
                                  config["local_only"])
