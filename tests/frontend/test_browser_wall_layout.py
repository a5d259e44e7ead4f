"""The camera wall an operator arranges follows them to any browser (issue 15): in a real Chromium, with the
simulator's RTSP cameras, an operator picks layout 4 and puts a chosen camera in tile 2; a fresh browser context
(no cookies, no localStorage) logged in as the same user shows the same layout with that camera playing in tile 2."""

from __future__ import annotations

from typing import Any

import pytest

from hub.auth.users import async_get_users

from . import test_browser_video
from .browser import screenshot
from .site import LOCAL

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The video module's fixtures (a site with two simulated RTSP cameras, Chromium), run for this module.
cheap_hashes = test_browser_video.cheap_hashes
video_site = test_browser_video.video_site
browser = test_browser_video.browser
open_page = test_browser_video.open_page
LOCAL_CAMERA = test_browser_video.LOCAL_CAMERA  # SMPTE bars
NATIONAL_CAMERA = test_browser_video.NATIONAL_CAMERA


def _saved(response: Any) -> bool:
    return bool(response.url.endswith("/api/wall") and response.request.method == "POST")


async def _tiles(page: Any) -> list[str]:
    return list(await page.eval_on_selector_all("#wall .tile", "ts => ts.map(t => t.dataset.camera)"))


async def test_the_wall_follows_the_operator_to_another_browser(open_page: Any, video_site: Any) -> None:
    site, server = video_site
    # the admin may watch both cameras: by default the viewed centre's first
    page = await open_page("admin", f"/c/{LOCAL}/cameras")
    await page.wait_for_selector("#wall .tile")
    assert await _tiles(page) == [LOCAL_CAMERA, NATIONAL_CAMERA]
    async with page.expect_response(_saved) as saved:
        await page.click(".layout-button[data-layout='9']")
    assert (await saved.value).status == 200
    async with page.expect_response(_saved) as saved:
        await page.click(".layout-button[data-layout='4']")
    assert (await saved.value).status == 200
    # the Local Police's camera into tile 2: the two tiles swap
    async with page.expect_response(_saved) as saved:
        await page.select_option(".tile[data-tile='2'] select.tile-camera", LOCAL_CAMERA)
    assert (await saved.value).status == 200
    assert await _tiles(page) == [NATIONAL_CAMERA, LOCAL_CAMERA]
    record = (await async_get_users(site.hub)).get("admin")
    assert record is not None and (record.wall_layout, record.wall_tiles[:2]) == (4, (NATIONAL_CAMERA, LOCAL_CAMERA))

    # another browser: a fresh context, nothing of the first one's storage
    fresh = await open_page("admin", f"/c/{LOCAL}/cameras")
    await fresh.wait_for_selector("#wall .tile")
    assert await fresh.get_attribute("#wall", "data-layout") == "4"
    assert await fresh.get_attribute(".layout-button[data-layout='4']", "aria-pressed") == "true"
    assert await _tiles(fresh) == [NATIONAL_CAMERA, LOCAL_CAMERA]
    assert await fresh.eval_on_selector(".tile[data-tile='2'] select.tile-camera", "s => s.value") == LOCAL_CAMERA
    assert await fresh.evaluate("() => window.localStorage.length") == 0
    tile2 = f".tile[data-tile='2'][data-camera='{LOCAL_CAMERA}'] video"
    await test_browser_video._plays(fresh, tile2)
    await test_browser_video._shows_the_bars(fresh, server, tile2)  # the chosen camera's picture, in tile 2
    await screenshot(fresh, "video-05-wall-saved")

    # an operator of the same centre keeps their own wall; the National Police's camera is not on it
    operator = await open_page("op_local", f"/c/{LOCAL}/cameras")
    await operator.wait_for_selector("#wall .tile")
    assert await _tiles(operator) == [LOCAL_CAMERA]
    options = await operator.eval_on_selector_all(".tile select.tile-camera option", "os => os.map(o => o.value)")
    assert options == [LOCAL_CAMERA]
