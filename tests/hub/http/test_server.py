"""Server lifecycle and configuration: schema defaults, start/stop, late registration, CORS."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
from aiohttp import web
from aiohttp.typedefs import Handler

from hub.auth import TokenStore
from hub.auth.users import Role
from hub.core import Hub
from hub.exceptions import ConfigError, HubError
from hub.http import CONFIG_SCHEMA, HubHTTP, HubView, async_setup_http, get_http
from hub.http.access import ROLES_STAFF

from .conftest import StartApi


def test_config_defaults() -> None:
    assert CONFIG_SCHEMA(None) == {
        "host": "127.0.0.1",
        "port": 8123,
        "cors_origins": [],
        "max_body_bytes": 1024 * 1024,
        "service_timeout": 60.0,
        "websocket_max_pending": 1024,
        "event_roles": frozenset({Role.ADMIN, Role.ENGINEER}),
    }
    assert CONFIG_SCHEMA({"cors_origins": "https://sala.ceuta"})["cors_origins"] == ["https://sala.ceuta"]
    validated = CONFIG_SCHEMA({"port": "8124", "ssl_certificate": "/c.pem"})
    assert CONFIG_SCHEMA(validated) == validated  # the bootstrap validates, then setup validates again


@pytest.mark.parametrize(("conf", "key"), [
    ({"port": "abc"}, "port"),
    ({"port": 70000}, "port"),
    ({"ssl_key": "/k.pem"}, "ssl_key"),
    ({"bogus": 1}, "bogus"),
    ({"max_body_bytes": 10}, "max_body_bytes"),
])
def test_config_errors_name_the_key(conf: dict[str, object], key: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        CONFIG_SCHEMA(conf)
    assert key in str(err.value)


async def test_setup_rejects_bad_config_with_config_error(hub: Hub) -> None:
    with pytest.raises(ConfigError, match="port"):
        await async_setup_http(hub, {"port": "abc"})


class LateView(HubView):
    """A view an integration adds after the server started (it set up in the background)."""

    url = "/api/late"
    name = "api:late"
    roles = ROLES_STAFF

    async def get(self, request: web.Request) -> dict[str, Any]:
        return {"late": True}


async def test_a_view_registered_after_start_answers(start_api: StartApi) -> None:
    api = await start_api()
    assert get_http(api.hub) is api.http
    assert (await api.request("GET", "/api/late"))[0] == 404
    api.http.register_view(LateView)
    assert await api.request("GET", "/api/late") == (200, {"late": True})
    with pytest.raises(HubError, match="declares no roles"):  # the same checks as before the start
        api.http.register_view(type("NoRoles", (LateView,), {"roles": None, "url": "/api/late2"}))


async def test_a_raw_route_added_after_start_is_refused_until_declared(start_api: StartApi) -> None:
    api = await start_api()

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"raw": True})

    route = api.http.app.router.add_get("/api/raw-late", handler)
    assert (await api.request("GET", "/api/raw-late"))[0] == 403
    api.http.declare_route(route, ROLES_STAFF)
    assert await api.request("GET", "/api/raw-late") == (200, {"raw": True})


async def test_middlewares_cannot_be_added_after_start(start_api: StartApi) -> None:
    """aiohttp builds the middleware chain at start: a late one would be ignored, so it is refused."""
    api = await start_api()

    @web.middleware
    async def late(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)

    with pytest.raises(RuntimeError):
        api.http.app.middlewares.append(late)


async def test_get_http_before_setup(hub: Hub) -> None:
    with pytest.raises(HubError, match="not set up"):
        get_http(hub)


async def test_server_stops_on_hub_stop(start_api: StartApi) -> None:
    api = await start_api()
    assert (await api.request("GET", "/api/", token=None))[0] == 200
    await api.hub.async_stop()
    assert not api.http.is_running
    with pytest.raises(OSError):
        await api.request("GET", "/api/", token=None)


async def test_port_in_use_is_a_clear_error(start_api: StartApi, hub: Hub) -> None:
    api = await start_api()
    other = HubHTTP(hub, CONFIG_SCHEMA({"port": api.http.port}), TokenStore(hub))
    with pytest.raises(HubError, match="cannot listen"):
        await other.async_start()


async def test_cors_for_configured_origins_only(start_api: StartApi) -> None:
    api = await start_api({"cors_origins": ["https://sala.ceuta"]})
    preflight = {"Origin": "https://sala.ceuta", "Access-Control-Request-Method": "POST"}
    async with api.session.options(api.url("/api/states"), headers=preflight) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "https://sala.ceuta"
        assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    headers = {"Origin": "https://sala.ceuta", "Authorization": f"Bearer {api.token}"}
    async with api.session.get(api.url("/api/states"), headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Origin"] == "https://sala.ceuta"
    headers["Origin"] = "https://evil.example"
    async with api.session.get(api.url("/api/states"), headers=headers) as resp:
        assert "Access-Control-Allow-Origin" not in resp.headers
