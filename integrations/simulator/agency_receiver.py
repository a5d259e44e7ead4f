"""A stand-in for the agencies' servers: takes what `agency.notify` posts, checks its signature, answers 200."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from hub.core import Hub
from integrations.agencies.signing import SignatureError, WebhookSecret, verify

from .const import EVENT_SIMULATOR_AGENCY_MESSAGE

__all__ = ["AgencyReceiver"]

_LOGGER = logging.getLogger(__name__)

_MAX_BODY = 1024 * 1024


class AgencyReceiver:
    """`POST /agencies/<agency_id>` on a local port, as the fire brigade or the ministry would receive it.

    Where a secret is configured for the agency the Standard Webhooks signature must verify (401
    otherwise, so a wrong demo secret shows up as failing deliveries); every accepted message fires
    `simulator_agency_message` (agency_id, message_id, content_type, bytes, verified).
    """

    def __init__(self, hub: Hub, host: str, port: int, secrets: Mapping[str, Sequence[WebhookSecret]],
                 tolerance: float = 300.0) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self.secrets = {agency: tuple(keys) for agency, keys in secrets.items()}
        self.tolerance = tolerance
        self.received: Counter[str] = Counter()
        self.refused = 0
        self._runner: web.AppRunner | None = None

    async def async_start(self) -> bool:
        """Listen; False (logged) when the port cannot be bound, so the rest of the city still runs."""
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_post("/agencies/{agency_id}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            _LOGGER.error("Simulated agency receiver not started on %s:%s: %s (deliveries will be retried)",
                          self.host, self.port, err.strerror or err)
            return False
        self._runner = runner
        if runner.addresses:
            self.port = runner.addresses[0][1]  # the port really bound (0 asks for a free one)
        _LOGGER.info("Simulated agency receiver on http://%s:%s/agencies/<agency_id>", self.host, self.port)
        return True

    async def async_stop(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def listening(self) -> bool:
        """Whether the server is up."""
        return self._runner is not None

    @property
    def url(self) -> str:
        """Base URL; an agency's endpoint is `<url>/<agency_id>`."""
        return f"http://{self.host}:{self.port}/agencies"

    async def _handle(self, request: web.Request) -> web.Response:
        agency_id = request.match_info["agency_id"]
        body = await request.read()
        keys = self.secrets.get(agency_id)
        message_id = request.headers.get("webhook-id", "")
        if keys:
            try:
                message_id, _timestamp = verify(keys, request.headers, body, self.hub.clock.time(), self.tolerance)
            except SignatureError as err:
                self.refused += 1
                _LOGGER.warning("Simulated agency %s refused a message: %s", agency_id, err)
                return web.json_response({"error": err.code}, status=401)
        self.received[agency_id] += 1
        self.hub.bus.async_fire(EVENT_SIMULATOR_AGENCY_MESSAGE, {
            "agency_id": agency_id, "message_id": message_id, "content_type": request.content_type,
            "bytes": len(body), "verified": bool(keys)})
        return web.json_response({"status": "received", "message_id": message_id})

    def stats(self) -> dict[str, Any]:
        """Messages received per agency and refused, for diagnostics."""
        return {"url": self.url, "listening": self.listening, "received": dict(self.received),
                "refused": self.refused}
