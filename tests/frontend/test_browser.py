"""The control-centre screens in a real Chromium (Debian's, driven by Playwright) against the simulated site.

One site and one browser serve the whole module (a browser takes seconds to start); every test opens
fresh browser contexts (their own cookies), and alarms carry unique titles so tests do not depend on
each other. Screenshots of the main screens land in test-output/screenshots/.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from frontend import get_frontend
from hub.audit import get_audit
from hub.auth import passwords
from hub.core import Context
from integrations.alarm.manager import get_manager

from .browser import launched_chromium, login, require_chromium, screenshot
from .site import (
    BOLLARD_LOCAL,
    LOCAL,
    NATIONAL,
    PANEL_LOCAL,
    SENSOR,
    Site,
    async_start_site,
    async_stop_site,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    """Overrides the package fixture: the module's site set the cheap hasher for its whole life."""
    yield


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    require_chromium()
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    config_dir: Path = tmp_path_factory.mktemp("browser")
    running = await async_start_site(config_dir)
    yield running
    await async_stop_site(running)
    passwords.configure_hasher()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(live_site: Site) -> AsyncIterator[Any]:
    async with launched_chromium() as instance:
        yield instance


class Screen:
    """One logged-in browser context with its page, recording console errors (CSP violations among them)."""

    def __init__(self, context: Any, page: Any) -> None:
        self.context = context
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: self.errors.append(str(err)))

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]


@pytest_asyncio.fixture(loop_scope="module")
async def open_screen(browser: Any, live_site: Site) -> AsyncIterator[Any]:
    """`await open_screen("op_local")`: a fresh context logged in as that user (None: not logged in)."""
    contexts: list[Any] = []

    async def _open(user: str | None, *, width: int = 1440, height: int = 900) -> Screen:
        context = await browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        screen = Screen(context, await context.new_page())
        if user is not None:
            await login(screen.page, live_site.base_url, user)
        return screen

    yield _open
    for context in contexts:
        await context.close()


async def _live(screen: Screen) -> None:
    """Wait until the page's websocket is authenticated."""
    await screen.page.wait_for_selector("body[data-live='1']", timeout=5000)


def _raise(site: Site, alarm_type: str, title: str, **data: Any) -> None:
    manager = get_manager(site.hub)
    assert manager is not None
    manager.async_raise(alarm_type, title=title, context=Context(), **data)


async def test_each_centre_logs_in_to_its_own_queue(open_screen: Any, live_site: Site) -> None:
    login_page = await open_screen(None)
    await login_page.page.goto(f"{live_site.base_url}/login")
    await screenshot(login_page.page, "01-login")
    local = await open_screen("op_local")
    assert local.page.url == f"{live_site.base_url}/c/{LOCAL}/"
    assert "Policía Local" in await local.page.inner_text("#centre-name")
    national = await open_screen("op_national")
    assert national.page.url == f"{live_site.base_url}/c/{NATIONAL}/"
    assert "Policía Nacional" in await national.page.inner_text("#centre-name")
    await _live(local)
    await _live(national)
    # an operator cannot open the other centre's screens
    response = await local.page.goto(f"{live_site.base_url}/c/{NATIONAL}/")
    assert response is not None and response.status == 403
    assert local.csp_violations() == [] and national.csp_violations() == []


async def test_event_raises_an_alarm_in_the_right_queue_within_a_second(open_screen: Any,
                                                                        live_site: Site) -> None:
    local = await open_screen("op_local")
    national = await open_screen("op_national")
    await _live(local)
    await _live(national)
    title = f"Fire at Centro {uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    live_site.hub.bus.async_fire("test_fire_detected", {"title": title, "area_id": "centro"})
    row = local.page.locator("#queue-body tr", has_text=title)
    await row.wait_for(timeout=1000)
    assert time.monotonic() - started < 1.0
    assert await row.get_attribute("data-severity") == "critical"
    # critical: the beep fired (sound itself is the operator's toggle)
    assert await local.page.get_attribute("body", "data-last-beep") is not None
    # fire alarms are shared: the other centre sees it apart, read-only, not in its own queue
    await national.page.locator("#shared-body tr", has_text=title).wait_for(timeout=1000)
    assert await national.page.locator("#queue-body tr", has_text=title).count() == 0
    # an intrusion at the border belongs to the National Police and is not shared
    intrusion = f"Vehicle at Tarajal {uuid.uuid4().hex[:6]}"
    _raise(live_site, "intrusion", intrusion, area_id="tarajal")
    await national.page.locator("#queue-body tr", has_text=intrusion).wait_for(timeout=1000)
    await local.page.wait_for_timeout(300)
    assert await local.page.locator("tr", has_text=intrusion).count() == 0
    # most severe first, then newest
    severities = await local.page.locator("#queue-body tr").evaluate_all("rows => rows.map(r => r.dataset.severity)")
    ranks = ["critical", "major", "minor", "warning", "info"]
    assert severities == sorted(severities, key=ranks.index)
    await screenshot(local.page, "02-queue-local")
    await screenshot(national.page, "03-queue-national")


