"""The daily tools in a real Chromium, as operators use them: a plate search (refused without a purpose, then
audited, with its images), an incident opened from the screens with its PDF report, and a shift handed over
by one operator and acknowledged by the next."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from hub.auth import passwords
from integrations.alarm.manager import get_manager

from . import test_browser
from .browser import require_chromium, screenshot
from .site import LOCAL, Site, async_start_site
from .test_plates import ANPR, PURPOSE, async_stop_anpr_site, audit_rows, store_reads

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The browser module's fixtures, run on this module's site (they ask for `live_site` by name).
browser = test_browser.browser
cheap_hashes = test_browser.cheap_hashes
open_screen = test_browser.open_screen


@asynccontextmanager
async def running_daily_site(config_dir: Path, **more_sections: Any) -> AsyncIterator[Site]:
    """The site with the daily tools (ANPR, incidents, shift log) and `more_sections`, for a browser."""
    require_chromium()
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    running = await async_start_site(config_dir, extra_sections={"anpr": ANPR, "incident": {}, "shift_log": {},
                                                                 **more_sections})
    try:
        yield running
    finally:
        await async_stop_anpr_site(running)
        passwords.configure_hasher()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    async with running_daily_site(tmp_path_factory.mktemp("daily")) as running:
        yield running


async def test_plate_search_needs_a_purpose_and_shows_images(open_screen: Any, live_site: Site) -> None:
    ids = await store_reads(live_site)
    op = await open_screen("op_local")
    page = op.page
    await page.click("nav a[href$='/plates']")
    await page.fill("#plate", "4321 FGH")
    await page.evaluate("document.getElementById('purpose').removeAttribute('minlength')")
    await page.fill("#purpose", "curious")
    await page.click("#search-submit")
    await page.wait_for_selector("#search-error")
    assert await page.locator("tr.plate-read").count() == 0
    await page.fill("#purpose", PURPOSE)
    await page.click("#search-submit")
    await page.wait_for_selector("#plate-results")
    assert await page.locator("tr.plate-read").count() == 2
    crop = page.locator(f"tr[data-read-id='{ids['hit_real']}'] img.plate-crop")
    await crop.wait_for()
    assert await crop.evaluate("img => img.complete && img.naturalWidth > 0")
    assert await page.locator("#plate-journey li.journey-step").count() == 2
    await screenshot(page, "plates-search")
    rows = await audit_rows(live_site, "plate_search")
    assert [(r.user_id, r.target) for r in rows] == [("op_local", "plate:4321FGH")]
    assert op.csp_violations() == []


async def test_incident_opened_and_reported_from_the_screens(open_screen: Any, live_site: Site) -> None:
    op = await open_screen("op_local")
    page = op.page
    await page.click("nav a[href$='/incidents']")
    await page.fill("#title", "Persecución por Calle Real")
    await page.click("#incident-create-submit")
    await page.wait_for_selector("#incident-timeline")
    await page.fill("#note-text", "Unidad 12 en camino")
    await page.click("#incident-note button[type=submit]")
    await page.locator("li.incident-item[data-kind='note']").wait_for()
    href = await page.get_attribute("#incident-report", "href")
    assert href is not None
    response = await op.context.request.get(f"{live_site.base_url}{href}")  # the page's session cookies
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert (await response.body()).startswith(b"%PDF")
    await screenshot(page, "incident")
    assert op.csp_violations() == []


async def write_log_and_hand_over(page: Any, note: str, handover: str) -> None:
    """From any screen: write a note in the shift log, then hand the shift over with a note."""
    await page.click("nav a[href$='/shift']")
    await page.fill("#shift-note-text", note)
    await page.click("#shift-note-submit")
    await page.locator("li.shift-entry[data-kind='note']").wait_for()
    await page.fill("#handover-note", handover)
    await page.click("#shift-handover-submit")
    await page.wait_for_selector("#handover-pending")


async def test_shift_handed_over_and_acknowledged_by_the_next_operator(open_screen: Any, live_site: Site) -> None:
    manager = get_manager(live_site.hub)
    assert manager is not None
    from hub.core import Context

    manager.async_raise("intrusion", title="Coche en zona peatonal", context=Context(), area_id="calle_real")
    outgoing = await open_screen("op_local")
    page = outgoing.page
    await write_log_and_hand_over(page, "Sin novedad en el puerto", "Atención a la alarma de Calle Real")
    assert await page.locator("#handover-ack-submit").count() == 0  # not the one who handed over

    incoming = await open_screen("op_local2")
    page2 = incoming.page
    await page2.goto(f"{live_site.base_url}/c/{LOCAL}/shift")
    banner = page2.locator("#handover-pending")
    await banner.wait_for()
    assert "Coche en zona peatonal" in await page2.inner_text("#handover-alarms")
    assert "Persecución por Calle Real" in await page2.inner_text("#handover-incidents")
    await screenshot(page2, "shift-handover")
    await page2.click("#handover-ack-submit")
    await page2.locator("li.shift-entry[data-kind='acknowledged']").wait_for()
    assert await page2.locator("#handover-pending").count() == 0
    acks = [r for r in await audit_rows(live_site, "command") if r.target == "shift_log.acknowledge"]
    assert [r.user_id for r in acks] == ["op_local2"]
    assert incoming.csp_violations() == [] and outgoing.csp_violations() == []


async def test_alarm_page_shows_the_plate_evidence_and_a_map(open_screen: Any, live_site: Site) -> None:
    raised: Any = await live_site.hub.services.async_call("alarm", "raise", {
        "type": "intrusion", "title": "Vehículo sustraído en Calle Real", "area_id": "calle_real",
        "latitude": 35.8881, "longitude": -5.3136, "data": {"hit_id": "hit1", "plate": "4321FGH"}},
        return_response=True)
    op = await open_screen("op_local")
    page = op.page
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/alarms/{raised['alarm_id']}")
    for selector in ("#evidence-crop img", "#evidence-frame img"):
        image = page.locator(selector)
        await image.wait_for()
        await page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=await image.element_handle())
    assert "4321FGH" in await page.inner_text("#evidence-read")
    assert await page.locator("#evidence-map svg #evidence-marker").is_visible()
    await screenshot(page, "alarm-evidence")
    assert op.csp_violations() == []
