"""The camera wall pops up an alarm's linked camera for the operators of the alarm's centre (issue 15): in a real
Chromium, with the simulator's RTSP cameras, the raised alarm's camera comes up enlarged with the alarm's title,
and its video plays."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core import Context
from integrations.alarm.manager import get_manager

from . import test_browser_video
from .site import LOCAL, NATIONAL, Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The video module's fixtures (a site with two simulated RTSP cameras, Chromium), run for this module.
cheap_hashes = test_browser_video.cheap_hashes
video_site = test_browser_video.video_site
browser = test_browser_video.browser
open_page = test_browser_video.open_page
LOCAL_CAMERA = test_browser_video.LOCAL_CAMERA
NATIONAL_CAMERA = test_browser_video.NATIONAL_CAMERA


async def test_an_alarm_pops_its_camera_up_on_the_wall(open_page: Any, video_site: Any) -> None:
    site: Site = video_site[0]
    alarms = get_manager(site.hub)
    assert alarms is not None
    page = await open_page("op_local", f"/c/{LOCAL}/cameras")
    await page.wait_for_selector("body[data-live='1']", timeout=10000)
    await page.wait_for_selector("#wall .tile")
    assert await page.is_hidden("#wall-enlarged")
    # the National Police's camera is not shared: counted, not shown
    hidden = page.locator(f"#not-shared li[data-kind='cameras'][data-centre='{NATIONAL}']")
    assert (await hidden.inner_text()).strip() == "1 cámara de Policía Nacional no compartida"
    assert await page.locator(f".tile[data-camera='{NATIONAL_CAMERA}']").count() == 0

    # another centre's alarm on its own camera: nothing pops up here
    alarms.async_raise("intrusion", title="Cruce en el Tarajal", context=Context(), area_id="tarajal",
                       entities=[f"camera.{NATIONAL_CAMERA}"])
    # an alarm without a camera: nothing either
    alarms.async_raise("intrusion", title="Sin cámara", context=Context(), area_id="port")
    await page.wait_for_timeout(1000)
    assert await page.is_hidden("#wall-enlarged")

    alarm = alarms.async_raise("intrusion", title="Vehículo forzando la puerta del puerto", context=Context(),
                               area_id="port", entities=[f"camera.{LOCAL_CAMERA}"])
    await page.wait_for_selector("#wall-enlarged.alarm-pop", state="visible", timeout=10000)
    assert await page.get_attribute("#wall-enlarged", "data-camera") == LOCAL_CAMERA
    banner = page.locator("#wall-alarm")
    assert (await banner.inner_text()).strip() == "Alarma: Vehículo forzando la puerta del puerto"
    assert await banner.locator("a").get_attribute("href") == f"/c/{LOCAL}/alarms/{alarm.id}"
    await test_browser_video._plays(page, "#enlarged-video")  # currentTime advances: the camera plays

    # the National Police's operator is not popped the Local Police's camera
    national = await open_page("op_national", f"/c/{NATIONAL}/cameras")
    await national.wait_for_selector("body[data-live='1']", timeout=10000)
    alarms.async_raise("intrusion", title="Otra en el puerto", context=Context(), area_id="port",
                       entities=[f"camera.{LOCAL_CAMERA}"])
    await national.wait_for_timeout(1000)
    assert await national.is_hidden("#wall-enlarged")
