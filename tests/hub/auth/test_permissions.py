"""The permission matrix through real service calls: roles, centres, ownership by area, every call path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.auth import passwords
from hub.auth.permissions import (
    EVENT_PERMISSION_DENIED,
    PermissionPolicy,
    Principal,
    ServiceClass,
    async_setup_permissions,
    classify_service,
    route_allowed,
)
from hub.auth.tokens import create_token
from hub.auth.users import Role, add_user, set_disabled
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Context, Event, Hub, ServiceCall, callback
from hub.exceptions import Unauthorized
from hub.helpers import area_registry
from hub.http import async_setup_http

PASSWORD = "correct horse battery"
CENTRES = (ControlCentre("local_police", "Policía Local", ("centro",), True),
           ControlCentre("national_police", "Policía Nacional", ("tarajal",)))
USERS = {
    "admin": ("admin", "local_police"),
    "sup_l": ("supervisor", "local_police"),
    "op_l": ("operator", "local_police"),
    "op_n": ("operator", "national_police"),
    "eng": ("engineer", "local_police"),
    "agency": ("agency", "local_police"),
}
SERVICES = ("bollard.lower", "panel.display", "modbus.write_register", "automation.turn_off",
            "automation.reload", "recorder.purge", "input_boolean.turn_on", "hub.check_config")


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


@dataclass
class Site:
    hub: Hub
    policy: PermissionPolicy
    calls: list[str] = field(default_factory=list)
    denied: list[Event] = field(default_factory=list)

    async def call(self, user: str | None, service: str, data: dict[str, Any] | None = None,
                   centre: str | None = None) -> None:
        domain, name = service.split(".")
        context = Context(user_id=user, centre=centre or (USERS[user][1] if user in USERS else None))
        await self.hub.services.async_call(domain, name, data or {}, context=context)


async def _make_site(hub: Hub, config_dir: Path, *, users: bool = True) -> Site:
    hub.config = CoreConfig(control_centres=CENTRES)
    await area_registry.async_setup_areas(hub, [
        {"id": "centro", "name": "Centro", "latitude": 35.889, "longitude": -5.318},
        {"id": "tarajal", "name": "Tarajal", "latitude": 35.871, "longitude": -5.343},
        # not listed by any hub centre, but the area registry gives it to the national police
        {"id": "puerto", "name": "Puerto", "latitude": 35.893, "longitude": -5.312, "centre": "national_police"},
    ])
    if users:
        for user_id, (role, centre) in USERS.items():
            await hub.async_add_executor_job(lambda u=user_id, r=role, c=centre: add_user(
                config_dir, u, role=r, centre=c, password=None if r == "agency" else PASSWORD))
    for entity_id, area in (("bollard.b_centro", "centro"), ("bollard.b_tarajal", "tarajal"),
                            ("bollard.b_puerto", "puerto"), ("panel.p_centro", "centro")):
        hub.states.async_set(entity_id, "raised", {"area_id": area})
    hub.states.async_set("bollard.b_noarea", "raised")
    policy = await async_setup_permissions(hub)
    site = Site(hub, policy)
    for service in SERVICES:
        domain, name = service.split(".")

        @callback
        def handler(call: ServiceCall, service: str = service) -> None:
            site.calls.append(service)

        hub.services.async_register(domain, name, handler)

    @callback
    def on_denied(event: Event) -> None:
        site.denied.append(event)

    hub.bus.async_listen(EVENT_PERMISSION_DENIED, on_denied)
    return site


@pytest.fixture
async def site(fake_hub: Hub, config_dir: Path) -> Site:
    return await _make_site(fake_hub, config_dir)


B_CENTRO = {"entity_id": "bollard.b_centro"}
B_TARAJAL = {"entity_id": "bollard.b_tarajal"}

MATRIX = [
    # operators actuate their own centre's devices only; an entity belongs to its area's centre
    ("op_l", "bollard.lower", B_CENTRO, None),
    ("op_n", "bollard.lower", B_CENTRO, "bollard.b_centro (local_police) not owned by 'national_police'"),
    ("op_n", "bollard.lower", B_TARAJAL, None),
    ("op_n", "bollard.lower", {"entity_id": "bollard.b_puerto"}, None),  # the area registry's centre
    ("op_l", "bollard.lower", {"entity_id": "bollard.b_puerto"}, "bollard.b_puerto (national_police)"),
    ("op_l", "bollard.lower", {"entity_id": ["bollard.b_centro", "bollard.b_tarajal"]},
     "bollard.b_tarajal (national_police) not owned by 'local_police'"),
    ("op_l", "bollard.lower", {"entity_id": "bollard.b_noarea"}, None),  # no area: the default centre
    ("op_n", "bollard.lower", {"entity_id": "bollard.b_noarea"}, "bollard.b_noarea (local_police)"),
    ("op_l", "panel.display", {"area_id": "tarajal"}, "area tarajal (national_police)"),
    ("op_l", "bollard.lower", {}, "names no target"),
    ("sup_l", "bollard.lower", B_CENTRO, None),
    ("sup_l", "bollard.lower", B_TARAJAL, "not owned by 'local_police'"),
    ("admin", "bollard.lower", B_TARAJAL, None),
    # engineers edit automations but never actuate
    ("eng", "bollard.lower", B_CENTRO, "a engineer may not call actuation services"),
    ("eng", "automation.reload", {}, None),
    ("eng", "automation.turn_off", {}, None),
    ("op_l", "automation.turn_off", {}, "a operator may not call automation_control services"),
    ("sup_l", "automation.turn_off", {}, None),
    ("op_l", "automation.reload", {}, "may not call config services"),
    # raw device writes have no owner: admins only
    ("sup_l", "modbus.write_register", {"address": 1, "value": 1}, "may not call raw_actuation services"),
    ("admin", "modbus.write_register", {"address": 1, "value": 1}, None),
    ("op_l", "recorder.purge", {}, "may not call system services"),
    ("admin", "recorder.purge", {}, None),
    ("op_l", "input_boolean.turn_on", {}, None),
    ("op_l", "hub.check_config", {}, None),
    # agencies reach their webhooks only
    ("agency", "input_boolean.turn_on", {}, "a agency may not call general services"),
    ("agency", "bollard.lower", B_CENTRO, "may not call actuation services"),
]


@pytest.mark.parametrize(("user", "service", "data", "refusal"), MATRIX,
                         ids=[f"{m[0]}-{m[1]}-{i}" for i, m in enumerate(MATRIX)])
async def test_permission_matrix(site: Site, user: str, service: str, data: dict[str, Any],
                                 refusal: str | None) -> None:
    if refusal is None:
        await site.call(user, service, data)
        assert site.calls == [service]
        assert site.denied == []
        return
    with pytest.raises(Unauthorized, match=refusal.replace("(", r"\(").replace(")", r"\)")) as info:
        await site.call(user, service, data)
    assert site.calls == []
    assert info.value.user_id == user
    assert [(e.data["domain"] + "." + e.data["service"], e.data["user_id"]) for e in site.denied] == [
        (service, user)]
    assert site.denied[0].context.user_id == user


async def test_system_calls_are_allowed(site: Site) -> None:
    await site.call(None, "bollard.lower", B_TARAJAL)
    await site.call(None, "modbus.write_register", {"address": 1})
    assert site.calls == ["bollard.lower", "modbus.write_register"]


async def test_unknown_disabled_and_wrong_centre_are_refused(site: Site, config_dir: Path) -> None:
    with pytest.raises(Unauthorized, match="'ghost' is not a registered user"):
        await site.call("ghost", "input_boolean.turn_on", centre="local_police")
    with pytest.raises(Unauthorized, match="belongs to centre 'local_police' but the call acts from "
                                           "'national_police'"):
        await site.call("op_l", "bollard.lower", B_TARAJAL, centre="national_police")
    await site.hub.async_add_executor_job(set_disabled, config_dir, "op_l", True)
    await site.policy.users.async_load()
    with pytest.raises(Unauthorized, match="user 'op_l' is disabled"):
        await site.call("op_l", "bollard.lower", B_CENTRO)
    assert site.calls == []
    assert len(site.denied) == 3


async def test_nothing_is_enforced_before_the_first_user(fake_hub: Hub, config_dir: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    site = await _make_site(fake_hub, config_dir, users=False)
    assert not site.policy.enforced
    await site.call("anyone", "bollard.lower", B_TARAJAL, centre="local_police")
    assert site.calls == ["bollard.lower"]
    assert "No users are defined" in caplog.text


async def test_automations_and_scripts_act_for_their_user(site: Site) -> None:
    """A script started by an engineer, and an automation triggered by an operator's action, make
    their calls with a child of that user's context: the hook checks them as that user."""
    hub = site.hub

    async def run_script(call: ServiceCall) -> None:
        await hub.services.async_call("bollard", "lower", B_CENTRO, context=call.context.child())

    hub.services.async_register("script", "lower_centro", run_script)
    with pytest.raises(Unauthorized, match="a engineer may not call actuation"):
        await site.call("eng", "script.lower_centro")
    await site.call("sup_l", "script.lower_centro")
    assert site.calls == ["bollard.lower"]

    outcomes: list[str] = []

    async def automation(event: Event) -> None:
        try:
            await hub.services.async_call("bollard", "lower", B_TARAJAL, context=event.context.child())
            outcomes.append("ran")
        except Unauthorized as err:
            outcomes.append(str(err))

    hub.bus.async_listen("gate_forced", automation)
    hub.bus.async_fire("gate_forced", {}, context=Context(user_id="op_l", centre="local_police"))
    hub.bus.async_fire("gate_forced", {})  # a sensor, no user: the automation acts as the hub
    await hub.async_block_till_done()
    assert outcomes[0].startswith("bollard.lower refused: bollard.b_tarajal (national_police)")
    assert outcomes[1] == "ran"