async def test_acknowledge_work_the_sop_and_resolve_with_a_note(open_screen: Any, live_site: Site) -> None:
    local = await open_screen("op_local")
    title = f"Fire at the port {uuid.uuid4().hex[:6]}"
    live_site.hub.bus.async_fire("test_fire_detected", {"title": title, "area_id": "port"})
    await local.page.locator("#queue-body a", has_text=title).click()
    page = local.page
    await page.wait_for_selector("#btn-acknowledge")
    await _live(local)
    await page.click("#btn-acknowledge")
    await page.wait_for_selector("body[data-alarm-state='acknowledged']")
    await page.click("li[data-step-id='confirm'] button[data-step='confirm']")
    await page.wait_for_selector("li[data-step-id='confirm'][data-status='done']")
    await page.click("li[data-step-id='warn'] button[data-step='warn']")  # runs panel.display
    await page.wait_for_selector("li[data-step-id='warn'][data-status='done']")
    panel = live_site.hub.states.get(PANEL_LOCAL)
    assert panel is not None and panel.attributes["pages"] == [["INCENDIO", "PRECAUCION"]]
    assert panel.attributes["user_id"] == "op_local"
    await page.fill("#note-report", "Bomberos avisados, dotación en camino")
    await page.click("li[data-step-id='report'] button[data-step='report']")
    await page.wait_for_selector("li[data-step-id='report'][data-status='done']")
    # resolving needs a note
    await page.click("#btn-resolve")
    assert await page.get_attribute("body", "data-alarm-state") == "in_progress"
    await page.fill("#action-note", "Fuego extinguido por los bomberos")
    await page.click("#btn-resolve")
    await page.wait_for_selector("body[data-alarm-state='resolved']")
    timeline = await page.inner_text("#timeline")
    assert "Fuego extinguido por los bomberos" in timeline and "reconocida" in timeline
    await screenshot(page, "04-alarm-resolved")
    await page.click("#btn-close")
    await page.wait_for_selector("body[data-alarm-state='closed']")
    assert local.csp_violations() == []


async def test_other_centre_cannot_lower_a_bollard_it_does_not_own(open_screen: Any, live_site: Site) -> None:
    national = await open_screen("op_national")
    await national.page.goto(f"{live_site.base_url}/c/{NATIONAL}/devices/{BOLLARD_LOCAL}")
    assert await national.page.locator("#btn-lower").count() == 0
    assert await national.page.locator("#btn-raise").count() == 0
    assert "es de" in await national.page.inner_text("#not-owned")
    refused = await national.page.evaluate("""async (entity) => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/services/bollard/lower', {method: 'POST', headers: {
            'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: JSON.stringify({entity_id: entity})});
        return [r.status, await r.json()];
    }""", BOLLARD_LOCAL)
    assert refused[0] == 403 and "not owned" in refused[1]["error"]["message"]
    # and a POST without the CSRF token is refused before anything else is looked at
    no_csrf = await national.page.evaluate("""async (entity) => {
        const r = await fetch('/api/services/bollard/lower', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({entity_id: entity})});
        return [r.status, await r.json()];
    }""", BOLLARD_LOCAL)
    assert no_csrf[0] == 403 and no_csrf[1]["error"]["code"] == "csrf_failed"
    await screenshot(national.page, "05-bollard-not-owned")
    # its owner raises it through the confirmation dialog; a vehicle on the loop is refused with the reason
    local = await open_screen("op_local")
    await local.page.goto(f"{live_site.base_url}/c/{LOCAL}/devices/{BOLLARD_LOCAL}")
    live_site.plc.bollard(1, 0).set_loop(True)
    await local.page.wait_for_timeout(500)  # the hub polls the loop every 0.2 s
    await local.page.click("#btn-raise")
    assert await local.page.locator("dialog#confirm[open]").count() == 1
    await local.page.fill("#confirm-reason", "Cierre por evento")
    await local.page.click("#confirm-yes")
    outcome = local.page.locator("#outcome.refusal")
    await outcome.wait_for(timeout=3000)
    assert (await outcome.inner_text()).startswith("Refused: vehicle over bollard B-07")
    await screenshot(local.page, "06-bollard-refused")
    live_site.plc.bollard(1, 0).set_loop(False)
    await local.page.wait_for_timeout(500)
    await local.page.click("#btn-raise")
    await local.page.click("#confirm-yes")
    await local.page.wait_for_selector("#outcome.ok", timeout=3000)
    for _ in range(50):
        state = live_site.hub.states.get(BOLLARD_LOCAL)
        if state is not None and state.state == "raised":
            break
        await local.page.wait_for_timeout(100)
    assert state is not None and state.state == "raised"
    assert state.attributes["last_command_by"] == "op_local"


