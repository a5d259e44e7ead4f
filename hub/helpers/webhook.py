"""Webhooks: requests to /api/webhook/<webhook_id> routed to whoever registered the id (automation triggers).

The view that serves the path (the automation engine's, or an integration's that shares the path) calls
`async_handle_webhook`; a trigger (or anything else) registers its id with `async_register_webhook`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from ..core import CALLBACK_TYPE, Hub, HubKey, callback

__all__ = ["DEFAULT_METHODS", "METHODS", "async_handle_webhook", "async_register_webhook"]

METHODS = ("GET", "HEAD", "POST", "PUT")
DEFAULT_METHODS = ("POST", "PUT")

_WEBHOOKS: HubKey[dict[str, _Webhook]] = HubKey("webhooks")


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