def test_service_table() -> None:
    assert classify_service("bollard", "raise") is ServiceClass.ACTUATION
    assert classify_service("modbus", "write_coil") is ServiceClass.RAW_ACTUATION
    assert classify_service("mqtt", "publish") is ServiceClass.RAW_ACTUATION
    assert classify_service("alarm", "raise") is ServiceClass.ALARM_RAISE
    assert classify_service("alarm", "acknowledge") is ServiceClass.ALARM
    assert classify_service("automation", "reload") is ServiceClass.CONFIG
    assert classify_service("script", "turn_on") is ServiceClass.AUTOMATION_CONTROL
    assert classify_service("hub", "stop") is ServiceClass.SYSTEM
    assert classify_service("notify", "send") is ServiceClass.GENERAL


async def test_frontend_helpers(site: Site) -> None:
    policy = site.policy
    op_n = policy.principal("op_n")
    assert op_n == Principal("op_n", Role.OPERATOR, "national_police", "op_n", ())
    assert policy.can_actuate(op_n, "bollard.b_tarajal")
    assert not policy.can_actuate(op_n, "bollard.b_centro")
    eng = policy.principal("eng")
    assert eng is not None and not policy.can_actuate(eng, "bollard.b_centro")
    assert policy.can_call(op_n, "bollard", "lower", B_TARAJAL)
    assert not policy.can_call(op_n, "bollard", "lower", B_CENTRO)
    assert site.calls == [] and site.denied == []  # asking is not calling


