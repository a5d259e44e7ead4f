"""A peer centre's hub shares an incident: the screens list it under the peers' incidents and show it read only
with its timeline; unsharing takes it away (two hubs, a private Mosquitto)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.config.core import ControlCentre, CoreConfig
from hub.core import Context, Hub
from hub.recorder import async_setup_recorder
from integrations import federation, incident
from tests.mosquitto import Broker, mosquitto_binary

from .conftest import MakeClient
from .site import LOCAL, Site, async_start_site, async_stop_site
from .test_browser_federation import PEER, PEER_NAME, SITE, _federation


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """The test site with incidents and federation, and the Guardia Civil's hub as its peer (in `extra`)."""
    broker = Broker(tmp_path, mosquitto_binary(), persistence=True)
    await broker.start()
    (tmp_path / "site").mkdir()
    running = await async_start_site(tmp_path / "site", extra_sections={
        "incident": {}, "federation": _federation(broker.port, PEER, PEER_NAME)})
    peer_dir = tmp_path / PEER
    peer_dir.mkdir()
    peer = Hub(peer_dir)
    peer.config = CoreConfig(site=PEER, control_centres=(ControlCentre(PEER, PEER_NAME, (), True),))
    await async_setup_recorder(peer, {"db_url": f"sqlite:///{peer_dir / 'hacho.db'}", "commit_interval": 0.1})
    assert await incident.async_setup(peer, {})
    assert await federation.async_setup(peer, _federation(broker.port, SITE, "Ceuta"))
    await peer.async_start()
    running.extra["peer"] = peer
    try:
        yield running
    finally:
        await peer.async_stop()
        await async_stop_site(running)
        await broker.kill()


async def _until(predicate: Any, what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_peer_incident_listed_and_shown_read_only_until_unshared(site: Site, make_client: MakeClient) -> None:
    peer: Hub = site.extra["peer"]
    manager = incident.get_incidents(peer)
    assert manager is not None
    context = Context(user_id="guardia_1")
    shared = await manager.async_create("Narcolancha en la playa de Benzú", context, shared=True)
    await manager.async_add_item(shared["incident_id"], "note", context, text="Patrullera en camino")
    await manager.async_create("Investigación interna", context)  # not shared
    incident_id = shared["incident_id"]
    op = await make_client("op_local")

    async def listed() -> bool:
        _, html = await op.get(f"/c/{LOCAL}/incidents")
        return f'class="peer-incident-row" data-incident-id="{incident_id}"' in html

    await _until(listed, "the peer's incident in the list")
    _, html = await op.get(f"/c/{LOCAL}/incidents")
    assert "Narcolancha en la playa de Benzú" in html and PEER_NAME in html
    assert "Investigación interna" not in html

    async def noted() -> bool:
        _, page = await op.get(f"/c/{LOCAL}/incidents/{incident_id}")
        return "Patrullera en camino" in page

    await _until(noted, "the note in the peer incident's timeline")
    status, page = await op.get(f"/c/{LOCAL}/incidents/{incident_id}")
    assert status == 200 and 'id="incident-remote"' in page
    assert 'id="incident-actions"' not in page and "report.pdf" not in page  # read only
    async with op.session.post(op.url(f"/c/{LOCAL}/incidents/{incident_id}"),
                               data={"csrf_token": op.csrf, "action": "note", "text": "x"}) as resp:
        assert resp.status == 404  # no local incident to write to

    await manager.async_add_item(incident_id, "update", context, text="shared: False", changes={"shared": False})

    async def gone() -> bool:
        status, _ = await op.get(f"/c/{LOCAL}/incidents/{incident_id}")
        return status == 404

    await _until(gone, "the withdrawal")
    _, html = await op.get(f"/c/{LOCAL}/incidents")
    assert "Narcolancha" not in html
