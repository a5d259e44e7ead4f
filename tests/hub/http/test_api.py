"""The REST API through a real server: auth on every route, states, services, events, errors, history."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import voluptuous as vol
from aiohttp import web

from hub.core import Event, ServiceCall, SupportsResponse
from hub.exceptions import Unauthorized
from hub.http import HubHTTP, HubView
from hub.http.access import ROLES_STAFF
from hub.http.const import ATTR_REQUIRES_AUTH, PUBLIC_ROUTES_KEY

from .conftest import Api, StartApi, collector


class PluginView(HubView):
    """A view another module adds before start (say, automation traces)."""

    url = "/api/plugin/{item_id}"
    name = "api:plugin"
    roles = ROLES_STAFF

    async def get(self, request: web.Request, item_id: str) -> dict[str, Any]:
        """Echo the item id."""
        return {"item_id": item_id}


class BrokenView(HubView):
    url = "/api/broken"
    name = "api:broken"
    roles = ROLES_STAFF

    async def get(self, request: web.Request) -> None:
        raise RuntimeError("bug in a view")


def add_extra_routes(http: HubHTTP) -> None:
    http.register_view(PluginView)
    http.register_view(BrokenView)

    async def raw(request: web.Request) -> web.Response:
        return web.Response(text="raw")

    http.declare_route(http.app.router.add_get("/api/raw", raw, allow_head=False), ROLES_STAFF)


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x.y", path)


async def test_health_needs_no_token(api: Api) -> None:
    status, body = await api.request("GET", "/api/", token=None)
    assert status == 200
    assert body["message"] == "API running."
    assert body["state"] == "RUNNING"
    assert body["version"]


async def test_every_other_route_refuses_missing_and_bad_tokens(start_api: StartApi) -> None:
    api = await start_api(before_start=add_extra_routes)
    public = set()
    checked = 0
    for route in api.http.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if (route in api.http.app[PUBLIC_ROUTES_KEY]
                or not getattr(route.handler, ATTR_REQUIRES_AUTH, True)):
            public.add(path)
            continue
        for token in (None, "not-a-token", ""):
            status, body = await api.request(route.method, _fill(path), token=token)
            assert status == 401, (route.method, path, token)
            if route.method != "HEAD":  # a HEAD answer has no body
                assert body["error"]["code"] == "unauthorized"
        checked += 1
    assert public == {"/api/", "/api/websocket"}
    assert checked >= 9  # the built-in REST routes plus the plugin, broken and raw ones
    # an unknown path does not reveal whether it exists
    assert (await api.request("GET", "/api/nothing-here", token=None))[0] == 401
    assert (await api.request("GET", "/api/nothing-here"))[0] == 404


async def test_routes_added_before_start_work_with_a_token(start_api: StartApi) -> None:
    api = await start_api(before_start=add_extra_routes)
    assert await api.request("GET", "/api/plugin/42") == (200, {"item_id": "42"})
    async with api.session.get(api.url("/api/raw"), headers={"Authorization": f"Bearer {api.token}"}) as resp:
        assert resp.status == 200
        assert await resp.text() == "raw"


async def test_unexpected_error_is_a_logged_json_500(start_api: StartApi,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    api = await start_api(before_start=add_extra_routes)
    status, body = await api.request("GET", "/api/broken")
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "bug in a view" in caplog.text


async def test_states_list_and_get(api: Api) -> None:
    api.hub.states.async_set("bollard.b7", "down", {"friendly_name": "Bollard 7", "tags": {"a"}})
    api.hub.states.async_set("sensor.temp", "21.5")
    status, body = await api.request("GET", "/api/states")
    assert status == 200
    assert {item["entity_id"] for item in body} == {"bollard.b7", "sensor.temp"}
    status, body = await api.request("GET", "/api/states/bollard.b7")
    assert status == 200
    assert body["state"] == "down"
    assert body["attributes"] == {"friendly_name": "Bollard 7", "tags": ["a"]}
    status, body = await api.request("GET", "/api/states/bollard.nope")
    assert status == 404
    assert body["error"]["code"] == "entity_not_found"
    assert "bollard.nope" in body["error"]["message"]


async def test_service_call_runs_as_the_token_user(api: Api) -> None:
    calls: list[ServiceCall] = []

    async def raise_bollard(call: ServiceCall) -> None:
        calls.append(call)
        api.hub.states.async_set(call.data["entity_id"], "up", context=call.context)
        api.hub.states.async_set("sensor.unrelated", "1")  # not caused by the call

    api.hub.services.async_register("bollard", "raise", raise_bollard,
                                    vol.Schema({vol.Required("entity_id"): str}))
    status, body = await api.request("POST", "/api/services/bollard/raise", json={"entity_id": "bollard.b7"})
    assert status == 200
    assert [item["entity_id"] for item in body] == ["bollard.b7"]
    assert body[0]["state"] == "up"
    assert calls[0].context.user_id == "operator"
    assert calls[0].context.centre == "ceuta_norte"
    assert body[0]["context"]["user_id"] == "operator"


async def test_service_call_return_response(api: Api) -> None:
    def status_report(call: ServiceCall) -> dict[str, Any]:
        return {"bollards_up": 3}

    from hub.core import callback
    api.hub.services.async_register("bollard", "report", callback(status_report),
                                    supports_response=SupportsResponse.ONLY)
    status, body = await api.request("POST", "/api/services/bollard/report?return_response")
    assert status == 200
    assert body == {"changed_states": [], "service_response": {"bollards_up": 3}}


async def test_service_call_errors(api: Api) -> None:
    api.hub.services.async_register("bollard", "raise", lambda call: None,
                                    vol.Schema({vol.Required("entity_id"): str}))
    status, body = await api.request("POST", "/api/services/bollard/raise", json={"entity": "x"})
    assert status == 400
    assert body["error"]["code"] == "validation_error"
    assert "entity_id" in body["error"]["message"]

    status, body = await api.request("POST", "/api/services/bollard/explode", json={})
    assert status == 404
    assert body["error"]["code"] == "service_not_found"

    status, body = await api.request("POST", "/api/services/bollard/raise", json=[1, 2])
    assert status == 400
    assert body["error"]["code"] == "invalid_format"

    status, body = await api.request("POST", "/api/services/bollard/raise", data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert status == 400
    assert body["error"]["code"] == "invalid_json"


async def test_service_call_refused_by_permission_hook(api: Api) -> None:
    ran: list[ServiceCall] = []
    api.hub.services.async_register("bollard", "raise", collector(ran))
    seen: list[tuple[str | None, str | None]] = []

    def only_centre_sur(call: ServiceCall) -> None:
        seen.append((call.context.user_id, call.context.centre))
        if call.context.centre != "ceuta_sur":
            raise Unauthorized("Only the south centre may raise bollards", user_id=call.context.user_id)

    api.hub.services.async_add_permission_hook(only_centre_sur)
    status, body = await api.request("POST", "/api/services/bollard/raise", json={})
    assert status == 403
    assert body["error"] == {"code": "forbidden", "message": "Only the south centre may raise bollards"}
    assert seen == [("operator", "ceuta_norte")]
    assert ran == []


async def test_service_call_timeout_is_504(start_api: StartApi) -> None:
    api = await start_api({"service_timeout": 0.05})
    release = asyncio.Event()

    async def stuck(call: ServiceCall) -> None:
        await release.wait()

    api.hub.services.async_register("panel", "show", stuck)
    status, body = await api.request("POST", "/api/services/panel/show")
    assert status == 504
    assert body["error"]["code"] == "timeout"
    release.set()


async def test_event_fired_with_token_user_context(api: Api) -> None:
    events: list[Event] = []
    api.hub.bus.async_listen("operator_note", collector(events))
    status, body = await api.request("POST", "/api/events/operator_note", json={"panel": "p1"})
    assert status == 200
    assert body["message"] == "Event operator_note fired."
    assert len(events) == 1
    assert events[0].data == {"panel": "p1"}
    assert events[0].context.user_id == "operator"
    assert events[0].context.centre == "ceuta_norte"
    assert body["context"]["id"] == events[0].context.id


async def test_event_errors(api: Api) -> None:
    events: list[Event] = []
    api.hub.bus.async_listen("hub_stop", collector(events))
    status, body = await api.request("POST", "/api/events/hub_stop")
    assert status == 403
    assert body["error"]["code"] == "forbidden"
    assert events == []
    assert api.http.is_running

    status, body = await api.request("POST", "/api/events/" + "x" * 65)
    assert status == 400
    status, body = await api.request("POST", "/api/events/demo", data=b"[1,",
                                     headers={"Content-Type": "application/json"})
    assert status == 400
    assert body["error"]["code"] == "invalid_json"
    status, body = await api.request("POST", "/api/events/demo", json="text")
    assert status == 400
    assert body["error"]["code"] == "invalid_format"


async def test_oversize_body_is_413(start_api: StartApi) -> None:
    api = await start_api({"max_body_bytes": 2048})
    events: list[Event] = []
    api.hub.bus.async_listen("demo", collector(events))
    status, body = await api.request("POST", "/api/events/demo", json={"blob": "x" * 4096})
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert events == []


async def test_wrong_method_is_json_405(api: Api) -> None:
    status, body = await api.request("DELETE", "/api/states")
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed"


async def test_history_without_recorder_is_503(api: Api) -> None:
    status, body = await api.request("GET", "/api/history?filter_entity_id=sensor.a,sensor.b")
    assert status == 503
    assert body["error"] == {"code": "recorder_not_running",
                             "message": "History is unavailable: recorder not running"}


@pytest.mark.parametrize("query", [
    "",
    "?filter_entity_id=Not%20An%20Entity",
    "?filter_entity_id=sensor.a&start_time=yesterday",
    "?filter_entity_id=sensor.a&start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z",
])
async def test_history_bad_queries_are_400(api: Api, query: str) -> None:
    status, body = await api.request("GET", f"/api/history{query}")
    assert status == 400
    assert body["error"]["code"] == "invalid_format"


async def test_history_from_the_recorder(api: Api) -> None:
    recorder_module = pytest.importorskip("hub.recorder")
    recorder = await recorder_module.async_setup_recorder(
        api.hub, {"db_url": f"sqlite:///{api.hub.path('history.db')}"}
    )
    start = datetime.now(UTC) - timedelta(minutes=1)
    api.hub.states.async_set("sensor.a", "1")
    api.hub.states.async_set("sensor.b", "x")
    api.hub.states.async_set("sensor.a", "2")
    api.hub.states.async_set("sensor.c", "not asked for")
    assert await recorder.async_flush()
    status, body = await api.request("GET", "/api/history", params={
        "filter_entity_id": "sensor.a,sensor.b,sensor.none", "start_time": start.isoformat(),
    })
    assert status == 200
    assert [[(item["entity_id"], item["state"]) for item in states] for states in body] == [
        [("sensor.a", "1"), ("sensor.a", "2")],
        [("sensor.b", "x")],
    ]
    # an end before the writes: nothing
    status, body = await api.request("GET", "/api/history", params={
        "filter_entity_id": "sensor.a", "start_time": (start - timedelta(hours=1)).isoformat(),
        "end_time": start.isoformat(),
    })
    assert (status, body) == (200, [])