def test_agency_routes() -> None:
    agency = Principal("bomberos", Role.AGENCY, "local_police", webhooks=("fire_in",))
    assert route_allowed(agency, "/api/webhook/fire_in")
    assert not route_allowed(agency, "/api/webhook/other")
    assert not route_allowed(agency, "/api/states")
    assert route_allowed(Principal("op", Role.OPERATOR, "local_police"), "/api/states")
    assert route_allowed(None, "/api/")


@pytest.fixture
async def api(site: Site, config_dir: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    hub = site.hub
    tokens = {}
    for user in ("op_l", "op_n", "agency"):
        tokens[user] = await hub.async_add_executor_job(
            lambda u=user: create_token(config_dir, f"{u}_console", USERS[u][1], user_id=u))
    http = await async_setup_http(hub, {"port": 0})
    from hub.http.auth import agency_route_middleware, auth_middleware

    http.app.middlewares.insert(http.app.middlewares.index(auth_middleware) + 1,
                                agency_route_middleware(site.policy))
    await http.async_start()
    yield http.base_url, tokens
    await http.async_stop()


async def test_rest_and_websocket_paths_are_checked(site: Site, api: tuple[str, dict[str, str]]) -> None:
    base, tokens = api
    async with aiohttp.ClientSession() as session:
        url = f"{base}/api/services/bollard/lower"
        async with session.post(url, json=B_CENTRO, headers={"Authorization": f"Bearer {tokens['op_n']}"}) as r:
            assert r.status == 403
            body = await r.json()
            assert body["error"]["code"] == "forbidden"
            assert "not owned by 'national_police'" in body["error"]["message"]
        async with session.post(url, json=B_CENTRO, headers={"Authorization": f"Bearer {tokens['op_l']}"}) as r:
            assert r.status == 200
        async with session.get(f"{base}/api/states",
                               headers={"Authorization": f"Bearer {tokens['agency']}"}) as r:
            assert r.status == 403
        async with session.ws_connect(f"{base}/api/websocket") as ws:
            await ws.receive_json(timeout=5)
            await ws.send_json({"type": "auth", "access_token": tokens["op_n"]})
            assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
            await ws.send_json({"id": 1, "type": "call_service", "domain": "bollard", "service": "lower",
                                "service_data": B_CENTRO})
            result = await ws.receive_json(timeout=5)
            assert result["success"] is False and result["error"]["code"] == "forbidden"
    assert site.calls == ["bollard.lower"]
    assert [e.data["user_id"] for e in site.denied] == ["op_n", "op_n"]


def test_agency_delivery_control_is_for_supervisors_and_admins() -> None:
    from hub.auth.permissions import ROLE_GRANTS, ServiceClass, classify_service
    from hub.auth.users import Role

    assert classify_service("agency", "replay") is ServiceClass.DELIVERY_CONTROL
    assert classify_service("agency", "enable") is ServiceClass.DELIVERY_CONTROL
    assert classify_service("agency", "notify") is ServiceClass.GENERAL
    assert ServiceClass.DELIVERY_CONTROL in ROLE_GRANTS[Role.SUPERVISOR]
    assert ServiceClass.DELIVERY_CONTROL not in ROLE_GRANTS[Role.OPERATOR]
