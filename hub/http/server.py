"""The hub's aiohttp server: configuration, app factory, view registration, start and stop."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Final

import voluptuous as vol
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..auth.tokens import TokenStore
from ..auth.users import Role
from ..const import DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, EVENT_HUB_STOP
from ..core import Event, Hub, HubKey
from ..exceptions import ConfigError, HubError
from .access import DEFAULT_EVENT_ROLES, ROUTE_ROLES_KEY, access_middleware, declare_route, undeclared_routes
from .auth import auth_middleware
from .const import (
    CONF_CORS_ORIGINS,
    CONF_EVENT_ROLES,
    CONF_HOST,
    CONF_MAX_BODY_BYTES,
    CONF_PORT,
    CONF_SERVICE_TIMEOUT,
    CONF_SSL_CERTIFICATE,
    CONF_SSL_KEY,
    CONF_WEBSOCKET_MAX_PENDING,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_SERVICE_TIMEOUT,
    DEFAULT_WEBSOCKET_MAX_PENDING,
    HUB_KEY,
    PUBLIC_ROUTES_KEY,
    TOKEN_STORE_KEY,
)
from .view import HubView, error_middleware, humanize_invalid

__all__ = ["CONFIG_SCHEMA", "DATA_HTTP", "HTTP_KEY", "HubHTTP", "async_register_views", "async_setup_http", "get_http"]

_LOGGER = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT: Final = 10.0


def _ssl_pair(conf: dict[str, Any]) -> dict[str, Any]:
    if conf.get(CONF_SSL_KEY) and not conf.get(CONF_SSL_CERTIFICATE):
        raise vol.Invalid("ssl_key needs ssl_certificate", path=[CONF_SSL_KEY])
    return conf


CONFIG_SCHEMA: Final = vol.All(
    lambda value: {} if value is None else value,  # a bare `http:` means all defaults
    vol.Schema(
        {
            vol.Optional(CONF_HOST, default=DEFAULT_HTTP_HOST): str,
            vol.Optional(CONF_PORT, default=DEFAULT_HTTP_PORT): vol.All(
                vol.Coerce(int), vol.Range(min=0, max=65535)
            ),
            vol.Optional(CONF_CORS_ORIGINS, default=list): vol.All(
                lambda value: [value] if isinstance(value, str) else value, [str]
            ),
            vol.Optional(CONF_SSL_CERTIFICATE): str,
            vol.Optional(CONF_SSL_KEY): str,
            vol.Optional(CONF_MAX_BODY_BYTES, default=DEFAULT_MAX_BODY_BYTES): vol.All(
                int, vol.Range(min=1024)
            ),
            vol.Optional(CONF_SERVICE_TIMEOUT, default=DEFAULT_SERVICE_TIMEOUT): vol.All(
                vol.Coerce(float), vol.Range(min=0, min_included=False)
            ),
            vol.Optional(CONF_WEBSOCKET_MAX_PENDING, default=DEFAULT_WEBSOCKET_MAX_PENDING): vol.All(
                int, vol.Range(min=1)
            ),
            vol.Optional(CONF_EVENT_ROLES, default=lambda: sorted(DEFAULT_EVENT_ROLES)): vol.All(
                lambda value: [value] if isinstance(value, str) else list(value), [vol.Coerce(Role)],
                lambda roles: frozenset(roles) - {Role.AGENCY},  # agencies only reach their webhooks
            ),
        },
        extra=vol.PREVENT_EXTRA,
    ),
    _ssl_pair,
)


def _cors_middleware(origins: frozenset[str]) -> Any:
    """Answer preflights and add Access-Control headers for the configured origins only."""
    allow_all = "*" in origins

    @web.middleware
    async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        allowed = origin is not None and (allow_all or origin in origins)
        if not allowed or origin is None:
            return await handler(request)
        headers = {hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin, hdrs.VARY: "Origin"}
        if request.method == hdrs.METH_OPTIONS and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers:
            headers.update({
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: "Authorization, Content-Type",
                hdrs.ACCESS_CONTROL_MAX_AGE: "600",
            })
            return web.Response(status=204, headers=headers)
        response = await handler(request)
        if not response.prepared:
            response.headers.update(headers)
        return response

    return cors_middleware


class HubHTTP:
    """The HTTP server. Views, raw routes and static paths may be added before or after `async_start`: the
    server answers while the integrations still set up (they add their views as they come), as Home
    Assistant's does. Middlewares and cleanup contexts must be in place before `async_start`."""

    def __init__(self, hub: Hub, conf: dict[str, Any], token_store: TokenStore) -> None:
        self.hub = hub
        self.conf = conf
        self.token_store = token_store
        self.views: list[HubView] = []
        middlewares = [error_middleware, auth_middleware, access_middleware]
        if conf[CONF_CORS_ORIGINS]:
            middlewares.insert(0, _cors_middleware(frozenset(conf[CONF_CORS_ORIGINS])))
        self.app = web.Application(middlewares=middlewares, client_max_size=conf[CONF_MAX_BODY_BYTES])
        self.app[HUB_KEY] = hub
        self.app[HTTP_KEY] = self
        self.app[TOKEN_STORE_KEY] = token_store
        self.app[PUBLIC_ROUTES_KEY] = set()
        self.app[ROUTE_ROLES_KEY] = {}
        self.app.cleanup_ctx.append(self._token_store_ctx)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    async def _token_store_ctx(self, app: web.Application) -> AsyncIterator[None]:
        await self.token_store.async_load()
        yield
        await self.token_store.async_flush()

    @property
    def is_running(self) -> bool:
        """Whether the server is listening."""
        return self._site is not None

    @property
    def port(self) -> int:
        """The port listened on (the real one when configured as 0)."""
        if self._runner is not None:
            for address in self._runner.addresses:
                if isinstance(address, tuple):
                    return int(address[1])
        return int(self.conf[CONF_PORT])

    @property
    def base_url(self) -> str:
        """`http(s)://host:port` of the running server."""
        scheme = "https" if self.conf.get(CONF_SSL_CERTIFICATE) else "http"
        return f"{scheme}://{self.conf[CONF_HOST]}:{self.port}"

    def _check_not_started(self, what: str) -> None:
        if self._runner is not None:
            raise HubError(f"Cannot {what}: the HTTP server has already started; add routes before start")

    def register_view(self, view: HubView | type[HubView]) -> HubView:
        """Add a view's routes (an instance, or a class built without arguments). Returns the instance."""
        instance = view() if isinstance(view, type) else view
        if not getattr(instance, "url", None) or not getattr(instance, "name", None):
            raise HubError(f"View {type(instance).__name__} needs class attributes url and name")
        what = f"View {type(instance).__name__} ({instance.url})"
        if instance.roles is None:
            raise HubError(f"{what} declares no roles: set `roles` (hub.http.access ROLES_*)")
        routes = instance.register(self.app.router)
        for route in routes:
            declare_route(self.app, route, instance.roles, what)
        if not instance.requires_auth:
            _LOGGER.debug("View %s (%s) accepts unauthenticated requests", instance.name, instance.url)
        self.views.append(instance)
        _LOGGER.debug("Registered view %s with %d routes", instance.name, len(routes))
        return instance

    def register_views_once(self, views: Iterable[type[HubView]]) -> None:
        """Add each view class not added yet. aiohttp cannot remove a route, so an integration's views outlive
        its unload and are not added again when it is loaded again; the server may already be listening."""
        registered = {type(view) for view in self.views}
        for view in views:
            if view not in registered:
                self.register_view(view)

    def declare_route(self, route: web.AbstractRoute, roles: frozenset[Role]) -> None:
        """Say who may use a raw route (added on `app.router`); the server does not start with one undeclared,
        and refuses a request to one (403) until it is declared."""
        declare_route(self.app, route, roles, f"Route {route.method} {route.resource and route.resource.canonical}")

    def allow_unauthenticated(self, route: web.AbstractRoute, roles: frozenset[Role]) -> None:
        """Let a raw route (added on `app.router`) answer without a token; `roles` limits authenticated
        callers. Use sparingly."""
        self.declare_route(route, roles)
        self.app[PUBLIC_ROUTES_KEY].add(route)

    def register_static_path(self, url_path: str, path: str | Path, *, roles: frozenset[Role],
                             requires_auth: bool = True) -> web.AbstractResource:
        """Serve a directory's files under `url_path` (frontend assets) to `roles`."""
        resource = self.app.router.add_static(url_path, path)
        for route in resource:
            declare_route(self.app, route, roles, f"Static path {url_path}")
        if not requires_auth:
            self.app[PUBLIC_ROUTES_KEY].update(resource)
        return resource

    async def async_start(self) -> None:
        """Start listening. Routes may still be added afterwards; middlewares may not."""
        self._check_not_started("start")
        if undeclared := undeclared_routes(self.app):
            raise HubError(f"HTTP server not started: routes that declare no roles: {', '.join(undeclared)} "
                           "(register views with `roles`, raw routes with `declare_route`)")
        ssl_context = None
        if cert := self.conf.get(CONF_SSL_CERTIFICATE):
            ssl_context = await self.hub.async_add_executor_job(
                _make_ssl_context, cert, self.conf.get(CONF_SSL_KEY)
            )
        # aiohttp freezes the router when the server starts; integrations that set up after the start add
        # their views later (Home Assistant does the same). Each view declares its roles as it is added, and
        # the access middleware refuses a raw route that is not declared yet.
        self.app.router.freeze = _keep_router_open  # type: ignore[method-assign]
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        self._runner = runner
        await runner.setup()
        site = web.TCPSite(runner, self.conf[CONF_HOST], self.conf[CONF_PORT], ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            raise HubError(
                f"HTTP server cannot listen on {self.conf[CONF_HOST]}:{self.conf[CONF_PORT]}: {err}"
            ) from err
        self._site = site
        _LOGGER.info("HTTP API listening on %s", self.base_url)

    async def async_stop(self) -> None:
        """Stop listening, close websockets, release resources (safe to call twice)."""
        runner, self._runner, self._site = self._runner, None, None
        if runner is None:
            return
        await runner.cleanup()
        _LOGGER.info("HTTP API stopped")


def _keep_router_open() -> None:
    """Stands in for `UrlDispatcher.freeze`, so that routes can be added while the server runs."""


def _make_ssl_context(certificate: str, key: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certificate, key)
    except (OSError, ssl.SSLError) as err:
        raise HubError(f"Cannot load TLS certificate {certificate}: {err}") from err
    return context


HTTP_KEY: Final[web.AppKey[HubHTTP]] = web.AppKey("http", HubHTTP)
DATA_HTTP: Final[HubKey[HubHTTP]] = HubKey("http")


def get_http(hub: Hub) -> HubHTTP:
    """The hub's HTTP server; raises HubError when http is not set up."""
    http: HubHTTP | None = hub.data.get(DATA_HTTP)
    if http is None:
        raise HubError("The http component is not set up")
    return http


def async_register_views(hub: Hub, views: Iterable[type[HubView]], what: str) -> bool:
    """Serve an integration's views (once per hub, whether or not the server listens yet); False, logged,
    when the hub has no HTTP API (`what` names the endpoints in that log line)."""
    http: HubHTTP | None = hub.data.get(DATA_HTTP)
    if http is None:
        _LOGGER.info("%s not served: the hub has no HTTP API", what)
        return False
    http.register_views_once(views)
    return True


async def async_setup_http(hub: Hub, config: dict[str, Any] | None = None) -> HubHTTP:
    """Create the server with the built-in API views; it stops on `hub_stop`.

    `config` is the `http:` section (validated here). The bootstrap calls `await http.async_start()` before
    the integrations set up; they register their views as they come.
    """
    from .api import register_api_views  # the views import this module
    from .websocket_api import async_setup_websocket_api

    if DATA_HTTP in hub.data:
        raise HubError("The http component is already set up")
    try:
        conf: dict[str, Any] = CONFIG_SCHEMA(config)
    except vol.Invalid as err:
        raise ConfigError(f"Invalid http configuration: {humanize_invalid(err)}") from err
    http = HubHTTP(hub, conf, TokenStore(hub))
    hub.data[DATA_HTTP] = http
    register_api_views(http)
    async_setup_websocket_api(http)

    async def _async_stop(_event: Event) -> None:
        await http.async_stop()

    hub.bus.async_listen_once(EVENT_HUB_STOP, _async_stop)
    return http
