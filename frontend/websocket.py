"""`/c/{centre}/ws`: the hub's websocket protocol for a logged-in browser (session cookie, not a token).

The cookie alone does not open it: the page's first message must carry the session's CSRF token
(`{"type": "auth", "csrf_token": ...}`), and a browser Origin must be this site, so another site
cannot ride an operator's cookie. Then every registered command works as on /api/websocket,
acting as the session's user (the permission hook checks each service call). The socket closes
with code 4001 when the session ends (logout, revocation, timeout).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

import orjson
from aiohttp import WSMsgType, hdrs, web

from hub.auth.sessions import EVENT_LOGOUT, Session
from hub.const import __version__
from hub.core import Event, callback
from hub.http.const import (
    CONF_MAX_BODY_BYTES,
    CONF_SERVICE_TIMEOUT,
    CONF_WEBSOCKET_MAX_PENDING,
    DEFAULT_SERVICE_TIMEOUT,
    DEFAULT_WEBSOCKET_MAX_PENDING,
    ERR_FORBIDDEN,
)
from hub.http.view import error_response, json_dumps, same_origin
from hub.http.websocket_api import WS_CONNECTIONS_KEY, ActiveConnection
from hub.http.websocket_credentials import CREDENTIALS_KEY

from .view import FrontendView, Refused

__all__ = ["CLOSE_SESSION_ENDED", "CentreWebSocketView"]

_LOGGER = logging.getLogger(__name__)

AUTH_TIMEOUT: Final = 10.0
HEARTBEAT: Final = 30.0
CLOSE_SESSION_ENDED: Final = 4001


class CentreWebSocketView(FrontendView):
    """The live connection of a centre's screens."""

    url = "/c/{centre}/ws"
    name = "frontend:websocket"

    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """Open the live connection (after the session, centre and origin checks)."""
        try:
            viewer = self.viewer(request, centre)
        except Refused as refused:
            status = refused.response.status
            return error_response(status, "unauthorized" if status == 401 else "forbidden",
                                  refused.response.reason or "refused")
        if not same_origin(request):
            _LOGGER.warning("Refused a websocket from %s: Origin %s is another site", request.remote,
                            request.headers.get(hdrs.ORIGIN))
            return error_response(403, ERR_FORBIDDEN, "Cross-site websocket refused")
        conf = self.frontend.http.conf
        wsock = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=int(conf[CONF_MAX_BODY_BYTES]))
        await wsock.prepare(request)
        connections = request.app[WS_CONNECTIONS_KEY]
        connections.add(wsock)
        connection: ActiveConnection | None = None
        unsub_logout = unwatch = None
        closing: list[asyncio.Task[None]] = []
        try:
            if not await self._async_auth(wsock, viewer.session):
                return wsock
            session_id = viewer.session.id
            connection = ActiveConnection(
                self.frontend.hub, wsock, viewer.session.user(),
                max_pending=int(conf.get(CONF_WEBSOCKET_MAX_PENDING, DEFAULT_WEBSOCKET_MAX_PENDING)),
                service_timeout=float(conf.get(CONF_SERVICE_TIMEOUT, DEFAULT_SERVICE_TIMEOUT)),
                credential=lambda: self.frontend.sessions.is_live(session_id),
            )
            unsub_logout = self._close_on_logout(wsock, viewer.session, closing)
            unwatch = request.app[CREDENTIALS_KEY].async_add(connection)  # a disabled user's sockets close
            await connection.async_run()
        except (ConnectionError, RuntimeError) as err:
            _LOGGER.debug("Frontend websocket lost: %s", err)
        finally:
            if unsub_logout is not None:
                unsub_logout()
            if unwatch is not None:
                unwatch()
            connections.discard(wsock)
            if connection is not None:
                connection.async_cleanup()
                await connection.async_wait_closed()
            if closing:
                await closing[0]  # the close frame with its code goes out before the handler ends
            else:
                await wsock.close()
        return wsock

    async def _async_auth(self, wsock: web.WebSocketResponse, session: Session) -> bool:
        await wsock.send_str(json_dumps({"type": "auth_required", "version": __version__}).decode())
        try:
            msg = await wsock.receive(timeout=AUTH_TIMEOUT)
        except TimeoutError:
            return False
        data: Any = None
        if msg.type is WSMsgType.TEXT:
            try:
                data = orjson.loads(msg.data)
            except orjson.JSONDecodeError:
                data = None
        token = data.get("csrf_token") if isinstance(data, dict) and data.get("type") == "auth" else None
        if not isinstance(token, str) or not self.frontend.sessions.check_csrf(session, token):
            await wsock.send_str(json_dumps({"type": "auth_invalid",
                                             "message": "Missing or invalid CSRF token"}).decode())
            return False
        await wsock.send_str(json_dumps({"type": "auth_ok", "version": __version__}).decode())
        return True

    def _close_on_logout(self, wsock: web.WebSocketResponse, session: Session,
                         closing: list[asyncio.Task[None]]) -> Any:
        hub = self.frontend.hub

        @callback
        def _ended(event: Event) -> None:
            if event.data.get("session_id") != session.id or closing:
                return
            closing.append(hub.async_create_background_task(_close(), "close frontend websocket"))

        async def _close() -> None:
            try:
                async with asyncio.timeout(5):
                    await wsock.close(code=CLOSE_SESSION_ENDED, message=b"Session ended")
            except (TimeoutError, ConnectionError, RuntimeError):
                pass

        return hub.bus.async_listen(EVENT_LOGOUT, _ended)