async def test_failed_login_is_audited(open_screen: Any, live_site: Site) -> None:
    intruder = await open_screen(None)
    await intruder.page.goto(f"{live_site.base_url}/login")
    await intruder.page.fill("#username", "op_national")
    await intruder.page.fill("#password", "not the password")
    await intruder.page.click("#login-submit")
    assert "Usuario o contraseña incorrectos" in await intruder.page.inner_text("#login-error")
    audit = get_audit(live_site.hub)
    assert audit is not None
    entries = await audit.async_query(action="login_failed")
    assert any(entry["target"] == "op_national" for entry in entries)
    admin = await open_screen("admin")
    await admin.page.goto(f"{live_site.base_url}/c/{LOCAL}/audit?action=login_failed")
    failed = admin.page.locator("#audit-entries tr[data-action='login_failed']", has_text="op_national")
    assert await failed.count() >= 1
    await admin.page.goto(f"{live_site.base_url}/c/{LOCAL}/audit?verify=1")
    assert "Cadena verificada" in await admin.page.inner_text("#chain")
    await screenshot(admin.page, "07-audit")


async def test_screens_for_review(open_screen: Any, live_site: Site) -> None:
    hub = live_site.hub
    for value in ("38", "41", "47", "52", "49", "44"):
        hub.states.async_set(SENSOR, value, {"unit_of_measurement": "µg/m³", "area_id": "centro",
                                             "friendly_name": "NO2 Centro"})
        await asyncio.sleep(0.15)  # readings apart in time, so the plot has a shape
    hub.states.async_set("geo_location.fire_7", "detected", {"latitude": 35.8990, "longitude": -5.3450,
                                                            "status": "detected", "friendly_name": "Fire 7"})
    _raise(live_site, "intrusion", f"Vehicle in Calle Real {uuid.uuid4().hex[:6]}", area_id="calle_real",
           latitude=35.8881, longitude=-5.3136)
    from hub.recorder import get_recorder

    await get_recorder(hub).async_flush()
    screen = await open_screen("op_local")
    page = screen.page
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/map")
    await page.wait_for_selector("#map[data-features]")
    await page.wait_for_timeout(300)
    assert int(await page.get_attribute("#map", "data-features") or 0) >= 5
    assert await page.get_attribute("#map", "data-renderer") == "leaflet"
    await screenshot(page, "08-map")
    # without Leaflet (npm absent at install) the same markers are drawn as SVG over the outline
    frontend = get_frontend(hub)
    assert frontend is not None
    frontend.leaflet_available = False
    try:
        await page.goto(f"{live_site.base_url}/c/{LOCAL}/map")
        await page.wait_for_selector("#map svg.svgmap polygon.land")
        assert await page.get_attribute("#map", "data-renderer") == "svg"
        assert await page.locator("#map svg.svgmap circle").count() >= 5
        await screenshot(page, "08b-map-without-leaflet")
    finally:
        frontend.leaflet_available = True
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/devices/{PANEL_LOCAL}")
    await page.fill("#text", "Puerto cerrado\npor niebla\n\nuse acceso norte")
    cells = await page.locator("#preview .sign .cell").count()
    assert cells == 2 * 3 * 18  # two pages of 3 rows x 18 characters
    assert await page.is_enabled("#send")
    await page.fill("#text", "UNA LÍNEA DEMASIADO LARGA PARA EL PANEL")
    assert "caracteres" in await page.inner_text("#problems")
    assert not await page.is_enabled("#send")
    await page.fill("#text", "Puerto cerrado\npor niebla")
    await screenshot(page, "09-panel-compose")
    await page.click("#send")
    await page.wait_for_selector("#current-sign", timeout=3000)
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/devices/{SENSOR}")
    await page.wait_for_selector("#plot svg path")
    assert int(await page.get_attribute("#plot", "data-points") or 0) >= 6
    await page.select_option("#range", "fit")
    await page.wait_for_function("document.querySelector('#plot text') !== null"
                                 " && document.querySelector('#range').value === 'fit'")
    await page.wait_for_timeout(300)
    await screenshot(page, "10-sensor")
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/devices")
    await screenshot(page, "11-devices")
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/automations/automation.fire_to_alarm")
    assert "Disparador 1" in await page.inner_text("main")
    await screenshot(page, "12-automation-trace")
    wall = await open_screen("sup_local", width=3840, height=2160)
    await wall.page.goto(f"{live_site.base_url}/c/{LOCAL}/")
    await _live(wall)
    await screenshot(wall.page, "13-video-wall")
    laptop = await open_screen("op_local", width=390, height=844)
    await laptop.page.goto(f"{live_site.base_url}/c/{LOCAL}/")
    await screenshot(laptop.page, "14-phone")
    assert screen.csp_violations() == [] and wall.csp_violations() == []
