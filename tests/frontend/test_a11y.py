"""Accessibility in a real Chromium: axe-core (npm, node_modules/axe-core, never served to users) run on every
screen of a Ceuta-like site in the dark and the light theme, with no serious or critical violation; the alarm
queue and the alarm page worked with the keyboard alone, focus visible on every step."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest
import pytest_asyncio

from hub.core import Context
from integrations.alarm.manager import get_manager
from integrations.thermal_fire.imaging import thumbnail
from tests.conftest import REQUIRE_SERVICES

from . import test_browser, test_browser_daily
from .site import BOLLARD_LOCAL, LOCAL, PANEL_LOCAL, SENSOR, TWO_CAMERAS, Site
from .test_plates import PURPOSE, store_reads

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The browser module's fixtures, on the daily tools' site (ANPR, incidents, shift log) with two cameras (for the
# camera wall and the synchronised playback), started for this module.
browser = test_browser.browser
cheap_hashes = test_browser.cheap_hashes
open_screen = test_browser.open_screen


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    async with test_browser_daily.running_daily_site(tmp_path_factory.mktemp("a11y"), camera=TWO_CAMERAS) as site:
        yield site

AXE: Final = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
THEMES: Final = ("dark", "light")
BLOCKING: Final = frozenset({"serious", "critical"})
CAMERA: Final = "camera.anpr_puerto"
FIRE: Final = "geo_location.fire_garcia_aldave"
# axe's own rule sets: WCAG 2.0/2.1/2.2 A and AA and its best practices.
AXE_OPTIONS: Final = {"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}


def axe_source() -> str:
    """axe-core's browser build, installed by npm (scripts/setup-test-deps.sh runs `npm ci`)."""
    if not AXE.is_file():
        problem = f"axe-core is not installed ({AXE}; `npm ci` installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{problem} (HACHO_REQUIRE_SERVICES=1)")
        pytest.skip(problem)
    return AXE.read_text(encoding="utf-8")


async def _raise(site: Site, **data: Any) -> str:
    raised: Any = await site.hub.services.async_call("alarm", "raise", data, return_response=True)
    return str(raised["alarm_id"])


async def _fill_site(site: Site) -> dict[str, str]:
    """Alarms with evidence, a camera, a fire, an automation run: each screen has something to show."""
    await store_reads(site)
    await site.hub.services.async_call("anpr", "hotlist_add", {
        "list": "stolen", "plate": "4321FGH", "reason": "Sustraído en Algeciras", "source": "DGP"})
    anpr = await _raise(site, type="intrusion", title="Vehículo sustraído en Calle Real", area_id="calle_real",
                        latitude=35.8881, longitude=-5.3136, entities=[BOLLARD_LOCAL],
                        data={"hit_id": "hit1", "plate": "4321FGH"})
    frame = np.full((120, 160), 290.0)
    frame[60:64, 80:84] = 700.0
    fire = await _raise(site, type="fire", title="Humo en el Monte Hacho", area_id="centro",
                        latitude=35.8966, longitude=-5.2930,
                        data={"snapshot": thumbnail(frame, (81.5, 61.5)), "temperature_c": 426.9,
                              "bearings": [{"tower": "hacho_north", "bearing_deg": 131.5}]})
    states = site.hub.states
    states.async_set(CAMERA, "streaming", {"friendly_name": "ANPR Puerto", "area": "port", "recording": True,
                                           "latitude": 35.892, "longitude": -5.315})
    states.async_set(FIRE, "detected", {"friendly_name": "Fuego cerca de García Aldave", "latitude": 35.9001,
                                        "longitude": -5.3402, "status": "detected", "bearings": [112.5]})
    states.async_set(SENSOR, "41", {"unit_of_measurement": "µg/m³", "area_id": "centro",
                                    "friendly_name": "NO2 Centro"})
    site.hub.bus.async_fire("test_night", {})  # an automation run, for its trace page
    await site.hub.async_block_till_done()
    return {"anpr": anpr, "fire": fire}


async def _settle(page: Any) -> None:
    """Wait for what the page's scripts draw: the websocket's first answer where the page has one."""
    await page.wait_for_load_state("load")
    if await page.locator("body[data-centre]").count():
        await page.wait_for_selector("body[data-live='1']", timeout=5000)
    await page.wait_for_timeout(150)


