"""Access to the site: every route refuses a caller without a session, CSRF, login and lockout, centres."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp import web

from frontend.const import STATIC_URL
from hub.audit import get_audit

from .conftest import MakeClient
from .site import BOLLARD_LOCAL, BOLLARD_NATIONAL, LOCAL, NATIONAL, PASSWORD, Site

# Routes that answer without a session on purpose: the login form, the health check, static files.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/api/"), ("HEAD", "/api/")}
# Websocket endpoints that authenticate in-band (tested below).
IN_BAND = {"/api/websocket"}
# Webhooks authenticate by their secret id (automation webhook triggers): an unknown one is refused
# with 404, which tells a prober nothing; tested below.
SECRET_ID = {"/api/webhook/{webhook_id}"}
_PLACEHOLDER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
_SAMPLE = {"centre": LOCAL, "entity_id": BOLLARD_LOCAL, "domain": "bollard", "service": "lower",
           "event_type": "test_event", "alarm_id": "0" * 32}


def _concrete(path: str) -> str:
    return _PLACEHOLDER.sub(lambda m: _SAMPLE.get(m.group(1), "x"), path)


def _routes(site: Site) -> list[tuple[str, str, str]]:
    """(method, canonical path, concrete path) of every route on the server."""
    found = []
    for route in site.http.app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        canonical = resource.canonical
        found.append((route.method, canonical, _concrete(canonical)))
    return found


async def test_every_route_refuses_without_a_session(site: Site) -> None:
    routes = _routes(site)
    paths = {canonical for _method, canonical, _path in routes}
    assert {"/", "/c/{centre}/", "/c/{centre}/alarms/{alarm_id}", "/c/{centre}/map", "/c/{centre}/ws", "/logout",
            "/api/services/{domain}/{service}"} <= paths
    checked = 0
    async with aiohttp.ClientSession() as session:
        for method, canonical, path in routes:
            if (method, canonical) in PUBLIC or canonical in IN_BAND:
                continue
            if canonical in SECRET_ID:
                async with session.request(method, site.url(path), json={}) as resp:
                    assert resp.status in (401, 403, 404), f"{method} {canonical} accepted an unknown id"
                continue
            async with session.request(method, site.url(path), json={} if method != "GET" else None,
                                       allow_redirects=False) as resp:
                assert resp.status in (401, 403), f"{method} {canonical} answered {resp.status} without a session"
                checked += 1
    assert checked >= 20


async def test_public_routes_answer_without_a_session(site: Site) -> None:
    async with aiohttp.ClientSession() as session:
        for path in ("/login", f"{STATIC_URL}/css/hacho.css", f"{STATIC_URL}/js/hacho.js",
                     f"{STATIC_URL}/basemap/ceuta.geojson"):
            async with session.get(site.url(path)) as resp:
                assert resp.status == 200, path
        async with session.get(site.url("/api/")) as resp:
            assert resp.status in (200, 401)  # the health check (token-protected in this hub)


async def test_in_band_websocket_refuses_without_credentials(site: Site) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(site.url("/api/websocket")) as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": "not-a-token"})
        assert (await ws.receive_json())["type"] == "auth_invalid"


async def test_unauthenticated_page_leads_to_login(site: Site) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(site.url(f"/c/{LOCAL}/map"), allow_redirects=False) as resp:
            assert resp.status == 401
            body = await resp.text()
    assert f"/login?next=/c/{LOCAL}/map" in body
    assert 'http-equiv="refresh"' in body


async def test_login_lands_on_own_centre(make_client: MakeClient) -> None:
    local = await make_client()
    resp = await local.login("op_local")
    assert resp.url.path == f"/c/{LOCAL}/"
    national = await make_client()
    resp = await national.login("op_national")
    assert resp.url.path == f"/c/{NATIONAL}/"
    # `next` is honoured when it is a path on this site, ignored otherwise (no open redirect)
    client = await make_client()
    async with client.session.get(client.url(f"/login?next=/c/{LOCAL}/map")) as r:
        form = await r.text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token and f'name="next" value="/c/{LOCAL}/map"' in form
    resp = await client.session.post(client.url("/login"), data={
        "username": "op_local", "password": PASSWORD, "csrf_token": token.group(1), "next": f"/c/{LOCAL}/map"})
    assert resp.url.path == f"/c/{LOCAL}/map"


async def test_failed_login_is_refused_audited_and_locks_out(site: Site, make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.login("op_local", "wrong password!")
    assert resp.status == 401
    assert "Usuario o contraseña incorrectos" in await resp.text()
    audit = get_audit(site.hub)
    assert audit is not None
    entries = await audit.async_query(action="login_failed")
    assert entries and entries[0]["target"] == "op_local" and entries[0]["outcome"] == "failed"
    assert "wrong password" not in str(entries)
    for _ in range(4):
        resp = await client.login("op_local", "wrong password!")
    resp = await client.login("op_local", PASSWORD)
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0


async def test_login_form_needs_its_token_and_this_origin(site: Site, make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.session.post(client.url("/login"), data={"username": "op_local", "password": PASSWORD})
    assert resp.status == 403
    async with client.session.get(client.url("/login")) as r:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await r.text())
    assert token is not None
    resp = await client.session.post(
        client.url("/login"), headers={"Origin": "https://evil.example"},
        data={"username": "op_local", "password": PASSWORD, "csrf_token": token.group(1)})
    assert resp.status == 403


async def test_csrf_less_post_is_refused(site: Site, make_client: MakeClient) -> None:
    client = await make_client("op_local")
    status, body = await client.post_json("/api/services/bollard/raise", {"entity_id": BOLLARD_LOCAL}, csrf=False)
    assert status == 403
    assert body["error"]["code"] == "csrf_failed"
    state = site.hub.states.get(BOLLARD_LOCAL)
    assert state is not None and state.state == "lowered"
    resp = await client.session.post(client.url("/logout"), data={}, allow_redirects=False)
    assert resp.status == 403
    status, _ = await client.get(f"/c/{LOCAL}/devices")
    assert status == 200  # still logged in


async def test_logout_ends_the_session(make_client: MakeClient) -> None:
    client = await make_client("op_local")
    resp = await client.session.post(client.url("/logout"), data={"csrf_token": client.csrf},
                                     allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/login"
    status, _ = await client.get(f"/c/{LOCAL}/devices", allow_redirects=False)
    assert status == 401


@pytest.mark.parametrize(("user", "centre", "status"), [
    ("op_local", NATIONAL, 403),
    ("op_national", LOCAL, 403),
    ("eng_local", NATIONAL, 403),
    ("sup_local", NATIONAL, 200),
    ("admin", NATIONAL, 200),
    ("op_local", "nowhere", 404),
])
async def test_who_opens_which_centre(make_client: MakeClient, user: str, centre: str, status: int) -> None:
    client = await make_client(user)
    got, _ = await client.get(f"/c/{centre}/devices")
    assert got == status


async def test_other_centre_cannot_lower_a_bollard_it_does_not_own(site: Site, make_client: MakeClient) -> None:
    national = await make_client("op_national")
    status, page = await national.get(f"/c/{NATIONAL}/devices/{BOLLARD_LOCAL}")
    assert status == 200
    assert 'id="not-owned"' in page and 'id="btn-lower"' not in page
    status, body = await national.post_json("/api/services/bollard/lower", {"entity_id": BOLLARD_LOCAL})
    assert status == 403
    assert "not owned by 'national_police'" in body["error"]["message"]
    # its own bollard has the buttons
    status, page = await national.get(f"/c/{NATIONAL}/devices/{BOLLARD_NATIONAL}")
    assert 'id="btn-lower"' in page and 'id="btn-raise"' in page
    # a supervisor of the local police viewing the national centre reads, but cannot act there
    supervisor = await make_client("sup_local")
    status, page = await supervisor.get(f"/c/{NATIONAL}/devices/{BOLLARD_NATIONAL}")
    assert status == 200 and 'id="btn-lower"' not in page


async def test_security_headers_on_screens(site: Site, make_client: MakeClient) -> None:
    client = await make_client()
    async with client.session.get(client.url("/login")) as r:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await r.text())
    assert token is not None
    async with client.session.post(client.url("/login"), allow_redirects=False, data={
            "username": "op_local", "password": PASSWORD, "csrf_token": token.group(1)}) as resp:
        assert resp.status == 303
        cookie = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith("hacho_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain http here
    async with client.session.get(client.url(f"/c/{LOCAL}/devices")) as resp:
        csp = resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Cache-Control"] == "no-store"
        page = await resp.text()
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # no inline script: every <script> either loads a file or is a JSON data block
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
