"""The base-map generator: clipping to the box, simplifying, which land is Ceuta's, the triangle holes left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.basemap_ceuta import BOX, build, clip, simplify

WEST, SOUTH, EAST, NORTH = BOX


def _square(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def test_clip_keeps_the_part_inside_the_box_and_drops_what_is_outside() -> None:
    ring = [(x, y) for x, y in _square(WEST - 1, SOUTH - 1, WEST + 0.01, NORTH + 1)]
    clipped = clip(ring)
    assert clipped[0] == clipped[-1]
    xs, ys = {p[0] for p in clipped}, {p[1] for p in clipped}
    assert min(xs) == pytest.approx(WEST) and max(xs) == pytest.approx(WEST + 0.01)
    assert min(ys) == pytest.approx(SOUTH) and max(ys) == pytest.approx(NORTH)
    assert clip([(x, y) for x, y in _square(10, 10, 11, 11)]) == []


def test_simplify_drops_points_on_a_straight_edge_only() -> None:
    ring = [(0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.00001), (0.0, 1.0), (0.0, 0.0)]
    assert simplify(ring) == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]


def test_build_keeps_spain_as_ceuta_and_morocco_as_the_neighbour(tmp_path: Path) -> None:
    ceuta = _square(-5.38, 35.87, -5.28, 35.92)
    triangle = [[-5.36, 35.88], [-5.35, 35.88], [-5.35, 35.89], [-5.36, 35.88]]
    lake = [[-5.34, 35.88], [-5.33, 35.88], [-5.33, 35.89], [-5.34, 35.89], [-5.34, 35.88]]
    data = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"A3": "ESP"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[ceuta, triangle, lake],
                                                              [_square(-3.0, 40.0, -2.0, 41.0)]]}},
        {"type": "Feature", "properties": {"A3": "MAR"},
         "geometry": {"type": "Polygon", "coordinates": [_square(-6.0, 35.0, -5.38, 35.925)]}},
        {"type": "Feature", "properties": {"A3": "PRT"},
         "geometry": {"type": "Polygon", "coordinates": [_square(-9.0, 37.0, -8.0, 42.0)]}},
    ]}
    (tmp_path / "map.geo.json").write_text(json.dumps(data), encoding="utf-8")
    collection = build(tmp_path)
    land, neighbour = collection["features"]
    assert land["properties"]["name"] == "Ceuta" and land["geometry"]["type"] == "Polygon"
    rings = land["geometry"]["coordinates"]
    assert len(rings) == 2  # the outer ring and the lake; the triangle (an artefact) left out
    assert neighbour["properties"]["name"] == "Marruecos"
    xs = [p[0] for p in neighbour["geometry"]["coordinates"][0]]
    assert min(xs) == pytest.approx(WEST)  # clipped to the box
    assert "OpenStreetMap" in land["properties"]["source"]
