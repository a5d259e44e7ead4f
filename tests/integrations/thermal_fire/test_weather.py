"""Fire weather: FFWI behaves as an index should; the spread cone points downwind."""

from __future__ import annotations

import pytest

from hub.helpers.geo import bearing_deg, distance_m
from integrations.thermal_fire.geojson import validate_geojson
from integrations.thermal_fire.weather import equilibrium_moisture, ffwi, ffwi_class, spread_cone


@pytest.mark.parametrize("humidity", [5.0, 30.0, 70.0])
def test_ffwi_rises_with_wind(humidity: float) -> None:
    values = [ffwi(25.0, humidity, wind) for wind in (0.0, 2.0, 5.0, 8.0, 12.0)]
    assert values == sorted(values) and values[0] < values[-1]


@pytest.mark.parametrize("humidity", [5.0, 30.0, 70.0])
def test_ffwi_rises_with_temperature(humidity: float) -> None:
    values = [ffwi(temp, humidity, 6.0) for temp in (0.0, 10.0, 20.0, 30.0, 40.0)]
    assert values == sorted(values) and values[0] < values[-1]


@pytest.mark.parametrize("temp", [5.0, 20.0, 38.0])
def test_ffwi_falls_with_humidity(temp: float) -> None:
    values = [ffwi(temp, humidity, 6.0) for humidity in (5.0, 9.9, 10.0, 30.0, 49.9, 50.0, 70.0, 95.0)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]


def test_ffwi_reference_values() -> None:
    # almost bone-dry fuel (m = 0.03 %), calm air: eta * 1 / 0.3002
    assert equilibrium_moisture(30.0, 0.0) == pytest.approx(0.03229)
    assert ffwi(30.0, 0.0, 0.0) == pytest.approx(3.32, abs=0.005)
    assert ffwi(45.0, 2.0, 40.0) == 100.0  # capped
    assert ffwi_class(10.0) == "low" and ffwi_class(60.0) == "very_high" and ffwi_class(100.0) == "extreme"


@pytest.mark.parametrize(("wind_from", "expected"), [(90.0, 270.0), (270.0, 90.0), (0.0, 180.0), (225.0, 45.0)])
def test_spread_cone_points_downwind(wind_from: float, expected: float) -> None:
    lat, lon = 35.88, -5.34
    cone = spread_cone(lat, lon, 8.0, wind_from)
    validate_geojson(cone)
    props = cone["properties"]
    assert props["direction_deg"] == expected
    ring = cone["geometry"]["geometries"][0]["coordinates"][0]
    arc = [p for p in ring if distance_m(lat, lon, p[1], p[0]) > 1.0]
    assert arc
    for lon2, lat2 in arc:
        off = (bearing_deg(lat, lon, lat2, lon2) - expected + 180.0) % 360.0 - 180.0
        assert abs(off) <= props["half_angle_deg"] + 0.1  # the properties are rounded to 0.1 degree
        assert distance_m(lat, lon, lat2, lon2) == pytest.approx(props["length_m"], rel=1e-3)


def test_stronger_wind_narrows_and_lengthens_the_cone() -> None:
    calm = spread_cone(35.88, -5.34, 1.0, 90.0)["properties"]
    gale = spread_cone(35.88, -5.34, 15.0, 90.0)["properties"]
    assert gale["half_angle_deg"] < calm["half_angle_deg"]
    assert gale["length_m"] > calm["length_m"]
