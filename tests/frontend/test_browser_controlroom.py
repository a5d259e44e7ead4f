"""The control room in Chromium as its operators use it: two-person confirmations surfaced live to every
eligible operator with who asked, when, and a visible expiry; the main screens in Spanish with no raw values,
photographed at 1920x1080 in the light and dark themes (test-output/screens/; docs/screens/ come from the
running Ceuta site through tools/screens.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Final

import pytest

from hub.core import Context
from integrations.alarm.manager import get_manager
from integrations.bollards import DATA_BOLLARDS

from .browser import SCREENSHOTS
from .site import BOLLARD_LOCAL, LOCAL, Site
from .test_browser import browser, cheap_hashes, live_site, open_screen  # noqa: F401  (the module's fixtures)
from .test_legible import raw_values

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCREENS: Final = SCREENSHOTS.parent / "screens"
ENTRY: Final = f".confirmation[data-entity-id='{BOLLARD_LOCAL}']"
BANNER: Final = f"#pending-confirmations {ENTRY}"


def _bollard(site: Site) -> Any:
    return next(b for b in site.hub.data[DATA_BOLLARDS].bollards if b.entity_id == BOLLARD_LOCAL)


async def _live(screen: Any) -> None:
    await screen.page.wait_for_selector("body[data-live='1']", timeout=5000)


async def _ask_to_raise(screen: Any, site: Site) -> None:
    """The first operator asks for a raise on the bollard's page (the hub makes it wait for a second)."""
    await screen.page.goto(f"{site.base_url}/c/{LOCAL}/devices/{BOLLARD_LOCAL}")
    await screen.page.click("#btn-raise")
    await screen.page.fill("#confirm-reason", "Cierre por evento")
    await screen.page.click("#confirm-yes")
    await screen.page.wait_for_selector("#pending", timeout=3000)  # the page redraws with the wait shown


async def test_two_person_confirmation_is_surfaced_and_expires_visibly(
        open_screen: Any, live_site: Site) -> None:  # noqa: F811
    bollard = _bollard(live_site)
    bollard.require_confirmation = True
    bollard._confirmation_timeout = 6.0  # long enough to read the countdown on a loaded machine
    try:
        asker = await open_screen("op_local")
        second = await open_screen("op_local2")
        other_centre = await open_screen("op_national")
        await second.page.goto(f"{live_site.base_url}/c/{LOCAL}/map")  # any screen shows the banner
        for screen in (second, other_centre):
            await _live(screen)
        await _ask_to_raise(asker, live_site)
        banner = second.page.locator(BANNER)
        await banner.wait_for(timeout=3000)  # live, without reloading
        text = await banner.inner_text()
        assert "subir" in text and "pedida por Op Local" in text and "caduca en" in text
        assert await banner.locator("a", has_text="Revisar y confirmar").count() == 1
        assert "esperando a una segunda persona" in await asker.page.locator(BANNER).inner_text()
        assert await other_centre.page.locator(BANNER).count() == 0  # not theirs to confirm
        queue = await open_screen("op_local2")  # on the alarm queue it is an entry of the queue
        await queue.page.locator(f"#confirmation-queue #confirmation-rows {ENTRY}").wait_for(timeout=3000)
        assert await queue.page.locator(BANNER).count() == 0
        await second.page.wait_for_selector(f"{BANNER}[data-expired='1']", timeout=10000)
        assert "caducada" in await second.page.locator(BANNER).inner_text()
        # a second request, confirmed by the second operator from the banner
        bollard._confirmation_timeout = 60.0
        await asker.page.wait_for_selector("#pending", state="detached", timeout=5000)  # its page redrew
        await asker.page.wait_for_load_state("domcontentloaded")
        await _ask_to_raise(asker, live_site)
        await second.page.locator(f"{BANNER}[data-expired='0'] a").click()
        await second.page.click("#btn-confirm")
        await second.page.click("#confirm-yes")
        for _ in range(50):
            state = live_site.hub.states.get(BOLLARD_LOCAL)
            if state is not None and state.attributes.get("pending_command") is None:
                break
            await second.page.wait_for_timeout(100)
        else:
            pytest.fail("the confirmation did not reach the bollard")
        # the asker's bollard page redraws without the wait, and its banner has gone
        await asker.page.wait_for_selector("#pending", state="detached", timeout=5000)
        await asker.page.wait_for_load_state("domcontentloaded")
        await asker.page.wait_for_selector(f"{BANNER}[data-expired='0']", state="detached", timeout=5000)
        for screen in (asker, second, other_centre):
            assert screen.csp_violations() == []
    finally:
        bollard.require_confirmation = False


def _small_png(path: Path) -> None:
    """Re-encode a screenshot with fewer colour levels and full compression (docs stay small)."""
    import cv2
    import numpy as np

    image = np.asarray(cv2.imread(str(path), cv2.IMREAD_COLOR), dtype=np.uint8)
    levels = np.asarray((image // 16) * 16 + 8, dtype=np.uint8)
    cv2.imwrite(str(path), levels, [cv2.IMWRITE_PNG_COMPRESSION, 9])


async def test_main_screens_in_spanish_both_themes(open_screen: Any, live_site: Site) -> None:  # noqa: F811
    manager = get_manager(live_site.hub)
    assert manager is not None
    suffix = uuid.uuid4().hex[:4]
    manager.async_raise("fire", title=f"Incendio en Monte Hacho {suffix}", area_id="centro", context=Context())
    manager.async_raise("intrusion", title=f"Vehículo en Calle Real {suffix}", area_id="calle_real",
                        entities=[BOLLARD_LOCAL], context=Context())
    await live_site.hub.async_block_till_done()
    alarm_id = next(a.id for a in manager.active() if a.title.startswith("Vehículo en Calle Real"))
    screen = await open_screen("op_local", width=1920, height=1080)
    SCREENS.mkdir(parents=True, exist_ok=True)
    pages = {"queue": f"/c/{LOCAL}/", "alarm": f"/c/{LOCAL}/alarms/{alarm_id}", "map": f"/c/{LOCAL}/map",
             "devices": f"/c/{LOCAL}/devices"}
    for theme in ("dark", "light"):
        await screen.page.emulate_media(color_scheme=theme)
        for name, path in pages.items():
            await screen.page.goto(f"{live_site.base_url}{path}")
            await _live(screen)
            if name == "alarm":
                await screen.page.wait_for_selector("#alarm-details dt")
            text = await screen.page.inner_text("body")
            assert raw_values(text) == [], name  # what the scripts drew, too
            assert "Alarmas" in text
            shot = SCREENS / f"{name}-{theme}.png"
            await screen.page.screenshot(path=str(shot))
            _small_png(shot)
    # the alarm's details: names, with ids in tooltips; times in Spanish
    await screen.page.goto(f"{live_site.base_url}{pages['alarm']}")
    details = screen.page.locator("#alarm-details")
    await details.locator("dt").first.wait_for()
    text = await details.inner_text()
    assert "Calle Real north" in text and "Policía Local de Ceuta" in text and BOLLARD_LOCAL not in text
    assert await details.locator("[title='calle_real']", has_text="Calle Real").count() == 1
    assert await details.locator(f"a[title='{BOLLARD_LOCAL}']").count() == 1
    assert screen.csp_violations() == []
