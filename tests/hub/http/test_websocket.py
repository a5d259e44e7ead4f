"""The websocket API through a real server: auth, commands, subscriptions, slow clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import voluptuous as vol

from hub.core import Event, ServiceCall, SupportsResponse, callback
from hub.exceptions import Unauthorized

from .conftest import Api, StartApi, collector


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next JSON message (bounded wait so a broken server fails the test, not hangs it)."""
    data: dict[str, Any] = await ws.receive_json(timeout=5)
    return data


@asynccontextmanager
async def connect(api: Api, token: str | None = None) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """An authenticated websocket."""
    async with api.session.ws_connect(api.url("/api/websocket")) as ws:
        assert (await receive(ws))["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": token or api.token})
        assert (await receive(ws))["type"] == "auth_ok"
        yield ws


async def test_auth_ok_and_ping(api: Api) -> None:
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "ping"})
        assert await receive(ws) == {"id": 1, "type": "pong"}


async def test_auth_invalid_closes(api: Api) -> None:
    async with api.session.ws_connect(api.url("/api/websocket")) as ws:
        first = await receive(ws)
        assert first["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": "wrong"})
        assert await receive(ws) == {"type": "auth_invalid", "message": "Invalid access token"}
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_auth_malformed_closes(api: Api) -> None:
    async with api.session.ws_connect(api.url("/api/websocket")) as ws:
        await receive(ws)
        await ws.send_json({"id": 1, "type": "get_states"})
        assert (await receive(ws))["type"] == "auth_invalid"


async def test_subscribe_events_receives_fired_event_and_unsubscribe(api: Api) -> None:
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "thermal_fire_detected"})
        assert await receive(ws) == {"id": 1, "type": "result", "success": True, "result": None}
        api.hub.bus.async_fire("other_event", {"x": 1})
        api.hub.bus.async_fire("thermal_fire_detected", {"tower": "t3"})
        message = await receive(ws)
        assert message["id"] == 1
        assert message["type"] == "event"
        assert message["event"]["event_type"] == "thermal_fire_detected"
        assert message["event"]["data"] == {"tower": "t3"}

        await ws.send_json({"id": 2, "type": "unsubscribe_events", "subscription": 1})
        assert (await receive(ws))["success"] is True
        assert "thermal_fire_detected" not in api.hub.bus.async_listeners()
        await ws.send_json({"id": 3, "type": "unsubscribe_events", "subscription": 1})
        error = await receive(ws)
        assert error["success"] is False
        assert error["error"]["code"] == "not_found"


async def test_call_service_as_token_user(api: Api) -> None:
    calls: list[ServiceCall] = []

    @callback
    def set_panel(call: ServiceCall) -> dict[str, Any]:
        calls.append(call)
        return {"shown": call.data["text"]}

    api.hub.services.async_register("panel", "show", set_panel, vol.Schema({vol.Required("text"): str}),
                                    supports_response=SupportsResponse.OPTIONAL)
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "call_service", "domain": "panel", "service": "show",
                            "service_data": {"text": "DESVIO"}, "return_response": True})
        result = await receive(ws)
        assert result["success"] is True
        assert result["result"]["response"] == {"shown": "DESVIO"}
        assert result["result"]["context"]["user_id"] == "operator"
        assert calls[0].context.user_id == "operator"
        assert calls[0].context.centre == "ceuta_norte"

        await ws.send_json({"id": 2, "type": "call_service", "domain": "panel", "service": "show",
                            "service_data": {}})
        error = await receive(ws)
        assert error["id"] == 2
        assert error["success"] is False
        assert error["error"]["code"] == "validation_error"

        await ws.send_json({"id": 3, "type": "call_service", "domain": "panel", "service": "nope"})
        assert (await receive(ws))["error"]["code"] == "service_not_found"


async def test_call_service_refused_by_permission_hook(api: Api) -> None:
    api.hub.services.async_register("bollard", "raise", lambda call: None)

    def deny(call: ServiceCall) -> None:
        raise Unauthorized(f"{call.context.user_id} may not raise bollards")

    api.hub.services.async_add_permission_hook(deny)
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "call_service", "domain": "bollard", "service": "raise"})
        error = await receive(ws)
        assert error["error"] == {"code": "forbidden", "message": "operator may not raise bollards"}


async def test_get_states_and_fire_event(api: Api) -> None:
    api.hub.states.async_set("camera.gate_1", "idle")
    events: list[Event] = []
    api.hub.bus.async_listen("operator_note", collector(events))
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "get_states"})
        result = await receive(ws)
        assert [item["entity_id"] for item in result["result"]] == ["camera.gate_1"]

        await ws.send_json({"id": 2, "type": "fire_event", "event_type": "operator_note",
                            "event_data": {"text": "check gate"}})
        assert (await receive(ws))["success"] is True
        assert events[0].data == {"text": "check gate"}
        assert events[0].context.user_id == "operator"

        await ws.send_json({"id": 3, "type": "fire_event", "event_type": "state_changed"})
        assert (await receive(ws))["error"]["code"] == "forbidden"


async def test_protocol_errors(api: Api) -> None:
    async with connect(api) as ws:
        await ws.send_json({"id": 5, "type": "ping"})
        assert (await receive(ws))["type"] == "pong"
        await ws.send_json({"id": 5, "type": "ping"})
        assert (await receive(ws))["error"]["code"] == "id_reuse"
        await ws.send_json({"id": 6, "type": "make_coffee"})
        assert (await receive(ws))["error"]["code"] == "unknown_command"
        await ws.send_json({"id": 7, "type": "subscribe_events", "event_type": 12})
        assert (await receive(ws))["error"]["code"] == "invalid_format"
        await ws.send_str("{nope")
        assert (await receive(ws))["error"]["code"] == "invalid_json"
        await ws.send_json({"type": "ping"})
        assert (await receive(ws))["error"]["code"] == "invalid_format"
        # the connection survives all of that
        await ws.send_json({"id": 8, "type": "ping"})
        assert (await receive(ws))["type"] == "pong"


async def test_slow_client_is_disconnected_not_buffered(start_api: StartApi,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    api = await start_api({"websocket_max_pending": 4})
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "flood"})
        assert (await receive(ws))["success"] is True
        # Fired in one go, the server cannot send anything in between: the queue overflows.
        for index in range(20):
            api.hub.bus.async_fire("flood", {"n": index})
        received = 0
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            received += 1
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1008
        assert received <= 4
    assert "has 4 messages pending; disconnecting it" in caplog.text
    for _ in range(100):  # the server drops the subscription as the handler ends
        if "flood" not in api.hub.bus.async_listeners():
            break
        await asyncio.sleep(0.01)
    assert "flood" not in api.hub.bus.async_listeners()


async def test_server_stop_closes_websockets(api: Api) -> None:
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "subscribe_events"})
        assert (await receive(ws))["success"] is True
        await api.http.async_stop()
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert "*" not in api.hub.bus.async_listeners()
