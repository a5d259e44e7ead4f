"""Geodesy on the WGS84 mean sphere: distances, bearings, destination points and point-in-polygon."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "EARTH_RADIUS_M",
    "bearing_deg",
    "destination_point",
    "distance_m",
    "point_in_polygon",
    "polygon_centroid",
]

# IUGG mean radius of the WGS84 ellipsoid, (2a + b) / 3. The spherical model is off by at most
# about 0.5 % against the ellipsoid, which is metres over a city the size of Ceuta.
EARTH_RADIUS_M = 6_371_008.8

Point = Sequence[float]  # (latitude, longitude) in degrees


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min() guards against h creeping past 1 by rounding for antipodal points
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, degrees clockwise from true north in [0, 360)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlambda = math.radians(lon2 - lon1)
    y = math.sin(dlambda) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlambda)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination_point(lat: float, lon: float, bearing: float, distance: float) -> tuple[float, float]:
    """The point reached going `distance` metres from (lat, lon) on initial bearing `bearing` degrees."""
    delta = distance / EARTH_RADIUS_M
    theta = math.radians(bearing)
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    y = math.sin(theta) * math.sin(delta) * math.cos(phi1)
    x = math.cos(delta) - math.sin(phi1) * sin_phi2
    lambda2 = lambda1 + math.atan2(y, x)
    lon2 = (math.degrees(lambda2) + 540.0) % 360.0 - 180.0  # normalise to [-180, 180)
    return math.degrees(phi2), lon2


def point_in_polygon(lat: float, lon: float, polygon: Sequence[Point]) -> bool:
    """Whether (lat, lon) lies inside `polygon`, a ring of (lat, lon) vertices (closed or not).

    Ray casting on the plate carree projection: exact enough for city-sized areas that do not
    cross the antimeridian or a pole. Points on an edge count as inside.
    """
    count = len(polygon)
    if count < 3:
        return False
    inside = False
    j = count - 1
    for i in range(count):
        yi, xi = float(polygon[i][0]), float(polygon[i][1])
        yj, xj = float(polygon[j][0]), float(polygon[j][1])
        if _on_segment(lat, lon, yi, xi, yj, xj):
            return True
        if (yi > lat) != (yj > lat):
            x_cross = xi + (lat - yi) * (xj - xi) / (yj - yi)
            if lon < x_cross:
                inside = not inside
        j = i
    return inside


def _on_segment(y: float, x: float, y1: float, x1: float, y2: float, x2: float, eps: float = 1e-12) -> bool:
    cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1)
    if abs(cross) > eps:
        return False
    return min(x1, x2) - eps <= x <= max(x1, x2) + eps and min(y1, y2) - eps <= y <= max(y1, y2) + eps


def polygon_centroid(polygon: Sequence[Point]) -> tuple[float, float]:
    """Area centroid (lat, lon) of a simple polygon; the vertex mean when the area is zero."""
    points = [(float(p[0]), float(p[1])) for p in polygon]
    if not points:
        raise ValueError("polygon has no vertices")
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    area2 = 0.0
    cy = cx = 0.0
    for i, (y1, x1) in enumerate(points):
        y2, x2 = points[(i + 1) % len(points)]
        cross = x1 * y2 - x2 * y1
        area2 += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if abs(area2) < 1e-18:
        return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)
    return cy / (3 * area2), cx / (3 * area2)
