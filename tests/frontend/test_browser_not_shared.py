"""In Chromium: the alarm queue of a supervisor says how many alarms of the other centre are not shared with it,
and neither the page nor its live updates show anything of them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.core import Context
from integrations.alarm.manager import get_manager

from . import test_browser
from .site import LOCAL, NATIONAL, Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

browser = test_browser.browser
cheap_hashes = test_browser.cheap_hashes
open_screen = test_browser.open_screen
live_site = test_browser.live_site

SECRET = "Operación Nébula"


async def test_queue_says_how_many_alarms_are_not_shared(open_screen: Any, live_site: Site) -> None:
    manager = get_manager(live_site.hub)
    assert manager is not None
    for n in range(2):
        manager.async_raise("intrusion", title=f"{SECRET} {n}", context=Context(), area_id="tarajal")
    manager.async_raise("intrusion", title="Vehículo en Calle Real", context=Context(), area_id="calle_real")
    screen = await open_screen("sup_local")
    page = screen.page
    await page.goto(f"{live_site.base_url}/c/{NATIONAL}/")
    note = page.locator(f"#not-shared li[data-kind='alarms'][data-centre='{NATIONAL}']")
    await note.wait_for()
    assert (await note.inner_text()).strip() == "2 alarmas de Policía Nacional no compartidas"
    # the live queue drew what the supervisor sees (its own centre's alarm, under "shared by other centres")
    await page.get_by_text("Vehículo en Calle Real").wait_for(timeout=10000)
    # raised after the page opened: the live queue shows the Local Police's, never the hidden one
    manager.async_raise("intrusion", title=f"{SECRET} tarde", context=Context(), area_id="tarajal")
    manager.async_raise("intrusion", title="Segunda en Calle Real", context=Context(), area_id="calle_real")
    await page.get_by_text("Segunda en Calle Real").wait_for(timeout=10000)
    # the count follows without a reload (not_shared.js asks again every 15 s)
    await page.locator(f"#not-shared li[data-centre='{NATIONAL}'][data-count='3']").wait_for(timeout=20000)
    assert (await note.inner_text()).strip() == "3 alarmas de Policía Nacional no compartidas"
    assert SECRET not in await page.content()
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/")
    assert (await note.inner_text()).strip() == "3 alarmas de Policía Nacional no compartidas"
    assert SECRET not in await page.content()
    assert screen.csp_violations() == []


async def test_a_sensor_page_says_its_history_is_not_shared(open_screen: Any, live_site: Site) -> None:
    for value in ("3", "4"):
        live_site.hub.states.async_set("sensor.humo_tarajal", value, {"area_id": "tarajal",
                                                                       "friendly_name": "Humo Tarajal"})
        live_site.hub.states.async_set("sensor.no2_centro", value, {"area_id": "centro",
                                                                     "unit_of_measurement": "µg/m³"})
        await asyncio.sleep(0.1)
    from hub.recorder import get_recorder

    await get_recorder(live_site.hub).async_flush()
    screen = await open_screen("sup_local")
    page = screen.page
    await page.goto(f"{live_site.base_url}/c/{NATIONAL}/devices/sensor.humo_tarajal")
    note = page.locator("#history-not-shared")
    await note.wait_for(timeout=10000)
    assert (await note.inner_text()).strip() == "El historial de este dispositivo no se comparte con su centro."
    assert await page.locator("#plot svg").count() == 0
    # its own centre's sensor plots as before
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/devices/sensor.no2_centro")
    await page.locator("#plot[data-points='2'] svg").wait_for(timeout=10000)
    assert await page.locator("#history-not-shared").count() == 0
