"""CAP 1.2 alerts: valid against the OASIS schema; CAP's lat,lon order; times; references."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.helpers.ids import uuid7_str
from integrations.agencies.cap import (
    Alert,
    Area,
    Resource,
    build_cap_xml,
    cap_time,
    polygon_from_geojson,
    reference_to_own,
)
from integrations.agencies.const import MsgType

# The Tarajal border crossing as GeoJSON: positions are [longitude, latitude].
TARAJAL_GEOJSON = {"type": "Polygon", "coordinates": [[
    [-5.3440, 35.8715], [-5.3405, 35.8715], [-5.3405, 35.8740], [-5.3440, 35.8740], [-5.3440, 35.8715],
]]}


def alert(**overrides: Any) -> Alert:
    base: dict[str, Any] = {
        "identifier": "0190b7e2-0000-7000-8000-000000000001", "sender": "hacho@ceuta",
        "sent": "2026-01-01T13:00:00+01:00", "status": "Actual", "msg_type": MsgType.ALERT, "scope": "Restricted",
        "restriction": "Emergency services", "event": "Incendio", "categories": ("Fire", "Safety"),
        "urgency": "Immediate", "severity": "Severe", "certainty": "Observed", "headline": "Fuego & <humo>",
        "description": "Foco en T-2", "instruction": "Evitar la zona",
    }
    base.update(overrides)
    return Alert(**base)


def test_a_full_alert_validates(cap_schema: Any) -> None:
    area = Area.make("Frontera del Tarajal", circle=(35.8728, -5.3433, 0.5),
                     polygons=polygon_from_geojson(TARAJAL_GEOJSON))
    xml = build_cap_xml(alert(areas=(area,), resources=(Resource("Imagen T-2", "image/jpeg",
                                                                  "https://ccs.example/t2.jpg"),),
                              parameters=(("hacho:alarm_id", "alarm-42"),)))
    cap_schema.validate(xml)
    assert "Fuego &amp; &lt;humo&gt;" in xml


def test_geojson_lon_lat_becomes_cap_lat_lon() -> None:
    [polygon] = polygon_from_geojson(TARAJAL_GEOJSON)
    assert polygon[0] == (35.8715, -5.3440)
    area = Area.make("Tarajal", polygons=[polygon])
    assert area.cap_polygons() == [
        "35.8715,-5.344 35.8715,-5.3405 35.874,-5.3405 35.874,-5.344 35.8715,-5.344"]
    multi = {"type": "MultiPolygon", "coordinates": [TARAJAL_GEOJSON["coordinates"],
                                                     [[[-5.30, 35.89], [-5.29, 35.89], [-5.29, 35.90]]]]}
    assert [p[0] for p in polygon_from_geojson(multi)] == [(35.8715, -5.3440), (35.89, -5.30)]
    with pytest.raises(ValueError, match="Polygon"):
        polygon_from_geojson({"type": "Point", "coordinates": [-5.3, 35.9]})


def test_open_polygons_are_closed_and_bad_ones_refused() -> None:
    area = Area.make("Puerto", polygons=[[(35.89, -5.32), (35.89, -5.31), (35.88, -5.31)]])
    assert area.cap_polygons() == ["35.89,-5.32 35.89,-5.31 35.88,-5.31 35.89,-5.32"]
    with pytest.raises(ValueError, match="at least 3"):
        Area.make("x", polygons=[[(35.89, -5.32), (35.88, -5.31)]])
    with pytest.raises(ValueError, match="latitude"):
        Area.make("x", circle=(95.0, -5.3, 1.0))
    assert Area.make("Hacho", circle=(35.8962, -5.2941, 0.5)).cap_circle() == "35.8962,-5.2941 0.5"


def test_times_have_seconds_and_an_offset() -> None:
    assert cap_time(1767268800.999, ZoneInfo("Africa/Ceuta")) == "2026-01-01T13:00:00+01:00"
    assert cap_time(1782043200, ZoneInfo("Africa/Ceuta")) == "2026-06-21T14:00:00+02:00"
    assert cap_time(1767268800) == "2026-01-01T12:00:00-00:00"  # UTC as CAP 1.2 writes it
    assert cap_time(1767268800, ZoneInfo("America/Havana")) == "2026-01-01T07:00:00-05:00"


def test_update_and_cancel_need_references(cap_schema: Any) -> None:
    with pytest.raises(ValueError, match="must reference"):
        build_cap_xml(alert(msg_type=MsgType.CANCEL))
    identifier = uuid7_str(1767268800.25)
    reference = reference_to_own("hacho@ceuta", identifier, ZoneInfo("Africa/Ceuta"))
    assert reference == f"hacho@ceuta,{identifier},2026-01-01T13:00:00+01:00"
    theirs = "bomberos@ceuta,F-1,2026-01-01T12:59:00+01:00"
    xml = build_cap_xml(alert(msg_type=MsgType.CANCEL, references=(reference, theirs)))
    cap_schema.validate(xml)
    assert f"<references>{reference} bomberos@ceuta,F-1," in xml
    with pytest.raises(ValueError, match="not a UUID"):
        reference_to_own("hacho@ceuta", "0190b7e2-0000-4000-8000-000000000001")


def test_identifiers_and_senders_follow_cap_rules() -> None:
    with pytest.raises(ValueError, match="sender"):
        build_cap_xml(alert(sender="hacho ceuta"))
    with pytest.raises(ValueError, match="identifier"):
        build_cap_xml(alert(identifier="a,b"))


def test_json_mirrors_the_cap_fields() -> None:
    data = alert(areas=(Area.make("Hacho", circle=(35.8962, -5.2941, 0.5)),), extra={"alarm_id": "a-1"}).as_dict()
    assert data["msgType"] == "Alert" and data["restriction"] == "Emergency services"
    assert data["info"]["category"] == ["Fire", "Safety"]
    assert data["info"]["areas"] == [{"description": "Hacho",
                                      "circle": {"lat": 35.8962, "lon": -5.2941, "radius_km": 0.5}}]
    assert data["alarm_id"] == "a-1"


def test_translations_are_more_infos_in_xml_and_a_list_in_json(cap_schema: Any) -> None:
    from integrations.agencies.cap import Translation

    english = Translation("en-GB", headline="Fire & smoke", instruction="Avoid the area")
    multi = alert(areas=(Area.make("Hacho", circle=(35.8962, -5.2941, 0.5)),), translations=(english,))
    xml = build_cap_xml(multi)
    cap_schema.validate(xml)
    assert xml.count("<info>") == 2 and xml.count("<areaDesc>Hacho</areaDesc>") == 2
    assert "<language>en-GB</language><category>Fire</category><category>Safety</category><event>Incendio</event>" \
        in xml  # an untranslated event keeps the original
    assert multi.as_dict()["translations"] == [{"language": "en-GB", "event": None, "headline": "Fire & smoke",
                                                "description": None, "instruction": "Avoid the area"}]
    assert "translations" not in alert().as_dict()
