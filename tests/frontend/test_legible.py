"""Names, not ids, and no raw values: every screen of the Ceuta-like site, rendered for an operator and a
supervisor, shows no Python repr and no raw ISO timestamp; every device kind has a page (no 404 for
cameras or fires); the device list searches, filters, sorts and pages without scripts."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from hub.core import Context
from integrations.alarm.manager import get_manager

from .conftest import MakeClient, WebClient
from .site import BOLLARD_LOCAL, LOCAL, NATIONAL, PANEL_LOCAL, SENSOR, Site

_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
RAW_VALUES = {
    "None": re.compile(r"\bNone\b"),
    "True": re.compile(r"\bTrue\b"),
    "False": re.compile(r"\bFalse\b"),
    "list repr": re.compile(r"\[\s*['\"\d]"),
    "dict repr": re.compile(r"\{\s*'"),
    "ISO timestamp": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d"),
}
CAMERA = "camera.anpr_puerto"
FIRE = "geo_location.fire_garcia_aldave"
ODD = "sensor.odd_values"


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
    assert raw_values("sí · hace 3 min · 6 dic 2026, 21:34:00 · B-05 Calle Real") == []


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
    return [f"/c/{centre}/", f"/c/{centre}/map", f"/c/{centre}/devices", f"/c/{centre}/devices?sort=last_seen&desc=1",
            f"/c/{centre}/automations", f"/c/{centre}/audit", f"/c/{centre}/playback", *alarm_links, *device_links,
            *automation_links]


def _page_data(page: str) -> Any:
    from .conftest import page_data

    return page_data(page)


@pytest.mark.parametrize("user", ["op_local", "sup_local"])
async def test_every_page_shows_names_and_formatted_values(site: Site, make_client: MakeClient, user: str) -> None:
    _add_odd_devices(site)
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
    problems: dict[str, list[str]] = {}
    for path in paths:
        status, page = await client.get(path)
        if path.endswith("/audit") and user.startswith("op_"):
            assert status == 403
        else:
            assert status == 200, path
        found = raw_values(visible_text(page))
        if found:
            problems[path] = found
    assert problems == {}
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
