"""The alarm API as the frontend uses it: REST views, the live websocket queue, per-centre permissions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.auth import async_setup_auth
from hub.auth.tokens import create_token
from hub.auth.users import add_user
from hub.clock import FakeClock
from hub.core import Context, Hub
from hub.exceptions import Unauthorized
from hub.http import HubHTTP, async_setup_http

from .conftest import ALARM_CONFIG, OP_L, OP_N, Site

PASSWORD = "correct horse battery"
USERS = {"op_l": ("operator", "local_police"), "op_n": ("operator", "national_police"),
         "admin": ("admin", "local_police"), "eng": ("engineer", "local_police")}


@dataclass
class Api:
    site: Site
    http: HubHTTP
    tokens: dict[str, str]
    session: aiohttp.ClientSession

    async def get(self, path: str, user: str | None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        async with self.session.get(f"{self.http.base_url}{path}", headers=headers) as resp:
            return resp.status, await resp.json()

    async def ws(self, user: str) -> aiohttp.ClientWebSocketResponse:
        ws = await self.session.ws_connect(f"{self.http.base_url}/api/websocket")
        assert (await ws.receive_json(timeout=5))["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": self.tokens[user]})
        assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
        return ws


async def _start_api(config_dir: Path, db_url: str, clock: FakeClock | None) -> tuple[Site, HubHTTP]:
    """Like start_site, with users, the permission hook and the HTTP server set up before the alarms."""
    from hub.config.core import CoreConfig
    from hub.helpers import area_registry
    from hub.recorder import async_setup_recorder
    from integrations import alarm

    from .conftest import AREAS, CENTRES

    sops = config_dir / "sops"
    sops.mkdir(exist_ok=True)
    (sops / "intrusion.yaml").write_text("- title: Look\n")
    hub = Hub(config_dir, clock=clock)
    hub.config = CoreConfig(control_centres=CENTRES)
    await area_registry.async_setup_areas(hub, AREAS)
    await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600})
    await async_setup_auth(hub)
    http = await async_setup_http(hub, {"port": 0})
    assert await alarm.async_setup(hub, alarm.CONFIG_SCHEMA(ALARM_CONFIG))
    await hub.async_start()
    await http.async_start()
    return Site(hub, clock), http


@pytest.fixture
async def api(config_dir: Path, db_url: str) -> AsyncIterator[Api]:
    tokens = {}
    for user_id, (role, centre) in USERS.items():
        add_user(config_dir, user_id, role=role, centre=centre, password=PASSWORD)
        tokens[user_id] = create_token(config_dir, f"{user_id} console", centre, user_id=user_id)
    site, http = await _start_api(config_dir, db_url, None)
    session = aiohttp.ClientSession()
    yield Api(site, http, tokens, session)
    await session.close()
    await site.hub.async_stop()


async def test_rest_views_need_a_user_and_show_what_the_centre_may_see(api: Api) -> None:
    site = api.site
    local = (await site.call("raise", {"type": "intrusion", "area_id": "centro"}, OP_L))["alarm_id"]
    national = (await site.call("raise", {"type": "intrusion", "area_id": "tarajal"}, OP_N))["alarm_id"]
    fire = (await site.call("raise", {"type": "fire"}))["alarm_id"]  # national, shared
    for path in ("/api/alarms", f"/api/alarms/{local}", "/api/alarms/stats", "/api/alarm_types"):
        assert (await api.get(path, None))[0] == 401
    status, body = await api.get("/api/alarms", "op_l")
    assert status == 200
    assert [a["alarm_id"] for a in body["alarms"]] == [fire, local]  # most severe first; shared fire seen
    status, body = await api.get("/api/alarms", "op_n")
    assert [a["alarm_id"] for a in body["alarms"]] == [fire, national]
    status, body = await api.get("/api/alarms", "admin")
    assert len(body["alarms"]) == 3
    status, body = await api.get(f"/api/alarms/{national}", "op_n")
    assert status == 200 and body["timeline"][0]["kind"] == "raised" and body["sop"][0]["title"] == "Look"
    assert (await api.get(f"/api/alarms/{national}", "op_l"))[0] == 404  # not shared with the local police
    assert (await api.get("/api/alarms?state=bogus", "op_l"))[0] == 400
    await site.call("acknowledge", {"alarm_id": local}, OP_L)
    await site.call("resolve", {"alarm_id": local}, OP_L)
    await site.call("close", {"alarm_id": local}, OP_L)
    status, body = await api.get(f"/api/alarms/{local}", "op_l")
    assert status == 200 and body["state"] == "closed"
    status, body = await api.get("/api/alarms?history=true&state=closed", "op_l")
    assert [a["alarm_id"] for a in body["alarms"]] == [local]
    status, body = await api.get("/api/alarms/stats", "op_l")
    assert status == 200 and body["types"]["intrusion"]["alarms"] == 2
    status, body = await api.get("/api/alarm_types", "op_l")
    assert [t["id"] for t in body] == ["fire", "intrusion", "door_open"]


async def test_operators_handle_only_their_centres_alarms(api: Api) -> None:
    site = api.site
    fire = (await site.call("raise", {"type": "fire"}, OP_L))["alarm_id"]  # anyone may raise; national owns it
    with pytest.raises(Unauthorized, match=f"alarm {fire} \\(national_police\\) not owned by 'local_police'"):
        await site.call("acknowledge", {"alarm_id": fire}, OP_L)
    with pytest.raises(Unauthorized, match="a engineer may not call alarm services"):
        await site.call("acknowledge", {"alarm_id": fire}, Context(user_id="eng", centre="local_police"))
    await site.call("acknowledge", {"alarm_id": fire}, OP_N)
    async with api.session.post(f"{api.http.base_url}/api/services/alarm/add_note",
                                json={"alarm_id": fire, "note": "hello"},
                                headers={"Authorization": f"Bearer {api.tokens['op_l']}"}) as resp:
        assert resp.status == 403
    async with api.session.post(f"{api.http.base_url}/api/services/alarm/add_note",
                                json={"alarm_id": "0" * 32, "note": "hello"},
                                headers={"Authorization": f"Bearer {api.tokens['op_l']}"}) as resp:
        assert resp.status == 400  # an unknown alarm is the service's answer, not a refusal
        assert "No active alarm" in (await resp.json())["error"]["message"]


async def test_live_queue_over_the_websocket(api: Api) -> None:
    site = api.site
    existing = (await site.call("raise", {"type": "intrusion", "area_id": "centro"}, OP_L))["alarm_id"]
    ws_local = await api.ws("op_l")
    ws_national = await api.ws("op_n")
    try:
        await ws_local.send_json({"id": 1, "type": "alarm/subscribe"})
        first = await ws_local.receive_json(timeout=5)
        assert first["success"] and [a["alarm_id"] for a in first["result"]["alarms"]] == [existing]
        await ws_national.send_json({"id": 1, "type": "alarm/subscribe"})
        assert (await ws_national.receive_json(timeout=5))["result"]["alarms"] == []

        raised = (await site.call("raise", {"type": "door_open", "area_id": "centro"}, OP_L))["alarm_id"]
        message = await ws_local.receive_json(timeout=5)
        assert message["id"] == 1 and message["type"] == "event"
        assert message["event"]["action"] == "upsert" and message["event"]["alarm"]["alarm_id"] == raised
        await site.call("acknowledge", {"alarm_id": raised}, OP_L)
        message = await ws_local.receive_json(timeout=5)
        assert message["event"]["alarm"]["state"] == "acknowledged"
        await site.call("resolve", {"alarm_id": raised}, OP_L)
        await site.call("close", {"alarm_id": raised}, OP_L)
        assert (await ws_local.receive_json(timeout=5))["event"]["alarm"]["state"] == "resolved"
        message = await ws_local.receive_json(timeout=5)
        assert message["event"]["action"] == "remove" and message["event"]["alarm"]["alarm_id"] == raised

        shared = (await site.call("raise", {"type": "fire"}))["alarm_id"]  # national, shared: both see it
        assert (await ws_national.receive_json(timeout=5))["event"]["alarm"]["alarm_id"] == shared
        assert (await ws_local.receive_json(timeout=5))["event"]["alarm"]["alarm_id"] == shared

        await ws_local.send_json({"id": 2, "type": "alarm/get", "alarm_id": shared})
        detail = await ws_local.receive_json(timeout=5)
        assert detail["success"] and [s["id"] for s in detail["result"]["sop"]] == [
            "confirm", "call_bomberos", "close_access"]
        await ws_local.send_json({"id": 3, "type": "alarm/types"})
        assert len((await ws_local.receive_json(timeout=5))["result"]) == 3
        # the national operator never saw the local alarms
        await ws_national.send_json({"id": 2, "type": "alarm/get", "alarm_id": existing})
        assert (await ws_national.receive_json(timeout=5))["error"]["code"] == "not_found"
        # unsubscribe
        await ws_local.send_json({"id": 4, "type": "unsubscribe_events", "subscription": 1})
        assert (await ws_local.receive_json(timeout=5))["success"]
        await site.call("raise", {"type": "door_open", "area_id": "centro"}, OP_L)
        await ws_local.send_json({"id": 5, "type": "ping"})
        assert (await ws_local.receive_json(timeout=5)) == {"id": 5, "type": "pong"}
    finally:
        await ws_local.close()
        await ws_national.close()