async def _axe(page: Any, source: str) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (injected through the DevTools protocol, outside the CSP)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(source)
    result: list[dict[str, Any]] = await page.evaluate(
        "async (options) => (await window.axe.run(document, options)).violations.map((v) => ({"
        "id: v.id, impact: v.impact, help: v.help,"
        "nodes: v.nodes.map((n) => ({target: n.target.join(' '), impact: n.impact, summary: n.failureSummary}))}))",
        AXE_OPTIONS)
    return result


def blocking(violations: list[dict[str, Any]], where: str) -> list[str]:
    """One line per serious or critical node: rule id, target, page and theme, and axe's reason."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            if (node["impact"] or violation["impact"]) in BLOCKING:
                summary = " ".join((node["summary"] or "").split())[:160]
                lines.append(f"{violation['id']} [{node['impact'] or violation['impact']}] {node['target']} "
                             f"on {where}: {summary}")
    return lines


async def test_blocking_lists_serious_and_critical_nodes() -> None:  # async: the module runs on one loop
    """The filter keeps what it should (so its empty answer means something)."""
    found = [{"id": "color-contrast", "impact": "serious", "nodes": [
        {"target": "#a", "impact": "serious", "summary": "Fix: contrast 2.1"},
        {"target": "#b", "impact": "minor", "summary": ""}]},
        {"id": "region", "impact": "moderate", "nodes": [{"target": "#c", "impact": "moderate", "summary": ""}]},
        {"id": "button-name", "impact": "critical", "nodes": [{"target": "#d", "impact": None, "summary": ""}]}]
    assert blocking(found, "queue (dark)") == [
        "color-contrast [serious] #a on queue (dark): Fix: contrast 2.1",
        "button-name [critical] #d on queue (dark): "]


async def _acknowledged(page: Any) -> None:
    """The alarm acknowledged from its page: its procedure's steps and the toast are drawn."""
    if await page.locator("#btn-acknowledge").count():
        await page.click("#btn-acknowledge")
    await page.wait_for_selector("body[data-alarm-state='acknowledged'] #sop button[data-step]")


async def _asking_to_raise(page: Any) -> None:
    """The bollard's confirmation dialog, open."""
    await page.click("#btn-raise")
    await page.wait_for_selector("dialog#confirm[open]")


async def _two_players_with_events(page: Any) -> None:
    """Synchronised playback of the two cameras, once its purpose is stated (the form is labelled and reached by
    keyboard: filled here as an operator would): a player each, the timeline's events listed as buttons."""
    await page.wait_for_selector("#pb-purpose-text")
    await page.focus("#pb-purpose-text")
    await page.keyboard.type("Revisión de las cámaras de Calle Real")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#pb-events button.pb-event", timeout=10000)
    assert await page.locator("#sync-grid video").count() == 2
    assert await page.locator("#pb-timeline .marker").count() == await page.locator("#pb-events button").count()


PREPARE: Final = {"fire alarm, acknowledged": _acknowledged, "bollard, confirming": _asking_to_raise,
                  "playback": _two_players_with_events}


async def _screens(site: Site, screen: Any, alarms: dict[str, str]) -> dict[str, str]:
    """Every screen of the frontend: name -> path (an incident opened through its form first)."""
    base = f"/c/{LOCAL}"
    page = screen.page
    await page.goto(f"{site.base_url}{base}/incidents")
    await page.fill("#title", "Persecución por Calle Real")
    await page.click("#incident-create-submit")
    await page.wait_for_selector("#incident-timeline")
    incident = re.sub(r"^https?://[^/]+", "", page.url)
    return {
        "queue": f"{base}/",
        "alarm with plate evidence": f"{base}/alarms/{alarms['anpr']}",
        "alarm with thermal evidence": f"{base}/alarms/{alarms['fire']}",
        "fire alarm, acknowledged": f"{base}/alarms/{alarms['fire']}",
        "map": f"{base}/map",
        "devices": f"{base}/devices",
        "bollard": f"{base}/devices/{BOLLARD_LOCAL}",
        "bollard, confirming": f"{base}/devices/{BOLLARD_LOCAL}",
        "panel": f"{base}/devices/{PANEL_LOCAL}",
        "sensor": f"{base}/devices/{SENSOR}",
        "camera": f"{base}/devices/{CAMERA}",
        "fire": f"{base}/devices/{FIRE}",
        "cameras wall": f"{base}/cameras",
        "playback": f"{base}/playback?cameras={','.join(c['id'] for c in TWO_CAMERAS['cameras'])}",
        "plates search": f"{base}/plates",
        "plates results": f"{base}/plates?plate=4321FGH&mode=exact&purpose={PURPOSE.replace(' ', '+')}",
        "incidents": f"{base}/incidents",
        "incident": incident,
        "shift log": f"{base}/shift",
        "audit": f"{base}/audit",
        "automations": f"{base}/automations",
        "automation": f"{base}/automations/automation.night_lights",
        "not found": f"{base}/alarms/no_such_alarm",
    }


