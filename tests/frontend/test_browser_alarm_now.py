"""The alarm page says what the alarm wants now: its SLA counting down (acknowledge, then resolve) and the SOP's
next step with a one-click button that does it; overdue deadlines say so (a real Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core import Context
from integrations.alarm.manager import get_manager

from . import test_browser
from .site import LOCAL, Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

browser = test_browser.browser
cheap_hashes = test_browser.cheap_hashes
open_screen = test_browser.open_screen
live_site = test_browser.live_site


async def _left(page: Any) -> int:
    return int(await page.get_attribute("#alarm-sla", "data-left") or "0")


async def test_sla_counts_down_and_the_next_step_is_one_click(open_screen: Any, live_site: Site) -> None:
    manager = get_manager(live_site.hub)
    assert manager is not None
    alarm = manager.async_raise("fire", title="Humo en el puerto", context=Context(), area_id="port")
    kind = manager.types["fire"]
    screen = await open_screen("op_local")
    page = screen.page
    await page.goto(f"{live_site.base_url}/c/{LOCAL}/alarms/{alarm.id}")
    sla = page.locator("#alarm-sla")
    await sla.wait_for()
    assert await sla.get_attribute("data-kind") == "ack"
    first = await _left(page)
    assert kind.sla_ack - 10 <= first <= kind.sla_ack
    assert (await sla.inner_text()).startswith("Reconocer en ")
    await page.wait_for_timeout(2100)
    assert await _left(page) <= first - 2  # it counts down
    next_step = page.locator("#alarm-next-step")
    assert "Confirm on the thermal camera" in await next_step.inner_text()
    assert await page.locator("#next-step-run").count() == 0  # not acknowledged yet: no step to run

    await page.click("#btn-acknowledge")
    await page.wait_for_selector("#alarm-sla[data-kind='resolve']")
    assert (await sla.inner_text()).startswith("Resolver en ")
    assert kind.sla_resolve - 20 <= await _left(page) <= kind.sla_resolve
    await page.click("#next-step-run")  # one click: the checklist step is done
    await page.wait_for_selector("#alarm-next-step[data-step='warn']")
    assert "Warn drivers on the port panel" in await next_step.inner_text()
    assert await page.inner_text("#next-step-run") == "Ejecutar"
    done = await manager.async_get(alarm.id)
    assert done is not None and (done.steps[0].step.id, done.steps[0].status) == ("confirm", "done")
    assert screen.csp_violations() == []


async def test_an_overdue_alarm_says_by_how_much(open_screen: Any, live_site: Site) -> None:
    manager = get_manager(live_site.hub)
    assert manager is not None
    alarm = manager.async_raise("intrusion", title="Puerta forzada", context=Context(), area_id="calle_real")
    alarm.raised_ts -= manager.types["intrusion"].sla_ack + 65  # raised long ago: the acknowledgement is late
    screen = await open_screen("op_local")
    await screen.page.goto(f"{live_site.base_url}/c/{LOCAL}/alarms/{alarm.id}")
    sla = screen.page.locator("#alarm-sla.overdue")
    await sla.wait_for()
    assert (await sla.inner_text()).startswith("Reconocimiento vencido hace 01:0")
