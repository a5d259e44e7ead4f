"""The alarm page carries its evidence: an ANPR hit's plate crop, overview frame, read and list entry side by
side (images through a checked, audited route); a fire's thermal frame with the hotspot outlined, bearings and
located point; a small map wherever the alarm has a place."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from integrations.thermal_fire.imaging import thumbnail

from .conftest import MakeClient
from .site import LOCAL, Site
from .test_plates import JPEG, audit_rows, site, store_reads

__all__ = ["site"]  # the fixture: the site with ANPR


async def _raise(site: Site, **data: Any) -> str:
    raised: Any = await site.hub.services.async_call("alarm", "raise", data, return_response=True)
    return str(raised["alarm_id"])


async def test_anpr_alarm_shows_crop_frame_read_and_list_entry(site: Site, make_client: MakeClient) -> None:
    await store_reads(site)  # hit1 on the stolen list, with its crop and frame on disk
    await site.hub.services.async_call("anpr", "hotlist_add", {
        "list": "stolen", "plate": "4321FGH", "reason": "Sustraído en Algeciras", "source": "DGP"})
    alarm_id = await _raise(site, type="intrusion", title="Vehículo sustraído en Calle Real", area_id="calle_real",
                            latitude=35.8881, longitude=-5.3136, data={"hit_id": "hit1", "plate": "4321FGH"})
    op = await make_client("op_local")
    status, html = await op.get(f"/c/{LOCAL}/alarms/{alarm_id}")
    assert status == 200, html
    panel = html[html.index('id="alarm-evidence"'):]
    for part in ('id="evidence-crop"', 'id="evidence-frame"', 'id="evidence-read"', 'id="evidence-entry"',
                 'id="evidence-map"', 'id="evidence-marker"'):
        assert part in panel, part
    assert "4321FGH" in panel and "Sustraído en Algeciras" in panel and "DGP" in panel and "Stolen" in panel
    for kind in ("crop", "frame"):
        async with op.session.get(op.url(f"/c/{LOCAL}/alarms/{alarm_id}/evidence/{kind}")) as resp:
            assert resp.status == 200 and await resp.read() == JPEG
    views = [row for row in await audit_rows(site, "view_sensitive") if row.target == f"alarm:{alarm_id}"]
    assert len(views) == 2 and {row.user_id for row in views} == {"op_local"}

    # Engineers see the alarm but not the plate evidence.
    engineer = await make_client("eng_local")
    status, html = await engineer.get(f"/c/{LOCAL}/alarms/{alarm_id}")
    assert status == 200 and 'id="evidence-crop"' not in html and 'id="evidence-map"' in html
    async with engineer.session.get(engineer.url(f"/c/{LOCAL}/alarms/{alarm_id}/evidence/crop")) as resp:
        assert resp.status == 404


async def test_fire_alarm_shows_thermal_frame_hotspot_bearings_and_point(site: Site, make_client: MakeClient) -> None:
    frame = np.full((120, 160), 290.0)
    frame[60:64, 80:84] = 700.0  # the hotspot
    snapshot = thumbnail(frame, (81.5, 61.5))
    alarm_id = await _raise(site, type="fire", title="Humo en el Monte Hacho", area_id="monte_hacho",
                            latitude=35.8966, longitude=-5.2930,
                            data={"snapshot": snapshot, "temperature_c": 426.9,
                                  "bearings": [{"tower": "hacho_north", "bearing_deg": 131.5},
                                               {"tower": "tarajal_mast", "bearing_deg": 64.0}]})
    sup = await make_client("sup_local")  # the fire type is shared: the Local Police supervisor sees it
    status, html = await sup.get(f"/c/{LOCAL}/alarms/{alarm_id}")
    assert status == 200, html
    assert 'id="evidence-thermal"' in html and 'id="evidence-hotspot"' in html
    assert f"data:image/png;base64,{snapshot['data']}" in html
    # towers by name when the thermal_fire integration knows them (not on this site: the id, in the tooltip too)
    assert re.search(r'title="hacho_north">hacho_north</span></dt><dd>131,5°', html)
    assert re.search(r'title="tarajal_mast">tarajal_mast</span></dt><dd>64°', html)
    assert "426,9\u00a0°C" in html  # numbers in the reader's locale
    assert "35.89660, -5.29300" in html and 'id="evidence-map"' in html
    # An alarm raised with an area and no position: placed at its area's centre, the map of its area;
    # with neither (and no entity or type place), no panel.
    in_area = await _raise(site, type="sensor_fault", title="Sensor sin datos", area_id="centro")
    status, html = await sup.get(f"/c/{LOCAL}/alarms/{in_area}")
    assert status == 200 and 'id="evidence-marker"' in html and "Centro · 35.88860, -5.31700</figcaption>" in html
    bare = await _raise(site, type="sensor_fault", title="Sensor sin lugar")
    status, html = await sup.get(f"/c/{LOCAL}/alarms/{bare}")
    assert status == 200 and 'id="alarm-evidence"' not in html


def test_bearings_name_their_towers() -> None:
    """A bearing shows its tower by name (the id stays for the tooltip); a tower the site does not know, by id."""
    from frontend.evidence import _thermal

    alarm = {"data": {"bearings": [{"tower": "hacho_north", "bearing_deg": 131.5},
                                   {"tower": "gone", "bearing_deg": 64.0}]}}
    shown = _thermal(alarm, {"hacho_north": "Torre Monte Hacho norte"})
    assert shown is not None
    assert shown["bearings"] == [
        {"tower": "Torre Monte Hacho norte", "tower_id": "hacho_north", "bearing": 131.5},
        {"tower": "gone", "tower_id": "gone", "bearing": 64.0}]
