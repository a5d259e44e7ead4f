"""Tests of the geodesy helpers against known distances and round trips."""

from __future__ import annotations

import math

import pytest

from hub.helpers.geo import (
    bearing_deg,
    destination_point,
    distance_m,
    point_in_polygon,
    polygon_centroid,
)

# Plaza de África, Ceuta, and Plaza de España, Algeciras (across the strait)
CEUTA = (35.8894, -5.3198)
ALGECIRAS = (36.1311, -5.4478)


def test_distance_zero_and_symmetric() -> None:
    assert distance_m(*CEUTA, *CEUTA) == 0.0
    assert distance_m(*CEUTA, *ALGECIRAS) == pytest.approx(distance_m(*ALGECIRAS, *CEUTA))


def test_distance_known_values() -> None:
    # one degree of latitude on the mean sphere is R * pi / 180
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195.08, abs=0.05)
    # one degree of longitude at 60 degrees north is half that (to within the sphere's curvature)
    assert distance_m(60, 0, 60, 1) == pytest.approx(55_597.3, rel=1e-3)
    # Ceuta - Algeciras across the strait is about 29 km
    assert distance_m(*CEUTA, *ALGECIRAS) == pytest.approx(29_220, rel=0.01)
    # antipodes: half the circumference, no math domain error
    assert distance_m(0, 0, 0, 180) == pytest.approx(math.pi * 6_371_008.8)


def test_bearing_cardinal_directions() -> None:
    assert bearing_deg(0, 0, 1, 0) == pytest.approx(0.0)
    assert bearing_deg(0, 0, 0, 1) == pytest.approx(90.0)
    assert bearing_deg(1, 0, 0, 0) == pytest.approx(180.0)
    assert bearing_deg(0, 1, 0, 0) == pytest.approx(270.0)
    # Algeciras is a little west of north from Ceuta
    assert 335 < bearing_deg(*CEUTA, *ALGECIRAS) < 345


@pytest.mark.parametrize("bearing", [0, 45, 90, 135, 180, 225, 270, 315, 359.5])
@pytest.mark.parametrize("distance", [1.0, 250.0, 4_000.0, 120_000.0])
def test_destination_point_round_trip(bearing: float, distance: float) -> None:
    lat, lon = destination_point(*CEUTA, bearing, distance)
    assert distance_m(*CEUTA, lat, lon) == pytest.approx(distance, rel=1e-9, abs=1e-6)
    back = bearing_deg(*CEUTA, lat, lon)
    assert min(abs(back - bearing), 360 - abs(back - bearing)) == pytest.approx(0.0, abs=1e-6)


def test_destination_point_wraps_longitude() -> None:
    lat, lon = destination_point(0, 179.9, 90, 30_000)
    assert -180 <= lon < -179.5
    assert lat == pytest.approx(0.0, abs=1e-9)


# A square around the Plaza de África and a concave "L" shape.
SQUARE = [(35.888, -5.321), (35.888, -5.318), (35.891, -5.318), (35.891, -5.321)]
L_SHAPE = [(0, 0), (0, 3), (1, 3), (1, 1), (3, 1), (3, 0)]


def test_point_in_polygon_square() -> None:
    assert point_in_polygon(*CEUTA, SQUARE)
    assert not point_in_polygon(*ALGECIRAS, SQUARE)
    assert not point_in_polygon(35.8894, -5.3179, SQUARE)  # just east of the square
    # a closed ring (first vertex repeated) behaves the same
    assert point_in_polygon(*CEUTA, [*SQUARE, SQUARE[0]])


def test_point_in_polygon_concave_and_edges() -> None:
    assert point_in_polygon(0.5, 2.5, L_SHAPE)
    assert point_in_polygon(2.5, 0.5, L_SHAPE)
    assert not point_in_polygon(2, 2, L_SHAPE)  # in the notch of the L
    assert point_in_polygon(0, 1.5, L_SHAPE)  # on an edge
    assert point_in_polygon(1, 1, L_SHAPE)  # on the inner vertex
    assert not point_in_polygon(0.5, 0.5, L_SHAPE[:2])  # not a polygon


def test_polygon_centroid() -> None:
    lat, lon = polygon_centroid(SQUARE)
    assert lat == pytest.approx(35.8895)
    assert lon == pytest.approx(-5.3195)
    # the L is a 1x3 and a 2x1 rectangle: (3 * (0.5, 1.5) + 2 * (2, 0.5)) / 5; same for a closed ring
    assert polygon_centroid(L_SHAPE) == pytest.approx((1.1, 1.1))
    assert polygon_centroid([*L_SHAPE, L_SHAPE[0]]) == pytest.approx((1.1, 1.1))
    with pytest.raises(ValueError, match="no vertices"):
        polygon_centroid([])
