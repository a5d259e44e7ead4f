"""The map: every alarm of the Ceuta site's types has an area and a marker; the offline base map is real
coastline data with its licence beside it."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.core import Context
from integrations.alarm.manager import get_manager

from .conftest import MakeClient, page_data
from .site import AREAS, BOLLARD_LOCAL, BOLLARD_NATIONAL, LOCAL, NATIONAL, Site, async_start_site, async_stop_site

ROOT = Path(__file__).resolve().parents[2]
CEUTA = ROOT / "config" / "ceuta"
BASEMAP = ROOT / "frontend" / "static" / "basemap"

# One alarm of each type, raised with the data the Ceuta automations give (config/ceuta/automations/).
RAISED: dict[str, dict[str, Any]] = {
    # fire.yaml: the located fire's entity and point, no area
    "fire": {"entities": ["geo_location.fire_monte_hacho"], "latitude": 35.8990, "longitude": -5.2900},
    # anpr.yaml: the ANPR camera, its area and position
    "anpr_hotlist": {"entities": ["camera.anpr_tarajal"], "area_id": "tarajal", "latitude": 35.8716,
                     "longitude": -5.3430},
    # alarms.yaml bollard_intrusion_attempt and bollard_fault: the bollard only
    "intrusion": {"entities": [BOLLARD_LOCAL]},
    "bollard_fault": {"entities": [BOLLARD_NATIONAL]},
    # alarms.yaml storm: the anemometer (no position of its own) and the port
    "storm": {"entities": ["sensor.port_wind_gust"], "area_id": "port"},
    # alarms.yaml camera_offline: the camera and the area from the camera_offline event
    "camera_offline": {"entities": ["camera.plaza_reyes"], "area_id": "calle_real"},
    # alarms.yaml video_storage_full: nothing but the storage
    "video_storage_full": {},
}


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    """The frontend test site with the Ceuta site's alarm types and SOPs."""
    shutil.copytree(CEUTA / "sops", config_dir / "sops")
    alarms = yaml.safe_load((CEUTA / "alarms.yaml").read_text(encoding="utf-8"))
    running = await async_start_site(config_dir, extra_sections={"alarm": alarms})
    yield running
    await async_stop_site(running)


async def test_every_alarm_type_of_ceuta_has_an_area_and_a_marker(site: Site, make_client: MakeClient) -> None:
    manager = get_manager(site.hub)
    assert set(RAISED) == set(manager.types), "a Ceuta alarm type without a case here"
    raised = {kind: manager.async_raise(kind, context=Context(), **data) for kind, data in RAISED.items()}
    for kind, alarm in raised.items():
        assert alarm.area_id, f"{kind}: no area"
        assert alarm.latitude is not None and alarm.longitude is not None, f"{kind}: no position"
    assert raised["fire"].area_id == "monte_hacho"  # the smallest area containing the located point
    assert raised["intrusion"].area_id == "calle_real"  # the bollard's area
    assert raised["bollard_fault"].area_id == "tarajal"
    assert raised["video_storage_full"].area_id == "centro"  # the type's configured place
    assert (raised["storm"].latitude, raised["storm"].longitude) == (35.8920, -5.3150)  # the port's centre

    markers: dict[str, set[str]] = {}
    for user, centre in (("op_local", LOCAL), ("op_national", NATIONAL)):
        client = await make_client(user)
        status, text = await client.get(f"/c/{centre}/api/map")
        data = json.loads(text)
        assert status == 200
        markers[centre] = {f["url"] for f in data["features"] if f["kind"] == "alarm"}
    for kind, alarm in raised.items():
        assert f"/c/{alarm.centre}/alarms/{alarm.id}" in markers[alarm.centre], f"{kind}: no marker on the map"

    # each alarm's page shows its small map, captioned with its area's name
    names = {area["id"]: area["name"] for area in AREAS}
    clients = {LOCAL: await make_client("sup_local"), NATIONAL: await make_client("op_national")}
    for kind, alarm in raised.items():
        status, html = await clients[alarm.centre].get(f"/c/{alarm.centre}/alarms/{alarm.id}")
        assert status == 200
        assert 'id="evidence-map"' in html and f"{names[alarm.area_id]} · " in html, kind


def test_the_offline_base_map_is_ceutas_coastline_with_its_licence() -> None:
    data = json.loads((BASEMAP / "ceuta.geojson").read_text(encoding="utf-8"))
    ceuta = data["features"][0]
    assert ceuta["properties"]["name"] == "Ceuta" and "OpenStreetMap" in ceuta["properties"]["source"]
    polygons = ceuta["geometry"]["coordinates"]
    points = [p for polygon in polygons for ring in polygon for p in ring]
    assert len(points) > 200  # a real coastline, not a hand-drawn outline of 40 points
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    # Punta Almina (east) to Benzú (west), the Tarajal (south) to the north shore
    assert -5.384 < min(lons) < -5.375 and -5.282 < max(lons) < -5.275
    assert 35.868 < min(lats) < 35.873 and 35.915 < max(lats) < 35.92
    notice = (BASEMAP / "NOTICE").read_text(encoding="utf-8")
    assert "Open Database License" in notice and "tools/basemap_ceuta.py" in notice


async def test_the_default_base_layer_is_named_in_the_readers_language(site: Site, make_client: MakeClient) -> None:
    operator = await make_client("op_local")
    status, page = await operator.get(f"/c/{LOCAL}/map")
    assert status == 200
    assert [(layer["name"], layer["type"]) for layer in page_data(page)["layers"]] == [
        ("Ceuta (sin conexión)", "offline")]
    assert page_data(page)["layers"][0]["url"].endswith("/basemap/ceuta.geojson")
    async with operator.session.post(operator.url("/language"), data={
            "language": "en", "next": f"/c/{LOCAL}/map", "csrf_token": operator.csrf}) as resp:
        page = await resp.text()
    assert [layer["name"] for layer in page_data(page)["layers"]] == ["Ceuta (offline)"]
