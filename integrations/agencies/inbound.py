"""POST /api/webhook/{webhook_id}: agencies push to us, authenticated by Standard Webhooks signatures.

The signature is checked before anything counts against the agency: only a correctly signed,
fresh request takes a token from the agency's rate limit. A request that proves no agency
(unsigned, forged, stale, oversized) counts against its source address's own budget instead
(refusals.AnonymousRefusals) and is audited aggregated, one entry per address and minute.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import orjson
import voluptuous as vol
from aiohttp import hdrs, web

from hub.core import Context, Hub, callback
from hub.exceptions import HubError
from hub.helpers.json_depth import JsonTooDeep, loads_limited
from hub.http import HUB_KEY, HubView, error_response, get_http, json_response
from hub.http.access import ROLES_ALL
from hub.http.view import humanize_invalid
from hub.http.webhook import async_webhook_response

from .audit import audit
from .config import AgencyConfig, InboundConfig
from .const import AUDIT_ACTION_WEBHOOK_REFUSED, EVENT_WEBHOOK_RECEIVED, WEBHOOK_URL
from .manager import DATA_MANAGER, AgencyManager
from .refusals import AnonymousRefusals, TokenBucket
from .signing import SignatureError, verify

__all__ = ["AgencyWebhookView", "InboundHandler", "TokenBucket", "async_register_inbound_view"]

_LOGGER = logging.getLogger(__name__)


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.anonymous = False  # refused before the signature proved which agency sent it


class InboundHandler:
    """Checks and accepts webhooks for the configured agencies (one token bucket each, for signed requests)."""

    def __init__(self, manager: AgencyManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        now = self.hub.clock.monotonic()
        self._buckets = {
            hook: TokenBucket(agency.inbound.rate, agency.inbound.burst, now)
            for hook, agency in manager.webhooks.items() if agency.inbound is not None
        }
        self.anonymous = AnonymousRefusals(self.hub)

    @callback
    def async_shutdown(self) -> None:
        """Audit the anonymous refusals counted so far (the integration is stopping)."""
        self.anonymous.async_flush()

    async def async_handle(self, request: web.Request, webhook_id: str) -> web.Response:
        agency = self.manager.webhooks.get(webhook_id)
        if agency is None or agency.inbound is None:
            _LOGGER.debug("Webhook %r is not configured", webhook_id)
            return error_response(404, "not_found", f"No webhook {webhook_id!r}")
        inbound = agency.inbound
        try:
            return await self._async_accept(request, agency, inbound)
        except _Refused as refused:
            if refused.anonymous:
                self.anonymous.record(request.remote or "unknown", webhook_id, refused.status, refused.code)
            else:
                audit(self.hub, AUDIT_ACTION_WEBHOOK_REFUSED, target=f"webhook/{webhook_id}",
                      outcome="refused", level=logging.WARNING, data={
                    "agency_id": agency.id, "status": refused.status, "code": refused.code,
                    "reason": refused.message, "remote": request.remote,
                    "message_id": request.headers.get("webhook-id"),
                })
            return error_response(refused.status, refused.code, refused.message, refused.headers)

    async def _async_accept(self, request: web.Request, agency: AgencyConfig,
                            inbound: InboundConfig) -> web.Response:
        try:
            body = await _read_limited(request, inbound.max_body_bytes)
            try:
                message_id, timestamp = verify(inbound.secrets, request.headers, body, self.hub.clock.time(),
                                               inbound.tolerance)
            except SignatureError as err:
                raise _Refused(401, err.code, str(err)) from None
        except _Refused as refused:  # no agency proven: the source address's budget, not the agency's
            refused.anonymous = True
            wait = self.anonymous.take(request.remote or "unknown")
            if wait > 0:
                limited = _Refused(429, "rate_limited", "Too many unsigned or invalid requests from this "
                                   "address", {hdrs.RETRY_AFTER: str(max(1, int(wait + 0.999)))})
                limited.anonymous = True
                raise limited from None
            raise
        wait = self._buckets[inbound.webhook_id].take(self.hub.clock.monotonic())
        if wait > 0:
            raise _Refused(429, "rate_limited", f"Too many requests for webhook {inbound.webhook_id}",
                           {hdrs.RETRY_AFTER: str(max(1, int(wait + 0.999)))})
        try:
            payload = loads_limited(body)
        except orjson.JSONDecodeError as err:
            raise _Refused(400, "invalid_json", f"Body is not valid JSON: {err}") from None
        except JsonTooDeep as err:
            raise _Refused(400, "invalid_json", f"Body refused: {err}") from None
        try:
            payload = inbound.schema(payload)
        except vol.Invalid as err:
            raise _Refused(422, "validation_error", humanize_invalid(err)) from None
        ttl = timestamp + inbound.tolerance - self.hub.clock.time() + 1  # after that it is stale anyway
        try:
            fresh = await self.manager.require_outbox().async_remember_seen(
                f"agency:{agency.id}", message_id, max(ttl, 1.0))
        except HubError as err:  # without the database a replay cannot be excluded: let the sender retry
            _LOGGER.error("Webhook %s: cannot check for replays: %s", inbound.webhook_id, err)
            return error_response(503, "unavailable", "Cannot accept webhooks right now",
                                  {hdrs.RETRY_AFTER: "30"})
        if not fresh:
            raise _Refused(409, "replayed", f"Message {message_id} was already received")
        context = Context()
        self.hub.bus.async_fire(EVENT_WEBHOOK_RECEIVED, {
            "agency_id": agency.id,
            "webhook_id": inbound.webhook_id,
            "message_id": message_id,
            "timestamp": timestamp,
            "body": payload,
        }, context=context)
        _LOGGER.debug("Webhook %s from %s accepted: %s", message_id, agency.id, payload)
        return json_response({"status": "accepted", "message_id": message_id, "context_id": context.id})


async def _read_limited(request: web.Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is longer than `limit` (whatever Content-Length says)."""
    if request.content_length is not None and request.content_length > limit:
        raise _Refused(413, "payload_too_large", f"Body of {request.content_length} bytes; at most {limit}")
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await request.content.read(limit + 1 - total)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise _Refused(413, "payload_too_large", f"Body longer than {limit} bytes")
        chunks.append(chunk)


