"""Names, not ids, and no raw values: every screen of the Ceuta-like site, rendered for an operator and a
supervisor, shows no Python repr and no raw ISO timestamp; every device kind has a page (no 404 for
cameras or fires); the device list searches, filters, sorts and pages without scripts."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from hub.core import Context
from integrations.alarm.manager import get_manager

from .conftest import MakeClient, WebClient
from .site import (
    BOLLARD_LOCAL,
    LOCAL,
    NATIONAL,
    PANEL_LOCAL,
    SENSOR,
    TWO_CAMERAS,
    USERS,
    Site,
    async_start_site,
)
from .test_plates import ANPR, PURPOSE, async_stop_anpr_site, store_reads

_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
RAW_VALUES = {
    "None": re.compile(r"\bNone\b"),
    "True": re.compile(r"\bTrue\b"),
    "False": re.compile(r"\bFalse\b"),
    "list repr": re.compile(r"\[\s*['\"\d]"),
    "dict repr": re.compile(r"\{\s*'"),
    "ISO timestamp": re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d"),
}
CAMERA = "camera.anpr_puerto"
FIRE = "geo_location.fire_garcia_aldave"
ODD = "sensor.odd_values"
# The daily tools (ANPR and its plate search, incidents, the shift log) and two cameras of the Local Police.
DAILY: dict[str, Any] = {"anpr": ANPR, "incident": {}, "shift_log": {}, "camera": TWO_CAMERAS}


@pytest.fixture
async def site(config_dir: Path, request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    """The simulated site; a test parametrized with `site` (indirect) gets those extra configuration sections."""
    from .site import async_stop_site

    extra: dict[str, Any] = getattr(request, "param", {})
    running = await async_start_site(config_dir, extra_sections=extra)
    yield running
    if "anpr" in extra:
        await async_stop_anpr_site(running)
    else:
        await async_stop_site(running)


def visible_text(page: str) -> str:
    """What a reader sees of a page: no scripts, styles or tags."""
    return html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", page)))


def raw_values(text: str) -> list[str]:
    """Python reprs and raw ISO timestamps in `text`."""
    return [f"{name}: ...{text[max(0, m.start() - 30):m.end() + 30]!r}..."
            for name, pattern in RAW_VALUES.items() for m in pattern.finditer(text)]


def test_raw_values_are_found() -> None:
    """The check below catches what it should (so its empty answer means something)."""
    assert len(raw_values("flag True, list ['a', 'b'], at 2026-12-06T21:34:00+00:00, none None")) == 4
    assert len(raw_values("shift of 2026-12-06 23:00")) == 1
    assert raw_values("sí · hace 3 min · 6 dic 2026, 21:34:00 · B-05 Calle Real") == []
    assert len(site_ids("op_local2 · Policía Local · local_police · bollard.b_07 · Op Local2 · B-07")) == 3


# The site's own ids that a person expects by name: users, control centres, entities (with their id in a tooltip).
_OWN_IDS = "|".join(sorted([*USERS, LOCAL, NATIONAL], key=len, reverse=True))
SITE_IDS = re.compile(rf"\b(?:{_OWN_IDS})\b|\b(?:bollard|panel|sensor|camera|geo_location)\.[a-z0-9_]+")


def site_ids(text: str) -> list[str]:
    """The site's internal ids shown as text in `text`."""
    return [f"id: ...{text[max(0, m.start() - 30):m.end() + 30]!r}..." for m in SITE_IDS.finditer(text)]


def _add_odd_devices(site: Site) -> None:
    """Devices whose attributes hold every awkward type, a camera and a geolocated fire."""
    states = site.hub.states
    states.async_set(ODD, "21.5", {
        "friendly_name": "NO2 Puerto", "unit_of_measurement": "µg/m³", "area_id": "port", "calibrated": True,
        "fault": False, "last_fault": None, "channels": ["no2", "o3"], "limits": {"warn": 40, "alarm": 200},
        "calibrated_at": "2026-03-01T09:30:00+00:00"})
    states.async_set(CAMERA, "streaming", {"friendly_name": "ANPR Puerto", "area": "port", "lane": None,
                                           "recording": True, "latitude": 35.892, "longitude": -5.315})
    states.async_set(FIRE, "detected", {"friendly_name": "Fuego cerca de García Aldave", "latitude": 35.9001,
                                        "longitude": -5.3402, "status": "detected", "bearings": [112.5, 201.0],
                                        "detected_at": "2026-12-06T20:00:00+00:00"})


