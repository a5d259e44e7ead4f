"""JSON nested deeper than the limit is refused at the door: REST bodies (400) and websocket messages."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core import Event
from hub.helpers.json_depth import MAX_JSON_DEPTH, JsonTooDeep, check_json_depth, json_depth, loads_limited

from .conftest import Api, collector
from .test_websocket import connect, receive


def nested(levels: int) -> Any:
    """An object `levels` deep: {"n": {"n": ... {}}}."""
    value: Any = {}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


def test_depth_is_measured_without_recursion() -> None:
    assert json_depth(1) == 0
    assert json_depth([]) == 1
    assert json_depth({"a": [1, {"b": None}]}) == 3
    assert json_depth(nested(5000)) == 5000  # far past the interpreter's recursion limit
    check_json_depth(nested(MAX_JSON_DEPTH))
    with pytest.raises(JsonTooDeep, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        check_json_depth(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(JsonTooDeep):  # orjson's own depth limit is reported as ours
        loads_limited("[" * 2000 + "]" * 2000)


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 254, 900])
async def test_rest_event_too_deep_is_refused_and_never_fired(api: Api, levels: int) -> None:
    fired: list[Event] = []
    api.hub.bus.async_listen("operator_note", collector(fired))
    status, body = await api.request("POST", "/api/events/operator_note", json=nested(levels))
    assert status == 400
    assert body["error"]["code"] == "invalid_json"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in body["error"]["message"]
    await api.hub.async_block_till_done()
    assert fired == []


async def test_rest_event_at_the_limit_is_accepted(api: Api) -> None:
    fired: list[Event] = []
    api.hub.bus.async_listen("operator_note", collector(fired))
    status, _body = await api.request("POST", "/api/events/operator_note", json=nested(MAX_JSON_DEPTH))
    assert status == 200
    await api.hub.async_block_till_done()
    assert len(fired) == 1


async def test_rest_service_call_too_deep_is_refused(api: Api) -> None:
    status, body = await api.request("POST", "/api/services/hub/nothing", json=nested(MAX_JSON_DEPTH + 1))
    assert status == 400
    assert str(MAX_JSON_DEPTH) in body["error"]["message"]


async def test_websocket_message_too_deep_is_refused_and_never_fired(api: Api) -> None:
    fired: list[Event] = []
    api.hub.bus.async_listen("operator_note", collector(fired))
    async with connect(api) as ws:
        await ws.send_json({"id": 1, "type": "fire_event", "event_type": "operator_note",
                            "event_data": nested(MAX_JSON_DEPTH)})  # 33 with the message itself
        refused = await receive(ws)
        assert refused["type"] == "result"
        assert refused["success"] is False
        assert refused["error"]["code"] == "invalid_json"
        assert f"deeper than {MAX_JSON_DEPTH} levels" in refused["error"]["message"]
        await ws.send_json({"id": 2, "type": "fire_event", "event_type": "operator_note",
                            "event_data": nested(MAX_JSON_DEPTH - 1)})
        accepted = await receive(ws)
        assert accepted["id"] == 2
        assert accepted["success"] is True
    await api.hub.async_block_till_done()
    assert len(fired) == 1
