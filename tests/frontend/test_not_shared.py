"""Supervisor views say what they hide: every scoped screen counts, per owning centre, what is not shared with
the viewer's centre (alarms, cameras, incidents, plate reads, entities), and gives away nothing else of it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.core import Context
from integrations.alarm.manager import get_manager
from integrations.incident import get_incidents

from .conftest import MakeClient, WebClient
from .site import LOCAL, NATIONAL, Site, async_start_site
from .test_plates import ANPR, PURPOSE, async_stop_anpr_site, store_reads

SECRET = "Operación Nébula"  # in every hidden thing's title: it must never reach a Local Police screen


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    """The site with ANPR (a camera per centre) and incidents."""
    running = await async_start_site(config_dir, extra_sections={"anpr": ANPR, "incident": {}})
    yield running
    await async_stop_anpr_site(running)


async def populate(site: Site) -> dict[str, Any]:
    """National Police: 3 alarms and 2 incidents not shared, 1 alarm and 1 incident shared; Local Police: 1 of
    each. Plate reads: one at each centre's camera."""
    alarms = get_manager(site.hub)
    incidents = get_incidents(site.hub)
    assert alarms is not None and incidents is not None
    context = Context()
    hidden = [alarms.async_raise("intrusion", title=f"{SECRET} {n}", context=context, area_id="tarajal")
              for n in range(3)]
    alarms.async_raise("fire", title="Incendio en el Tarajal", context=context, area_id="tarajal")  # shared type
    alarms.async_raise("intrusion", title="Vehículo en Calle Real", context=context, area_id="calle_real")
    for n in range(2):
        await incidents.async_create(f"{SECRET} incidente {n}", context, centre=NATIONAL)
    await incidents.async_create("Incendio compartido", context, centre=NATIONAL, shared=True)
    await incidents.async_create("Robo en el puerto", context, centre=LOCAL)
    await site.hub.async_block_till_done()
    return {"alarms": [alarm.id for alarm in hidden], "reads": await store_reads(site)}


def not_shared(html: str) -> dict[tuple[str, str], int]:
    """(kind, centre) -> count from the page's not-shared list."""
    return {(kind, centre): int(count) for kind, centre, count in re.findall(
        r'<li data-kind="([a-z]+)" data-centre="([a-z_]*)" data-count="(\d+)">', html)}


def leaks(html: str, ids: dict[str, Any]) -> list[str]:
    found = [SECRET] if SECRET in html else []
    return found + [alarm_id for alarm_id in ids["alarms"] if alarm_id in html]


async def _json(client: WebClient, path: str) -> Any:
    async with client.session.get(client.url(path)) as resp:
        assert resp.status == 200, path
        return await resp.json()


async def test_scoped_screens_count_what_is_not_shared_and_show_nothing_of_it(site: Site,
                                                                              make_client: MakeClient) -> None:
    ids = await populate(site)
    supervisor = await make_client("sup_local")
    for centre in (LOCAL, NATIONAL):  # its own screens, and the National Police's opened by a supervisor
        status, html = await supervisor.get(f"/c/{centre}/")
        assert status == 200
        assert not_shared(html) == {("alarms", NATIONAL): 3}
        assert "3 alarmas de Policía Nacional no compartidas" in html  # Spanish first, the centre by name
        assert leaks(html, ids) == []
    status, html = await supervisor.get(f"/c/{NATIONAL}/map")
    assert status == 200 and not_shared(html) == {("alarms", NATIONAL): 3} and leaks(html, ids) == []
    markers = await _json(supervisor, f"/c/{NATIONAL}/api/map")
    assert [(line["kind"], line["centre"], line["count"]) for line in markers["not_shared"]] == [
        ("alarms", NATIONAL, 3)]
    assert leaks(str(markers), ids) == []
    live = await _json(supervisor, f"/c/{NATIONAL}/api/not-shared?kinds=alarms,incidents,bogus")
    assert [(line["kind"], line["centre"], line["count"], line["text"]) for line in live["lines"]] == [
        ("alarms", NATIONAL, 3, "3 alarmas de Policía Nacional no compartidas"),
        ("incidents", NATIONAL, 2, "2 incidentes de Policía Nacional no compartidos")]
    assert leaks(str(live), ids) == []
    status, html = await supervisor.get(f"/c/{LOCAL}/incidents")
    assert status == 200 and not_shared(html) == {("incidents", NATIONAL): 2} and leaks(html, ids) == []
    assert "Incendio compartido" in html  # the shared one is listed, not counted

    operator = await make_client("op_local")
    status, html = await operator.get(f"/c/{LOCAL}/plates?plate=4321FGH&mode=exact&purpose={PURPOSE}")
    assert status == 200
    # the search says it left out the National Police's ANPR camera (Tarajal); the read there is not shown
    assert not_shared(html) == {("reads", NATIONAL): 1}
    assert "1 cámara LPR de Policía Nacional no consultada" in html
    assert f'data-read-id="{ids["reads"]["plain_tarajal"]}"' not in html
    assert "plates/reads/" + str(ids["reads"]["plain_tarajal"]) not in html
    # ... and says the same for a plate never read anywhere: whether the plate was seen at a camera the user may
    # not search is not given away, not even as a count
    status, html = await operator.get(f"/c/{LOCAL}/plates?plate=0000ZZZ&mode=exact&purpose={PURPOSE}")
    assert status == 200 and not_shared(html) == {("reads", NATIONAL): 1}

    # the API says the same, in counts only
    hidden = await _json(operator, "/api/hidden")
    assert hidden["alarms"] == {NATIONAL: 3} and hidden["incidents"] == {NATIONAL: 2}
    assert set(hidden["entities"]) == {NATIONAL} and hidden["entities"][NATIONAL] >= 2  # B-21, P-TARAJAL, ...
    assert leaks(str(hidden), ids) == [] and "b_21" not in str(hidden)

    # an administrator sees everything: nothing to say
    admin = await make_client("admin")
    _, html = await admin.get(f"/c/{NATIONAL}/")
    assert not_shared(html) == {} and 'id="not-shared"' not in html
    assert await _json(admin, "/api/hidden") == {}

    # the National Police's own operator sees its alarms, and is told of the Local Police's one it does not
    national = await make_client("op_national")
    _, html = await national.get(f"/c/{NATIONAL}/")
    assert not_shared(html) == {("alarms", LOCAL): 1}
    assert "1 alarma de Policía Local de Ceuta no compartida" in html


async def test_counts_follow_what_is_raised_and_shared(site: Site, make_client: MakeClient) -> None:
    await populate(site)
    alarms = get_manager(site.hub)
    assert alarms is not None
    alarms.async_raise("intrusion", title="Compartida", context=Context(), area_id="tarajal", shared=True)
    alarms.async_raise("intrusion", title=f"{SECRET} 4", context=Context(), area_id="monte_hacho")
    await site.hub.async_block_till_done()
    operator = await make_client("op_local")
    _, html = await operator.get(f"/c/{LOCAL}/")
    assert not_shared(html) == {("alarms", NATIONAL): 4}  # the shared one is in the queue, not in the count
    assert "Compartida" in html and SECRET not in html