async def _pages(client: WebClient, centre: str) -> list[str]:
    """Every screen's path a user of `centre` can open, following the links the pages produce."""
    _, queue = await client.get(f"/c/{centre}/")
    alarm_links = sorted({f"/c/{centre}/alarms/{a['alarm_id']}" for a in _page_data(queue)["alarms"]})
    _, listing = await client.get(f"/c/{centre}/devices?size=200")
    device_links = sorted(set(re.findall(rf'href="(/c/{centre}/devices/[^"?]+)"', listing)))
    _, automations = await client.get(f"/c/{centre}/automations")
    automation_links = sorted(set(re.findall(rf'href="(/c/{centre}/automations/[^"]+)"', automations)))
    _, incidents = await client.get(f"/c/{centre}/incidents")
    incident_links = sorted(set(re.findall(rf'href="(/c/{centre}/incidents/[0-9a-f-]{{36}})"', incidents)))
    search = urlencode({"plate": "4321FGH", "mode": "exact", "purpose": PURPOSE})
    return [f"/c/{centre}/", f"/c/{centre}/map", f"/c/{centre}/devices", f"/c/{centre}/devices?sort=last_seen&desc=1",
            f"/c/{centre}/automations", f"/c/{centre}/audit", f"/c/{centre}/playback",
            f"/c/{centre}/playback?cameras=puerto_entrada,calle_real_norte", f"/c/{centre}/cameras",
            f"/c/{centre}/incidents", f"/c/{centre}/plates", f"/c/{centre}/plates?{search}", f"/c/{centre}/shift",
            *alarm_links, *device_links, *automation_links, *incident_links]


async def _fill_daily_tools(site: Site) -> None:
    """A plate read and a hit, an incident with an alarm, a plate read, a note and an update in its timeline,
    and a shift log note: the daily tools' pages have something to show."""
    hub = site.hub
    reads = await store_reads(site)
    raised: Any = await hub.services.async_call("alarm", "raise", {
        "type": "intrusion", "title": "Vehículo sustraído en Calle Real", "area_id": "calle_real",
        "entities": [BOLLARD_LOCAL], "data": {"hit_id": "hit1", "plate": "4321FGH"}}, return_response=True)
    context = Context(user_id="op_local", centre=LOCAL)
    created: Any = await hub.services.async_call("incident", "create", {"title": "Robo de vehículo 4321FGH"},
                                                 context=context, return_response=True)
    incident = {"incident_id": created["incident_id"]}
    for service, data in (("link_alarm", {"alarm_id": raised["alarm_id"]}),
                          ("link_plate_read", {"read_id": reads["hit_real"], "plate": "4321FGH"}),
                          ("add_note", {"text": "Unidad 12 en camino"}),
                          ("update", {"status": "in_progress", "owner": "op_local2", "shared": True})):
        await hub.services.async_call("incident", service, {**incident, **data}, context=context,
                                      return_response=True)
    await hub.services.async_call("shift_log", "add_note", {"text": "Sin novedad en el puerto"}, context=context,
                                  return_response=True)
    await hub.async_block_till_done()


def _page_data(page: str) -> Any:
    from .conftest import page_data

    return page_data(page)


@pytest.mark.parametrize("site", [DAILY], indirect=True, ids=["daily"])
@pytest.mark.parametrize("user", ["op_local", "sup_local"])
async def test_every_page_shows_names_and_formatted_values(site: Site, make_client: MakeClient, user: str) -> None:
    _add_odd_devices(site)
    await _fill_daily_tools(site)
    manager = get_manager(site.hub)
    assert manager is not None
    manager.async_raise("intrusion", title="Vehículo en Calle Real", area_id="calle_real",
                        entities=[BOLLARD_LOCAL], context=Context())
    site.hub.bus.async_fire("test_night", {})  # an automation run, for its trace page
    await site.hub.async_block_till_done()
    client = await make_client(user)
    paths = await _pages(client, LOCAL)
    assert any("/alarms/" in p for p in paths) and f"/c/{LOCAL}/devices/{CAMERA}" in paths
    assert f"/c/{LOCAL}/devices/{FIRE}" in paths and f"/c/{LOCAL}/devices/{ODD}" in paths
    assert any(re.search(r"/incidents/[0-9a-f-]{36}$", p) for p in paths)
    problems: dict[str, list[str]] = {}
    for path in paths:
        status, page = await client.get(path)
        if path.endswith("/audit") and user.startswith("op_"):
            assert status == 403
        else:
            assert status == 200, path
        found = raw_values(visible_text(page))
        # An automation's trace shows its actions as configured, the audit log each call's data as recorded.
        if f"/c/{LOCAL}/automations/" not in path and not path.endswith("/audit"):
            found += site_ids(visible_text(page))
        if found:
            problems[path] = found
    assert problems == {}, "\n".join(f"{p}: {v}" for p, v in problems.items())
    # the daily tools' pages had their content: names, words and local times in place of ids and reprs
    texts = {path: " ".join(visible_text((await client.get(path))[1]).split()).replace(" ,", ",") for path in paths
             if re.search(r"/(incidents|plates\?|shift|playback\?)", path)}
    incident = next(t for p, t in texts.items() if re.search(r"/incidents/[0-9a-f-]{36}$", p))
    assert "Unidad 12 en camino" in incident and "4321FGH · Cámara calle_real" in incident
    assert "cambio · Estado: en curso, Responsable: Op Local2, Compartido: sí Op Local" in incident
    assert "Responsable: Op Local2 · Policía Local de Ceuta · compartida" in incident
    assert "en curso Op Local2 Policía Local de Ceuta · compartida" in texts[f"/c/{LOCAL}/incidents"]
    results = next(t for p, t in texts.items() if "/plates?" in p)
    assert "Lecturas: 2" in results and "4321FGH Stolen 95 %" in results
    assert "nota · Op Local · Sin novedad en el puerto" in texts[f"/c/{LOCAL}/shift"]
    assert re.search(r"Libro de turno · \d{1,2} \w+ \d{4}, \d{1,2}:\d\d Nota", texts[f"/c/{LOCAL}/shift"])
    _, page = await client.get(f"/c/{LOCAL}/playback?cameras=puerto_entrada,calle_real_norte")
    assert 'id="sync-grid" data-count="2"' in page
    # names, with the id in a tooltip
    _, page = await client.get(f"/c/{LOCAL}/devices/{ODD}")
    assert '<span class="name" title="port">Puerto</span>' in page
    assert "<li>no2</li><li>o3</li>" in page and ">sí<" in page and "21,5\u00a0µg/m³" in page
    _, page = await client.get(f"/c/{LOCAL}/devices?q=north")
    assert f'title="{BOLLARD_LOCAL}">Calle Real north</a>' in page
    assert '<span class="name" title="calle_real">Calle Real</span>' in page


