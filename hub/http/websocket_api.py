"""The websocket API on /api/websocket: Home Assistant's protocol, one bounded send queue per client."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import orjson
import voluptuous as vol
from aiohttp import WSCloseCode, WSMsgType, web

from ..auth.models import User
from ..auth.users import Role
from ..const import __version__
from ..core import CALLBACK_TYPE, Context, Hub, HubKey, callback
from ..helpers.json_depth import JsonTooDeep, loads_limited
from .access import DEFAULT_EVENT_ROLES, ROLES_STAFF, check_roles, principal_allowed
from .const import (
    CONF_EVENT_ROLES,
    CONF_MAX_BODY_BYTES,
    CONF_SERVICE_TIMEOUT,
    CONF_WEBSOCKET_MAX_PENDING,
    DEFAULT_SERVICE_TIMEOUT,
    DEFAULT_WEBSOCKET_MAX_PENDING,
    ERR_FORBIDDEN,
    ERR_ID_REUSE,
    ERR_INTERNAL,
    ERR_INVALID_FORMAT,
    ERR_INVALID_JSON,
    ERR_UNKNOWN_COMMAND,
    KEY_HUB,
    TOKEN_STORE_KEY,
)
from .view import HubView, error_for_exception, humanize_invalid, json_dumps
from .websocket_credentials import CLOSE_CREDENTIAL_ENDED, CREDENTIALS_KEY, CredentialWatch

if TYPE_CHECKING:
    from .server import HubHTTP

__all__ = [
    "URL",
    "ActiveConnection",
    "CommandHandler",
    "WebSocketAPIView",
    "async_register_command",
    "async_setup_websocket_api",
]

_LOGGER = logging.getLogger(__name__)

URL: Final = "/api/websocket"
AUTH_TIMEOUT: Final = 10.0
HEARTBEAT: Final = 55.0
CLOSE_TIMEOUT: Final = 5.0

TYPE_AUTH: Final = "auth"
TYPE_AUTH_REQUIRED: Final = "auth_required"
TYPE_AUTH_OK: Final = "auth_ok"
TYPE_AUTH_INVALID: Final = "auth_invalid"
TYPE_RESULT: Final = "result"

CommandHandler = Callable[["ActiveConnection", dict[str, Any]], Awaitable[None] | None]
_Command = tuple[CommandHandler, vol.Schema, frozenset[Role]]

WS_COMMANDS: Final[HubKey[dict[str, _Command]]] = HubKey("websocket_commands")
WS_CONNECTIONS_KEY: Final[web.AppKey[set[web.WebSocketResponse]]] = web.AppKey("websocket_connections")

BASE_COMMAND_SCHEMA: Final = vol.Schema({
    vol.Required("id"): vol.All(int, vol.Range(min=1)),
    vol.Required("type"): str,
})


@callback
def async_register_command(hub: Hub, command_type: str, handler: CommandHandler,
                           schema: dict[Any, Any] | None = None, *,
                           roles: frozenset[Role] | None) -> CALLBACK_TYPE:
    """Add a websocket command. `schema` holds the fields beside id/type (unknown keys are refused);
    `roles` who may send it (hub.http.access ROLES_*; HubError when nothing is declared).

    `handler(connection, msg)` may be a @callback or a coroutine function; it answers with
    `connection.send_result(msg["id"], ...)`, and exceptions become error results. Returns the remover.
    """
    declared = check_roles(roles, f"Websocket command {command_type}")
    commands = hub.data.setdefault(WS_COMMANDS, {})
    entry: _Command = (handler, BASE_COMMAND_SCHEMA.extend(schema or {}), declared)
    commands[command_type] = entry

    @callback
    def remove() -> None:
        if commands.get(command_type) is entry:
            del commands[command_type]

    return remove


class ActiveConnection:
    """An authenticated websocket client: its subscriptions and a bounded queue of outgoing messages.

    Messages are serialised when queued. A client that lets `max_pending` messages pile up is
    disconnected (close code 1008) instead of letting the queue grow. `credential()`, when given,
    is checked before each message received: once it says False the connection closes (code
    4001) without handling the message.
    """

    def __init__(self, hub: Hub, wsock: web.WebSocketResponse, user: User, *,
                 max_pending: int = DEFAULT_WEBSOCKET_MAX_PENDING,
                 service_timeout: float = DEFAULT_SERVICE_TIMEOUT,
                 credential: Callable[[], bool] | None = None) -> None:
        self.hub = hub
        self.user = user
        self.service_timeout = service_timeout
        self._credential = credential
        self.subscriptions: dict[int, CALLBACK_TYPE] = {}
        self._wsock = wsock
        self._max_pending = max_pending
        self._queue: asyncio.Queue[str] = asyncio.Queue(max_pending)
        self._last_id = 0
        self._closing = False
        self._writer: asyncio.Task[None] | None = None
        self._close_task: asyncio.Task[None] | None = None

    def context(self) -> Context:
        """A new Context acting for this connection's user and centre."""
        return self.user.context()

    # ---- sending

    @callback
    def send_message(self, message: dict[str, Any] | str) -> None:
        """Queue a message for the client (a dict, or JSON already serialised)."""
        if self._closing:
            return
        payload = message if isinstance(message, str) else json_dumps(message).decode()
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:
            self._overflow()

    @callback
    def send_result(self, msg_id: int, result: Any = None) -> None:
        """Answer command `msg_id` with success."""
        self.send_message({"id": msg_id, "type": TYPE_RESULT, "success": True, "result": result})

    @callback
    def send_error(self, msg_id: int | None, code: str, message: str) -> None:
        """Answer command `msg_id` with an error."""
        self.send_message({"id": msg_id, "type": TYPE_RESULT, "success": False,
                           "error": {"code": code, "message": message}})

    @callback
    def send_exception(self, msg_id: int, err: BaseException) -> None:
        """Answer with the error code an exception maps to (logged when it is a server fault)."""
        mapped = error_for_exception(err)
        if mapped is None:
            _LOGGER.error("Error handling websocket message %s", msg_id, exc_info=err)
            self.send_error(msg_id, ERR_INTERNAL, "Internal error; see the hub log")
            return
        _status, code, message = mapped
        self.send_error(msg_id, code, message)

    def _overflow(self) -> None:
        _LOGGER.warning("Websocket client (token %s) has %d messages pending; disconnecting it",
                        self.user.token_id, self._max_pending)
        self.async_close(WSCloseCode.POLICY_VIOLATION, "Too many pending messages")

    @callback
    def async_close(self, code: int, reason: str) -> None:
        """Stop sending and close the socket with `code` (once; what is queued is dropped)."""
        if self._close_task is not None:
            return
        self._closing = True
        while not self._queue.empty():  # free what was queued: that is the memory we protect
            self._queue.get_nowait()
        if self._writer is not None:
            self._writer.cancel()  # it may be stuck sending to this very client
        self._close_task = self.hub.async_create_background_task(
            self._async_close(code, reason), "websocket close")

    async def async_wait_closed(self) -> None:
        """Wait for a close begun by `async_close` to go out (nothing when none was begun)."""
        if self._close_task is not None:
            await self._close_task

    async def _async_close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._wsock.close(code=code, message=reason.encode(), drain=False)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass  # aiohttp closed the transport on the way out

    async def _async_writer(self) -> None:
        try:
            while True:
                payload = await self._queue.get()
                await self._wsock.send_str(payload)
        except (ConnectionError, RuntimeError) as err:
            _LOGGER.debug("Websocket send failed: %s", err)

    # ---- receiving

    async def async_run(self) -> None:
        """Read and dispatch messages until the client goes away."""
        self._writer = self.hub.async_create_background_task(self._async_writer(), "websocket writer")
        wsock = self._wsock
        while not wsock.closed:
            msg = await wsock.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                break
            if self._credential is not None and not self._credential():
                _LOGGER.debug("Websocket of %s: credential ended; closing", self.user.id)
                self.async_close(CLOSE_CREDENTIAL_ENDED, "Credential revoked or expired")
                break
            if msg.type is not WSMsgType.TEXT:
                self.send_error(None, ERR_INVALID_FORMAT, "Only JSON text messages are accepted")
                continue
            try:
                data = loads_limited(msg.data)
            except orjson.JSONDecodeError as err:
                self.send_error(None, ERR_INVALID_JSON, f"Message is not valid JSON: {err}")
                continue
            except JsonTooDeep as err:  # refused whole: not even its id is trusted
                self.send_error(None, ERR_INVALID_JSON, f"Message refused: {err}")
                continue
            self.async_handle(data)

    @callback
    def async_handle(self, data: Any) -> None:
        """Validate one message and run its command."""
        if not isinstance(data, dict):
            self.send_error(None, ERR_INVALID_FORMAT, "Message must be a JSON object with id and type")
            return
        msg_id = data.get("id")
        if type(msg_id) is not int or msg_id < 1 or not isinstance(data.get("type"), str):
            self.send_error(msg_id if type(msg_id) is int else None, ERR_INVALID_FORMAT,
                            "Message needs an integer id above 0 and a string type")
            return
        if msg_id <= self._last_id:
            self.send_error(msg_id, ERR_ID_REUSE, "Identifier values have to increase")
            return
        self._last_id = msg_id
        command = self.hub.data.get(WS_COMMANDS, {}).get(data["type"])
        if command is None:
            self.send_error(msg_id, ERR_UNKNOWN_COMMAND, f"Unknown command {data['type'][:64]}")
            return
        handler, schema, roles = command
        if not principal_allowed(self.hub, self.user, roles)[0]:
            self.send_error(msg_id, ERR_FORBIDDEN, f"This account may not use {data['type'][:64]}")
            return
        try:
            msg = schema(data)
        except vol.Invalid as err:
            self.send_error(msg_id, ERR_INVALID_FORMAT, humanize_invalid(err))
            return
        try:
            result = handler(self, msg)
        except Exception as err:
            self.send_exception(msg_id, err)
            return
        if inspect.isawaitable(result):
            self.hub.async_create_task(self._async_await(msg_id, result), f"websocket {data['type']}")

    async def _async_await(self, msg_id: int, result: Awaitable[None]) -> None:
        # Not cancelled when the client leaves: a bollard command must not stop half-way.
        try:
            await result
        except Exception as err:
            self.send_exception(msg_id, err)

    @callback
    def async_cleanup(self) -> None:
        """Drop subscriptions and stop sending (the client is gone)."""
        self._closing = True
        for remove in self.subscriptions.values():
            remove()
        self.subscriptions.clear()
        if self._writer is not None:
            self._writer.cancel()


