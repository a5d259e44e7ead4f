"""A peer centre's hub shares an alarm through federation: it shows in the queue, and an operator asks the owner to
acknowledge it from the browser (a real Chromium, a private Mosquitto, two hubs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.config.core import ControlCentre, CoreConfig
from hub.core import Context, Hub
from hub.recorder import async_setup_recorder
from integrations import alarm, federation
from tests.mosquitto import Broker, mosquitto_binary

from .browser import CHROMIUM_ARGS, login, require_chromium, screenshot
from .site import Site, async_start_site, async_stop_site

PEER = "guardia_civil"
PEER_NAME = "Guardia Civil"
SITE = "ceuta"  # the frontend test site's own id


def _federation(port: int, peer: str, name: str) -> dict[str, Any]:
    return federation.CONFIG_SCHEMA({"broker": "127.0.0.1", "port": port, "peers": [{"site": peer, "name": name}],
                                     "heartbeat_interval": 0.5, "peer_timeout": 3, "resend_after": 1})


@dataclass
class Pair:
    site: Site
    peer: Hub

    @property
    def peer_alarms(self) -> alarm.AlarmManager:
        manager = alarm.get_manager(self.peer)
        assert manager is not None
        return manager


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    require_chromium()
    broker = Broker(tmp_path, mosquitto_binary(), persistence=True)
    await broker.start()
    (tmp_path / "site").mkdir()
    site = await async_start_site(tmp_path / "site", extra_sections={
        "federation": _federation(broker.port, PEER, PEER_NAME)})
    peer_dir = tmp_path / PEER
    peer_dir.mkdir()
    peer = Hub(peer_dir)
    peer.config = CoreConfig(site=PEER, control_centres=(ControlCentre(PEER, PEER_NAME, (), True),))
    await async_setup_recorder(peer, {"db_url": f"sqlite:///{peer_dir / 'hacho.db'}", "commit_interval": 0.1})
    assert await alarm.async_setup(peer, alarm.CONFIG_SCHEMA(
        {"types": [{"id": "smuggling", "name": "Boat landing", "severity": "major", "shared": True}]}))
    assert await federation.async_setup(peer, _federation(broker.port, SITE, "Ceuta"))
    await peer.async_start()
    try:
        yield Pair(site, peer)
    finally:
        await peer.async_stop()
        await async_stop_site(site)
        await broker.kill()


async def _wait(predicate: Any, what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_peer_alarm_in_the_queue_and_asking_its_owner(pair: Pair) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            await login(page, pair.site.base_url, "op_national")
            await page.wait_for_selector("body[data-live='1']", timeout=5000)
            assert await page.locator("#peers").is_hidden()  # nothing shared yet

            raised = pair.peer_alarms.async_raise("smuggling", title="Boat landing at Benzú", context=Context())
            row = page.locator(f"#peers-body tr[data-alarm-id='{raised.id}']")
            await row.wait_for(timeout=15000)
            assert await row.locator("td").nth(1).inner_text() == "Boat landing at Benzú"
            assert await row.locator("td").nth(2).inner_text() == PEER_NAME
            assert await row.get_attribute("data-state") == "raised"
            # it is not this site's alarm: no page of ours, only the request to the owner
            assert await row.locator("a").count() == 0

            await row.locator("button.ask-ack").click()
            await _wait(lambda: (a := pair.peer_alarms.get(raised.id)) is not None and a.state.value == "acknowledged",
                        "the owner to apply the acknowledgement")
            owned = pair.peer_alarms.get(raised.id)
            assert owned is not None and owned.assignee == f"{SITE}:op_national"
            await page.locator(f"#peers-body tr[data-alarm-id='{raised.id}'][data-state='acknowledged']").wait_for(
                timeout=15000)
            await screenshot(page, "queue-peer-alarm")
            assert await page.locator(f"#peers-body tr[data-alarm-id='{raised.id}'] button").count() == 0

            # the owner closes it: it leaves the queue
            for service in ("resolve", "close"):
                await pair.peer.services.async_call("alarm", service, {"alarm_id": raised.id})
            await page.locator(f"#peers-body tr[data-alarm-id='{raised.id}']").wait_for(state="detached",
                                                                                        timeout=15000)
            assert await page.locator("#peers").is_hidden()
            assert errors == []
        finally:
            await browser.close()
