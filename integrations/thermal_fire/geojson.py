"""GeoJSON (RFC 7946) builders: [lon, lat] positions, closed counter-clockwise rings, Features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["feature", "point", "polygon", "validate_geojson"]

LatLon = Sequence[float]


def _pos(p: LatLon) -> list[float]:
    return [round(float(p[1]), 7), round(float(p[0]), 7)]


def point(lat: float, lon: float) -> dict[str, Any]:
    """A Point geometry."""
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def polygon(ring: Sequence[LatLon]) -> dict[str, Any]:
    """A Polygon from (lat, lon) vertices: closed, exterior counter-clockwise (right-hand rule)."""
    coords = [_pos(p) for p in ring]
    if coords and coords[0] != coords[-1]:
        coords.append(list(coords[0]))
    area2 = sum(coords[i][0] * coords[i + 1][1] - coords[i + 1][0] * coords[i][1] for i in range(len(coords) - 1))
    if area2 < 0:
        coords.reverse()
    return {"type": "Polygon", "coordinates": [coords]}


def feature(
    geometries: list[dict[str, Any]], properties: dict[str, Any], feature_id: str | None = None
) -> dict[str, Any]:
    """A Feature: one geometry, or a GeometryCollection of several."""
    geometry = geometries[0] if len(geometries) == 1 else {"type": "GeometryCollection", "geometries": geometries}
    result: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": properties}
    if feature_id is not None:
        result["id"] = feature_id
    return result


def _check_position(pos: Any, where: str) -> None:
    if not isinstance(pos, list) or len(pos) not in (2, 3) or not all(isinstance(x, int | float) for x in pos):
        raise ValueError(f"{where}: a position is [lon, lat], got {pos!r}")
    if not (-180.0 <= pos[0] <= 180.0 and -90.0 <= pos[1] <= 90.0):
        raise ValueError(f"{where}: position {pos!r} out of range")


def _check_geometry(geom: Any, where: str) -> None:
    if not isinstance(geom, dict) or "type" not in geom:
        raise ValueError(f"{where}: geometry must be an object with a type")
    kind = geom["type"]
    if kind == "Point":
        _check_position(geom.get("coordinates"), where)
    elif kind == "LineString":
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise ValueError(f"{where}: a LineString needs two positions or more")
        for pos in coords:
            _check_position(pos, where)
    elif kind == "Polygon":
        rings = geom.get("coordinates")
        if not isinstance(rings, list) or not rings:
            raise ValueError(f"{where}: a Polygon needs at least one ring")
        for ring in rings:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                raise ValueError(f"{where}: a ring is closed and has 4 positions or more")
            for pos in ring:
                _check_position(pos, where)
    elif kind == "GeometryCollection":
        for i, sub in enumerate(geom.get("geometries") or []):
            _check_geometry(sub, f"{where}.geometries[{i}]")
    else:
        raise ValueError(f"{where}: unsupported geometry type {kind!r}")


def validate_geojson(obj: Any) -> None:
    """Raise ValueError unless `obj` is a valid Feature (or FeatureCollection) per RFC 7946 basics."""
    if not isinstance(obj, dict):
        raise ValueError("GeoJSON must be an object")
    if obj.get("type") == "FeatureCollection":
        for i, item in enumerate(obj.get("features") or []):
            validate_geojson(item) if isinstance(item, dict) else None
            if not isinstance(item, dict):
                raise ValueError(f"features[{i}] is not an object")
        return
    if obj.get("type") != "Feature":
        raise ValueError(f"expected type Feature, got {obj.get('type')!r}")
    if "properties" not in obj or not (obj["properties"] is None or isinstance(obj["properties"], dict)):
        raise ValueError("a Feature has a properties member (object or null)")
    if obj.get("geometry") is not None:
        _check_geometry(obj["geometry"], "geometry")