async def test_device_links_of_every_kind_open(site: Site, make_client: MakeClient) -> None:
    _add_odd_devices(site)
    client = await make_client("op_local")
    for entity_id in (CAMERA, FIRE, ODD, BOLLARD_LOCAL, PANEL_LOCAL, SENSOR):
        if site.hub.states.get(entity_id) is None:
            site.hub.states.async_set(entity_id, "1", {"friendly_name": "x"})
        status, page = await client.get(f"/c/{LOCAL}/devices/{entity_id}")
        assert status == 200 and 'id="device-state"' in page, entity_id
    # the map's fire marker leads to the fire's page
    async with client.session.get(client.url(f"/c/{LOCAL}/api/map")) as resp:
        features = (await resp.json())["features"]
    fire = next(f for f in features if f["entity_id"] == FIRE)
    assert fire["url"] == f"/c/{LOCAL}/devices/{FIRE}"


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-entity-id="([^"]+)"', page)


async def test_device_list_search_filter_sort_and_pages(site: Site, make_client: MakeClient) -> None:
    _add_odd_devices(site)
    for n in range(30):
        site.hub.states.async_set(f"sensor.noise_{n:02d}", str(50 + n), {
            "friendly_name": f"Ruido {n:02d}", "unit_of_measurement": "dB", "area_id": "centro"})
    client = await make_client("op_local")
    _, page = await client.get(f"/c/{LOCAL}/devices?kind=bollard")
    assert sorted(_rows(page)) == sorted(["bollard.b_07", "bollard.b_21"])
    _, page = await client.get(f"/c/{LOCAL}/devices?kind=camera")
    assert _rows(page) == [CAMERA]
    _, page = await client.get(f"/c/{LOCAL}/devices?kind=fire")
    assert _rows(page) == [FIRE]
    _, page = await client.get(f"/c/{LOCAL}/devices?area=tarajal")
    assert set(_rows(page)) == {"bollard.b_21", "panel.p_tarajal"}
    _, page = await client.get(f"/c/{LOCAL}/devices?centre={NATIONAL}&kind=panel")
    assert _rows(page) == ["panel.p_tarajal"]
    _, page = await client.get(f"/c/{LOCAL}/devices?state=streaming")
    assert _rows(page) == [CAMERA]
    _, page = await client.get(f"/c/{LOCAL}/devices?q=ruido%201")  # by name
    assert _rows(page) == [f"sensor.noise_{n}" for n in range(10, 20)]
    _, page = await client.get(f"/c/{LOCAL}/devices?q=puerto&kind=sensor")  # by the area's name
    assert ODD in _rows(page)
    # sorted by name descending, 25 a page: three pages for 30 noise sensors
    _, first = await client.get(f"/c/{LOCAL}/devices?q=ruido&sort=name&desc=1&size=25")
    assert _rows(first)[:2] == ["sensor.noise_29", "sensor.noise_28"] and len(_rows(first)) == 25
    assert "Página 1 de 2" in first and "30 dispositivos" in first
    next_link = html.unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))  # type: ignore[union-attr]
    _, second = await client.get(f"/c/{LOCAL}/devices{next_link}")
    assert _rows(second) == [f"sensor.noise_{n:02d}" for n in range(4, -1, -1)]
    # units and last seen are shown
    assert "79\u00a0dB" in first and "hace" in first
    status, _ = await client.get(f"/c/{LOCAL}/devices?size=7")
    assert status == 400
