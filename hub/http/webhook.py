"""A webhook request handed to the hub's webhook registry (`hub.helpers.webhook`): 200 empty, or a JSON error.

The automation engine's webhook view and the agencies' fallback for ids that are not an agency's serve
requests with it, so both answer alike.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ..core import Hub
from ..helpers.json_depth import loads_limited
from ..helpers.webhook import async_handle_webhook
from .view import error_response

__all__ = ["async_webhook_response"]

_LOGGER = logging.getLogger(__name__)

_REFUSALS = {404: ("not_found", "No webhook {}"), 405: ("method_not_allowed", "Webhook {} does not take {}"),
             403: ("forbidden", "Webhook {} only takes requests from the local network")}


async def async_webhook_response(hub: Hub, request: web.Request, webhook_id: str) -> web.Response:
    """Hand a request to the `platform: webhook` trigger of `webhook_id`: 200 empty, or a JSON error."""
    payload: Any = None
    if request.can_read_body:
        try:
            payload = loads_limited(await request.read())  # too deep: JsonTooDeep, a 400
        except ValueError:
            payload = await request.text()
    status = async_handle_webhook(hub, webhook_id, request.method, json=payload, query=request.query,
                                  remote=request.remote, headers=request.headers)
    if status == 200:
        return web.Response(status=200)
    _LOGGER.debug("Webhook %s answered %s", webhook_id, status)
    code, message = _REFUSALS.get(status, ("refused", "Webhook {} refused the request"))
    return error_response(status, code, message.format(repr(webhook_id), request.method))