async def test_every_screen_has_no_serious_or_critical_axe_violation(open_screen: Any, live_site: Site) -> None:
    source = axe_source()
    alarms = await _fill_site(live_site)
    supervisor = await open_screen("sup_local")
    screens = await _screens(live_site, supervisor, alarms)
    anonymous = await open_screen(None)
    operator = await open_screen("op_local")
    problems: list[str] = []
    checked = 0
    for theme in THEMES:
        for screen in (supervisor, anonymous, operator):
            await screen.page.emulate_media(color_scheme=theme)
        visits = [(supervisor, name, path) for name, path in screens.items()]
        visits += [(anonymous, "login", "/login"), (operator, "forbidden", f"/c/{LOCAL}/audit")]
        for screen, name, path in visits:
            response = await screen.page.goto(f"{live_site.base_url}{path}")
            assert response is not None
            expected = {"not found": 404, "forbidden": 403}.get(name, 200)
            assert response.status == expected, (name, path, response.status)
            if name in ("not found", "forbidden"):
                assert await screen.page.locator("body[data-page='error']").count() == 1, name
            await _settle(screen.page)
            if name in PREPARE:
                await PREPARE[name](screen.page)
            problems += blocking(await _axe(screen.page, source), f"{name} ({theme})")
            checked += 1
    assert checked == 2 * (len(screens) + 2)
    assert problems == [], f"{len(problems)} serious or critical axe violations:\n" + "\n".join(problems)


async def _focus_ring(page: Any) -> dict[str, Any]:
    """The focused element and how it is drawn while :focus-visible."""
    found: dict[str, Any] = await page.evaluate("""() => {
        const node = document.activeElement;
        const style = getComputedStyle(node);
        return {id: node.id, tag: node.tagName, text: (node.textContent || '').trim().slice(0, 60),
                alarm: node.dataset ? node.dataset.alarmId || null : null,
                visible: node.matches(':focus-visible'),
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                shadow: style.boxShadow !== 'none'};
    }""")
    return found


def ring_shown(focus: dict[str, Any]) -> bool:
    return bool(focus["visible"] and (focus["outline"] or focus["shadow"]))


