"""Shift log and hand-over on the simulated site: the summary carries open alarms, a pending two-person
confirmation and open incidents; only another operator of the same centre acknowledges it, once; audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.core import Context

from .conftest import MakeClient, WebClient
from .site import BOLLARD_LOCAL, LOCAL, NATIONAL, Site, async_start_site, async_stop_site
from .test_plates import audit_rows


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    """The site with incidents, the shift log, and bollard B-07 under the two-person rule."""
    running = await async_start_site(config_dir, extra_sections={"incident": {}, "shift_log": {}},
                                     bollard_b07={"require_confirmation": True})
    yield running
    await async_stop_site(running)


async def _post(client: WebClient, path: str, data: dict[str, str]) -> tuple[int, str]:
    assert client.csrf is not None
    async with client.session.post(client.url(path), data={"csrf_token": client.csrf, **data}) as resp:
        return resp.status, await resp.text()


async def test_hand_over_summary_and_acknowledgement(site: Site, make_client: MakeClient) -> None:
    hub = site.hub
    raised: Any = await hub.services.async_call("alarm", "raise", {
        "type": "intrusion", "title": "Vehículo en Calle Real", "area_id": "calle_real"}, return_response=True)
    await hub.services.async_call("incident", "create", {"title": "Manifestación en el Centro"},
                                  context=Context(user_id="op_local", centre=LOCAL), return_response=True)
    await hub.services.async_call("bollard", "lower", {"entity_id": BOLLARD_LOCAL, "reason": "ambulancia"},
                                  context=Context(user_id="op_local", centre=LOCAL))
    pending = hub.states.get(BOLLARD_LOCAL)
    assert pending is not None and pending.attributes["pending_command"] is not None

    outgoing = await make_client("op_local")
    assert (await _post(outgoing, f"/c/{LOCAL}/shift", {"action": "note", "text": "Sin novedad"}))[0] == 200
    status, html = await _post(outgoing, f"/c/{LOCAL}/shift", {"action": "hand_over", "note": "Ojo al B-07"})
    assert status == 200 and 'id="handover-pending"' in html
    assert 'id="handover-ack-submit"' not in html  # the outgoing operator cannot take their own hand-over
    entry_id = re.search(r'name="entry_id" value="(\d+)"', html)
    assert entry_id is None
    incoming = await make_client("op_local2")
    status, html = await incoming.get(f"/c/{LOCAL}/shift")
    assert status == 200
    summary = html[html.index('id="handover-pending"'):html.index('id="shift-entries"')]
    assert raised["alarm_id"] in summary and "Manifestación en el Centro" in summary
    assert f'title="{BOLLARD_LOCAL}"' in summary and "op_local" in summary  # who asked for the bollard
    match = re.search(r'name="entry_id" value="(\d+)"', html)
    assert match is not None
    entry = match.group(1)

    status, html = await _post(outgoing, f"/c/{LOCAL}/shift", {"action": "acknowledge", "entry_id": entry})
    assert status == 400 and "incoming operator" in html
    national = await make_client("op_national")
    status, _ = await _post(national, f"/c/{NATIONAL}/shift", {"action": "acknowledge", "entry_id": entry})
    assert status == 403  # another centre's hand-over
    status, html = await _post(incoming, f"/c/{LOCAL}/shift", {"action": "acknowledge", "entry_id": entry})
    assert status == 200 and 'id="handover-pending"' not in html and 'data-kind="acknowledged"' in html
    status, html = await _post(incoming, f"/c/{LOCAL}/shift", {"action": "acknowledge", "entry_id": entry})
    assert status == 400 and "already acknowledged" in html
    acks = [(r.user_id, r.outcome) for r in await audit_rows(site, "command") if r.target == "shift_log.acknowledge"]
    assert ("op_local2", "ok") in acks
    denied = [r.user_id for r in await audit_rows(site, "command_denied") if r.target == "shift_log.acknowledge"]
    assert denied == ["op_national"]
    # The national centre's log is its own: nothing of Local Police's shift shows there.
    status, html = await national.get(f"/c/{NATIONAL}/shift")
    assert status == 200 and "Sin novedad" not in html and 'class="shift-entry"' not in html
