"""The screens over HTTP: devices, panels, sensor history, map markers, automations and traces, the audit log,
and the cookie-authenticated websocket."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from frontend.i18n import load_catalogues
from frontend.views_auth import safe_next
from frontend.views_automations import describe_path
from frontend.websocket import CLOSE_SESSION_ENDED

from .conftest import MakeClient, WebClient, page_data
from .site import BOLLARD_LOCAL, BOLLARD_NATIONAL, LOCAL, NATIONAL, PANEL_LOCAL, PANEL_NATIONAL, SENSOR, Site


async def test_device_list_puts_own_centre_first(make_client: MakeClient) -> None:
    client = await make_client("op_national")
    status, page = await client.get(f"/c/{NATIONAL}/devices")
    assert status == 200
    bollards = re.findall(r'data-entity-id="(bollard\.[a-z0-9_]+)"', page)
    assert bollards == [BOLLARD_NATIONAL, BOLLARD_LOCAL]


async def test_panel_page_offers_compose_only_to_the_owner(site: Site, make_client: MakeClient) -> None:
    local = await make_client("op_local")
    status, page = await local.get(f"/c/{LOCAL}/devices/{PANEL_LOCAL}")
    assert status == 200
    assert 'id="compose"' in page and 'id="preview"' in page
    status, page = await local.get(f"/c/{LOCAL}/devices/{PANEL_NATIONAL}")
    assert 'id="compose"' not in page and 'id="not-owned"' in page
    status, body = await local.post_json("/api/services/panel/display", {
        "entity_id": PANEL_LOCAL, "lines": ["PUERTO", "CERRADO"], "priority": "security", "duration": 600})
    assert status == 200, body
    state = site.hub.states.get(PANEL_LOCAL)
    assert state is not None and state.state == "displaying"
    assert state.attributes["pages"] == [["PUERTO", "CERRADO"]]
    assert state.attributes["user_id"] == "op_local"
    _, page = await local.get(f"/c/{LOCAL}/devices/{PANEL_LOCAL}")
    current = page_data(page)["current"]
    assert current["pages"] == [["PUERTO", "CERRADO"]] and current["priority"] == "security"
    assert page_data(page)["capabilities"]["rows"] == 3
    status, body = await local.post_json("/api/services/panel/display", {
        "entity_id": PANEL_NATIONAL, "lines": ["HOLA"]})
    assert status == 403


async def test_sensor_history_through_the_session(site: Site, make_client: MakeClient) -> None:
    hub = site.hub
    for value in ("41", "44", "52"):
        hub.states.async_set(SENSOR, value, {"unit_of_measurement": "µg/m³", "area_id": "centro",
                                             "friendly_name": "NO2 Centro"})
        await hub.async_block_till_done()
    from hub.recorder import get_recorder

    await get_recorder(hub).async_flush()
    client = await make_client("op_local")
    status, page = await client.get(f"/c/{LOCAL}/devices/{SENSOR}")
    assert status == 200 and 'id="plot"' in page
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    async with client.session.get(client.url("/api/history"),
                                  params={"filter_entity_id": SENSOR, "start_time": start}) as resp:
        assert resp.status == 200
        history = await resp.json()
    assert [s["state"] for s in history[0]] == ["41", "44", "52"]


async def test_map_markers(site: Site, make_client: MakeClient) -> None:
    site.hub.states.async_set("geo_location.fire_1", "detected",
                              {"latitude": 35.9001, "longitude": -5.3402, "status": "detected",
                               "friendly_name": "Fire near García Aldave"})
    client = await make_client("op_local")
    status, page = await client.get(f"/c/{LOCAL}/map")
    assert status == 200 and 'id="map"' in page
    async with client.session.get(client.url(f"/c/{LOCAL}/api/map")) as resp:
        assert resp.status == 200
        features = (await resp.json())["features"]
    kinds = {f["entity_id"]: f["kind"] for f in features}
    assert kinds[BOLLARD_LOCAL] == "device"
    assert kinds[BOLLARD_NATIONAL] == "other"
    assert kinds[PANEL_LOCAL] == "device"
    assert kinds["geo_location.fire_1"] == "fire"
    panel = next(f for f in features if f["entity_id"] == PANEL_LOCAL)
    assert (panel["lat"], panel["lon"]) == (35.8925, -5.316)  # its own position, not its area's


async def test_automations_switch_and_traces(site: Site, make_client: MakeClient) -> None:
    operator = await make_client("op_local")
    _, page = await operator.get(f"/c/{LOCAL}/automations")
    assert "automation.night_lights" in page and "data-toggle=" not in page  # operators do not switch them
    status, _ = await operator.post_json("/api/services/automation/turn_off",
                                         {"entity_id": "automation.night_lights"})
    assert status == 403
    engineer = await make_client("eng_local")
    _, page = await engineer.get(f"/c/{LOCAL}/automations")
    assert 'data-toggle="automation.night_lights"' in page
    status, _ = await engineer.post_json("/api/services/automation/turn_off",
                                         {"entity_id": "automation.night_lights"})
    assert status == 200
    state = site.hub.states.get("automation.night_lights")
    assert state is not None and state.state == "off"
    await engineer.post_json("/api/services/automation/turn_on", {"entity_id": "automation.night_lights"})
    site.hub.bus.async_fire("test_night", {})
    await site.hub.async_block_till_done()
    status, page = await operator.get(f"/c/{LOCAL}/automations/automation.night_lights")
    assert status == 200
    assert "Disparador 1" in page and "Acción 1" in page and "terminada" in page  # the run, in Spanish
    status, _ = await operator.get(f"/c/{LOCAL}/automations/automation.nope")
    assert status == 404


async def test_audit_screen_for_supervisors_only(site: Site, make_client: MakeClient) -> None:
    operator = await make_client("op_local")
    status, page = await operator.get(f"/c/{LOCAL}/audit")
    assert status == 403
    assert f'href="/c/{LOCAL}/audit"' not in (await operator.get(f"/c/{LOCAL}/devices"))[1]
    supervisor = await make_client("sup_local")
    status, page = await supervisor.get(f"/c/{LOCAL}/audit?action=login")
    assert status == 200
    users = set(re.findall(r'<tr data-action="login">\s*<td>\d+</td><td[^>]*>[^<]*</td><td[^>]*>[^<]*</td>'
                           r'<td><span class="name" title="([^"]*)">', page))
    assert {"op_local", "sup_local"} <= users
    assert "op_national" not in page  # another centre's entries stay with that centre
    admin = await make_client("admin")
    status, page = await admin.get(f"/c/{LOCAL}/audit?verify=1")
    assert status == 200 and "Cadena verificada" in page


async def _ws(client: WebClient, centre: str = LOCAL,
              headers: dict[str, str] | None = None) -> aiohttp.ClientWebSocketResponse:
    return await client.session.ws_connect(client.url(f"/c/{centre}/ws"), headers=headers)


async def test_websocket_needs_session_csrf_and_same_origin(site: Site, make_client: MakeClient) -> None:
    anonymous = await make_client()
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await _ws(anonymous)
    assert err.value.status == 401
    client = await make_client("op_local")
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await _ws(client, NATIONAL)
    assert err.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await _ws(client, headers={"Origin": "https://evil.example"})
    assert err.value.status == 403
    async with await _ws(client) as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "csrf_token": "wrong"})
        assert (await ws.receive_json())["type"] == "auth_invalid"
    async with await _ws(client) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "csrf_token": client.csrf})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "call_service", "domain": "bollard", "service": "lower",
                            "service_data": {"entity_id": BOLLARD_NATIONAL}})
        result = await ws.receive_json()
        assert result["success"] is False and result["error"]["code"] == "forbidden"


async def test_websocket_closes_when_the_session_ends(site: Site, make_client: MakeClient) -> None:
    client = await make_client("op_local")
    async with await _ws(client) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "csrf_token": client.csrf})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await client.session.post(client.url("/logout"), data={"csrf_token": client.csrf})
        msg = await asyncio.wait_for(ws.receive(), 5)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == CLOSE_SESSION_ENDED


def test_describe_path() -> None:
    assert describe_path("trigger/0") == "Trigger 1"
    assert describe_path("action/1/choose/0/sequence/2") == "Action 2 > option 1 > step 3"
    assert describe_path("condition/0/conditions/1") == "Condition 1 > condition 2"
    assert describe_path("sequence") == "Run started"
    spanish = load_catalogues().get("es").gettext
    assert describe_path("action/1/choose/0/sequence/2", spanish) == "Acción 2 > opción 1 > paso 3"


@pytest.mark.parametrize(("value", "expected"), [
    ("/c/local_police/map", "/c/local_police/map"),
    ("/c/x/?a=1", "/c/x/?a=1"),
    ("//evil.example/c/", None),
    ("https://evil.example/c/", None),
    ("/api/services/x/y", None),
    ("/c/\\evil", None),
    ("", None),
    (None, None),
])
def test_safe_next(value: str | None, expected: str | None) -> None:
    assert safe_next(value) == expected


async def test_subscribe_states_sends_only_what_the_page_shows(site: Site, make_client: MakeClient) -> None:
    client = await make_client("op_local")
    async with await _ws(client) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "csrf_token": client.csrf})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "frontend/subscribe_states", "entity_ids": [SENSOR],
                            "domains": ["geo_location"]})
        assert (await ws.receive_json())["success"] is True
        site.hub.states.async_set("sensor.other", "1")
        site.hub.states.async_set(SENSOR, "12", {"unit_of_measurement": "µg/m³"})
        site.hub.states.async_set("geo_location.fire_9", "detected", {"latitude": 35.9, "longitude": -5.3})
        first, second = await ws.receive_json(), await ws.receive_json()
    assert first["event"]["entity_id"] == SENSOR and first["event"]["new"]["state"] == "12"
    assert second["event"]["entity_id"] == "geo_location.fire_9"


async def test_automation_configuration_errors_are_shown(site: Site, make_client: MakeClient) -> None:
    from automations.engine import get_manager

    get_manager(site.hub).errors = ["automations/fire.yaml:12: [automation 'x'] unknown trigger 'fuego'"]
    client = await make_client("eng_local")
    _, page = await client.get(f"/c/{LOCAL}/automations")
    assert 'id="automation-errors"' in page and "fire.yaml:12" in page