async def test_an_alarm_taken_and_acknowledged_with_the_keyboard_alone(open_screen: Any, live_site: Site) -> None:
    manager = get_manager(live_site.hub)
    assert manager is not None
    suffix = str(time.time_ns())[-5:]
    manager.async_raise("sensor_fault", title=f"Sensor sin datos {suffix}", area_id="centro", context=Context())
    manager.async_raise("intrusion", title=f"Coche en Calle Real {suffix}", area_id="calle_real", context=Context())
    await live_site.hub.async_block_till_done()
    screen = await open_screen("op_local")
    page = screen.page
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/")
    await _settle(page)
    rows = page.locator("#queue-body tr[data-alarm-id]")
    first_id = await rows.first.get_attribute("data-alarm-id")
    target = next(a for a in manager.active() if a.title == f"Coche en Calle Real {suffix}")
    # From the top of the page, Tab reaches the queue: its first row takes the focus, with a ring.
    for _ in range(40):
        await page.keyboard.press("Tab")
        focus = await _focus_ring(page)
        if focus["alarm"]:
            break
    else:
        pytest.fail("Tab never reached the alarm queue")
    assert focus["alarm"] == first_id and ring_shown(focus), focus
    # j / k and the arrow keys move along the queue, the focus ring moving with them.
    ids = [await rows.nth(i).get_attribute("data-alarm-id") for i in range(await rows.count())]
    assert len(ids) >= 2
    await page.keyboard.press("j")
    assert (await _focus_ring(page))["alarm"] == ids[1]
    await page.keyboard.press("k")
    assert (await _focus_ring(page))["alarm"] == ids[0]
    await page.keyboard.press("ArrowDown")
    assert (await _focus_ring(page))["alarm"] == ids[1]
    await page.keyboard.press("ArrowUp")
    for _ in ids:
        if (focus := await _focus_ring(page))["alarm"] == target.id:
            break
        await page.keyboard.press("ArrowDown")
    assert focus["alarm"] == target.id, (focus, ids)
    assert ring_shown(focus), focus
    await test_browser.screenshot(page, "a11y-queue-focus")
    # Enter opens it. On the alarm page the first Tab stop skips the screens' menu; from there Tab goes back
    # to the queue, then to the note and the acknowledge button, each with its focus ring.
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.endswith(f"/alarms/{target.id}")
    await _settle(page)
    await page.wait_for_selector("#btn-acknowledge")
    await page.keyboard.press("Tab")
    focus = await _focus_ring(page)
    assert focus["id"] == "skip-link" and ring_shown(focus), focus
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    order = []
    for _ in range(3):
        await page.keyboard.press("Tab")
        focus = await _focus_ring(page)
        assert ring_shown(focus), focus
        order.append(focus["id"] or f"{focus['tag']}:{focus['text']}")
    assert order == ["A:← Alarmas", "action-note", "btn-acknowledge"], order
    await page.keyboard.press("Enter")
    await page.wait_for_selector("body[data-alarm-state='acknowledged']", timeout=5000)
    alarm = manager.get(target.id)
    assert alarm is not None and alarm.state == "acknowledged"
    # After the redraw the focus is still on an action, still visible: no trip back to the top of the page.
    focus = await _focus_ring(page)
    assert focus["tag"] in ("BUTTON", "TEXTAREA") and ring_shown(focus), focus
    await test_browser.screenshot(page, "a11y-alarm-focus")
    assert screen.csp_violations() == []


async def test_the_queue_acknowledges_with_a_shortcut(open_screen: Any, live_site: Site) -> None:
    manager = get_manager(live_site.hub)
    assert manager is not None
    title = f"Sensor averiado {time.time_ns()}"
    raised = manager.async_raise("sensor_fault", title=title, area_id="centro", context=Context())
    await live_site.hub.async_block_till_done()
    screen = await open_screen("op_local")
    page = screen.page
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/")
    await _settle(page)
    row = page.locator(f"#queue-body tr[data-alarm-id='{raised.id}']")
    await row.focus()
    await page.keyboard.press("a")  # acknowledge the focused alarm, from the queue
    for _ in range(50):
        alarm = manager.get(raised.id)
        if alarm is not None and alarm.state == "acknowledged":
            break
        await page.wait_for_timeout(100)
    else:
        pytest.fail("the shortcut did not acknowledge the alarm")
    await page.wait_for_selector(f"#queue-body tr[data-alarm-id='{raised.id}'][data-state='acknowledged']")
    focus = await _focus_ring(page)
    assert focus["alarm"] == raised.id, focus  # the focus stays on the alarm across the redraw
    assert screen.csp_violations() == []


async def test_axe_core_is_never_served(live_site: Site) -> None:
    """axe-core is a test tool: it stays in node_modules, out of the static files the hub serves."""
    import aiohttp

    from frontend.app import STATIC_DIR, STATIC_URL

    assert [p for p in STATIC_DIR.rglob("*") if "axe" in p.name.lower()] == []
    async with aiohttp.ClientSession() as session:
        for path in ("vendor/axe-core/axe.min.js", "vendor/axe.min.js", "../../node_modules/axe-core/axe.min.js"):
            async with session.get(f"{live_site.base_url}{STATIC_URL}/{path}") as resp:
                assert resp.status in (401, 404), path  # not found, or outside the static files
