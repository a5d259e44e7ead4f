"""Least privilege by construction: a route or websocket command that declares no roles is refused before it
can answer anyone; owned event types come from the integrations' manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from hub.core import Hub
from hub.exceptions import HubError
from hub.helpers.owned_events import CORE_OWNER, async_get_owned_events
from hub.http import HubView, async_setup_http
from hub.http.access import ROLES_STAFF
from hub.http.websocket_api import async_register_command
from hub.loader import load_manifest


class UndeclaredView(HubView):
    url = "/api/undeclared"
    name = "api:undeclared"

    async def get(self, request: web.Request) -> dict[str, str]:
        return {}


async def test_a_view_without_roles_is_refused(hub: Hub) -> None:
    http = await async_setup_http(hub, {"port": 0})
    with pytest.raises(HubError, match="declares no roles"):
        http.register_view(UndeclaredView)
    assert "/api/undeclared" not in {r.resource.canonical for r in http.app.router.routes() if r.resource}


async def test_the_server_does_not_start_with_an_undeclared_raw_route(hub: Hub) -> None:
    http = await async_setup_http(hub, {"port": 0})

    async def raw(request: web.Request) -> web.Response:
        return web.Response()

    http.app.router.add_get("/api/raw", raw, allow_head=False)
    with pytest.raises(HubError, match="GET /api/raw"):
        await http.async_start()
    assert not http.is_running


async def test_a_websocket_command_without_roles_is_refused(hub: Hub) -> None:
    with pytest.raises(HubError, match="Websocket command demo/x declares no roles"):
        async_register_command(hub, "demo/x", lambda connection, msg: None, roles=None)
    remove = async_register_command(hub, "demo/y", lambda connection, msg: None, roles=ROLES_STAFF)
    remove()


async def test_owned_events_come_from_manifests_and_the_hub(hub: Hub) -> None:
    owned = await async_get_owned_events(hub)
    assert owned.owner("thermal_fire_detected") == "thermal_fire"
    assert owned.owner("agency_webhook_received") == "agencies"
    assert owned.owner("anpr_hotlist_hit") == "anpr"
    assert owned.owner("bollard_command") == "bollards"
    assert owned.owner("state_changed") == CORE_OWNER
    assert owned.owner("auth_login") == CORE_OWNER
    assert owned.owner("shift_note") is None


def test_manifest_events_must_be_a_list(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"domain": "demo", "name": "Demo", "events": "demo_*"}))
    with pytest.raises(HubError, match="manifest 'events' must be a list"):
        load_manifest(path)
    path.write_text(json.dumps({"domain": "demo", "name": "Demo", "events": ["demo_*"]}))
    assert load_manifest(path).events == ("demo_*",)