class AgencyWebhookView(HubView):
    """Agencies' webhooks; no token: the Standard Webhooks signature authenticates each request.

    The automation engine's `platform: webhook` triggers share /api/webhook/{id}: a POST for an id
    that is no agency's is handed to their registry, so both kinds of webhook live side by side.
    """

    url = WEBHOOK_URL
    name = "api:agency_webhook"  # the automation engine's view of the same path is "api:webhook"
    requires_auth = False
    roles = ROLES_ALL  # the signature decides; an agency token reaches only its own webhook ids
    openapi_tag = "agencies"
    openapi: ClassVar[dict[str, dict[str, Any]]] = {"post": {"responses": {
        "200": {"description": "Accepted; `agency_webhook_received` fired"},
        "401": {"description": "Missing, stale or invalid signature"},
        "404": {"description": "No such webhook"},
        "409": {"description": "This webhook-id was already received"},
        "413": {"description": "Body too large"},
        "422": {"description": "Body does not match the webhook's schema"},
        "429": {"description": "Rate limit exceeded (see Retry-After)"},
    }}}

    async def post(self, request: web.Request, webhook_id: str) -> web.Response:
        """Receive a signed webhook from an agency (or an automation's webhook trigger)."""
        hub = request.app[HUB_KEY]
        manager = hub.data.get(DATA_MANAGER)
        if manager is not None and manager.inbound is not None and webhook_id in manager.webhooks:
            return await manager.inbound.async_handle(request, webhook_id)
        return await _async_automation_webhook(hub, request, webhook_id)


async def _async_automation_webhook(hub: Hub, request: web.Request, webhook_id: str) -> web.Response:
    """What the automation engine's webhook view does with a request (the hub's webhook registry)."""
    return await async_webhook_response(hub, request, webhook_id)


def async_register_inbound_view(hub: Hub) -> bool:
    """Serve the webhooks when the HTTP API is set up and not started; False otherwise.

    aiohttp routes cannot be removed: after an unload the route answers 404 until the
    integration is loaded again. It must be registered before the automation engine's view of the
    same path (the bootstrap sets integrations up first), or that view answers every POST.
    """
    try:
        http = get_http(hub)
        if any(isinstance(view, AgencyWebhookView) for view in http.views):
            return True
        shadowing = [view for view in http.views if getattr(view, "url", None) == WEBHOOK_URL]
        http.register_view(AgencyWebhookView)
    except HubError as err:
        _LOGGER.info("Agency webhooks not served: %s", err)
        return False
    if shadowing:
        _LOGGER.warning("Agency webhooks are shadowed by %s, registered earlier for %s",
                        type(shadowing[0]).__name__, WEBHOOK_URL)
    return True