class WebSocketAPIView(HubView):
    """The websocket endpoint; it authenticates in-band (auth message), not with a header."""

    url = URL
    name = "api:websocket"
    requires_auth = False
    roles = ROLES_STAFF  # people; agencies reach their webhooks only
    include_in_openapi = False

    def __init__(self, http: HubHTTP) -> None:
        self._max_pending = int(http.conf.get(CONF_WEBSOCKET_MAX_PENDING, DEFAULT_WEBSOCKET_MAX_PENDING))
        self._service_timeout = float(http.conf.get(CONF_SERVICE_TIMEOUT, DEFAULT_SERVICE_TIMEOUT))
        self._max_msg_size = int(http.conf[CONF_MAX_BODY_BYTES])

    async def get(self, request: web.Request) -> web.WebSocketResponse:
        """Open a websocket session."""
        wsock = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=self._max_msg_size,
                                      timeout=CLOSE_TIMEOUT)
        await wsock.prepare(request)
        connections = request.app[WS_CONNECTIONS_KEY]
        connections.add(wsock)
        connection: ActiveConnection | None = None
        unwatch: CALLBACK_TYPE | None = None
        try:
            user = await self._async_auth(request, wsock)
            if user is not None:
                watch = request.app[CREDENTIALS_KEY]
                connection = ActiveConnection(request[KEY_HUB], wsock, user, max_pending=self._max_pending,
                                              service_timeout=self._service_timeout,
                                              credential=watch.token_credential(user))
                unwatch = watch.async_add(connection)
                await connection.async_run()
        except (ConnectionError, RuntimeError) as err:
            _LOGGER.debug("Websocket connection lost: %s", err)
        finally:
            if unwatch is not None:
                unwatch()
            connections.discard(wsock)
            if connection is not None:
                connection.async_cleanup()
                await connection.async_wait_closed()  # its close code goes out, not the default
            await wsock.close()
        return wsock

    async def _async_auth(self, request: web.Request, wsock: web.WebSocketResponse) -> User | None:
        await wsock.send_str(json_dumps({"type": TYPE_AUTH_REQUIRED, "version": __version__}).decode())
        try:
            msg = await wsock.receive(timeout=AUTH_TIMEOUT)
        except TimeoutError:
            _LOGGER.debug("Websocket client sent no auth message within %s s", AUTH_TIMEOUT)
            return None
        if msg.type is not WSMsgType.TEXT:
            return None
        try:
            data = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            data = None
        if (not isinstance(data, dict) or data.get("type") != TYPE_AUTH
                or not isinstance(data.get("access_token"), str)):
            await self._async_send(wsock, {"type": TYPE_AUTH_INVALID,
                                           "message": "Auth message incorrectly formatted"})
            return None
        user = await request.app[TOKEN_STORE_KEY].async_authenticate(data["access_token"])
        if user is None:
            _LOGGER.warning("Refused websocket login from %s: invalid or revoked access token",
                            request.remote)
            await self._async_send(wsock, {"type": TYPE_AUTH_INVALID, "message": "Invalid access token"})
            return None
        if not principal_allowed(request[KEY_HUB], user, ROLES_STAFF)[0]:
            _LOGGER.warning("Refused websocket login from %s: this account may not use the websocket API",
                            request.remote)
            await self._async_send(wsock, {"type": TYPE_AUTH_INVALID,
                                           "message": "This account may not use the websocket API"})
            return None
        await self._async_send(wsock, {"type": TYPE_AUTH_OK, "version": __version__})
        return user

    @staticmethod
    async def _async_send(wsock: web.WebSocketResponse, message: dict[str, Any]) -> None:
        await wsock.send_str(json_dumps(message).decode())


async def _async_close_all(app: web.Application) -> None:
    """on_shutdown: close every websocket so the server does not wait for them."""
    async def _close(wsock: web.WebSocketResponse) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await wsock.close(code=WSCloseCode.GOING_AWAY, message=b"Hub shutting down")
        except (TimeoutError, ConnectionError, RuntimeError):
            pass

    connections: set[web.WebSocketResponse] = app[WS_CONNECTIONS_KEY]
    await asyncio.gather(*(_close(wsock) for wsock in list(connections)))


def async_setup_websocket_api(http: HubHTTP) -> None:
    """Register the websocket view and the built-in commands."""
    from .websocket_commands import async_register_builtin_commands

    http.app[WS_CONNECTIONS_KEY] = set()
    watch = http.app[CREDENTIALS_KEY] = CredentialWatch(http.hub, http.token_store)
    http.app.cleanup_ctx.append(watch.async_ctx)
    http.app.on_shutdown.append(_async_close_all)
    http.register_view(WebSocketAPIView(http))
    async_register_builtin_commands(http.hub, http.conf.get(CONF_EVENT_ROLES, DEFAULT_EVENT_ROLES))
