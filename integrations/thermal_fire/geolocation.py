"""Geolocation: pixel -> bearing and depression -> terrain intersection, uncertainty, two-tower fixes.

Rays are traced over a sphere of radius R with terrestrial refraction k: a ray leaving the camera
at elevation angle e stands, at ground distance s, at height H0 + s*tan(e) + (1 - k)*s^2 / (2R)
above mean sea level (the Earth curves away, refraction bends the ray back by k). The first
distance where that height falls to the terrain's is the hit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hub.helpers.geo import EARTH_RADIUS_M, bearing_deg, destination_point, distance_m

from .const import DEFAULT_POINTING_SIGMA_DEG, MAX_RANGE_M, REFRACTION_COEFFICIENT
from .elevation import Terrain
from .optics import CameraModel

__all__ = [
    "Fix",
    "Geolocator",
    "TowerSite",
    "apparent_elevation",
    "destination_np",
    "fuse_bearings",
    "intersect_rays",
    "line_of_sight",
    "polygon_area_m2",
    "same_fire",
]

FloatArray = npt.NDArray[np.float64]
CURVATURE = (1.0 - REFRACTION_COEFFICIENT) / (2.0 * EARTH_RADIUS_M)  # metres of drop per metre^2
SIGMA_BOUND = 2.0  # the uncertainty polygon spans +-2 sigma of the angular errors (~95 %)
MIN_CROSSING_DEG = 8.0  # bearings crossing at a shallower angle than this give no two-tower fix


@dataclass(frozen=True, slots=True)
class TowerSite:
    """Where a camera is: position and the camera's altitude above mean sea level."""

    tower_id: str
    lat: float
    lon: float
    altitude_m: float


@dataclass(slots=True)
class Fix:
    """A located hotspot: point, ground height, distance, angles, uncertainty region (lat, lon ring)."""

    lat: float
    lon: float
    altitude_m: float
    distance_m: float
    bearings: dict[str, float]
    depression_deg: float | None
    polygon: list[tuple[float, float]]
    uncertainty_m: float
    towers: list[str] = field(default_factory=list)
    on_water: bool = False
    hit_terrain: bool = True
    pixel_area_m2: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form (lists, not tuples)."""
        return {
            "lat": self.lat,
            "lon": self.lon,
            "altitude_m": self.altitude_m,
            "distance_m": self.distance_m,
            "bearings": dict(self.bearings),
            "depression_deg": self.depression_deg,
            "polygon": [list(p) for p in self.polygon],
            "uncertainty_m": self.uncertainty_m,
            "towers": list(self.towers),
            "on_water": self.on_water,
            "hit_terrain": self.hit_terrain,
            "pixel_area_m2": self.pixel_area_m2,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fix:
        """Inverse of as_dict."""
        return cls(
            lat=data["lat"],
            lon=data["lon"],
            altitude_m=data["altitude_m"],
            distance_m=data["distance_m"],
            bearings=dict(data["bearings"]),
            depression_deg=data["depression_deg"],
            polygon=[(p[0], p[1]) for p in data["polygon"]],
            uncertainty_m=data["uncertainty_m"],
            towers=list(data["towers"]),
            on_water=data["on_water"],
            hit_terrain=data.get("hit_terrain", True),
            pixel_area_m2=data.get("pixel_area_m2"),
        )


# --------------------------------------------------------------------------- vectorised geodesy


def destination_np(lat: float, lon: float, bearing: Any, distance: Any) -> tuple[FloatArray, FloatArray]:
    """`hub.helpers.geo.destination_point` for arrays of bearings/distances (same sphere)."""
    delta = np.asarray(distance, dtype=np.float64) / EARTH_RADIUS_M
    theta = np.radians(np.asarray(bearing, dtype=np.float64))
    phi1, lam1 = math.radians(lat), math.radians(lon)
    sin_phi2 = math.sin(phi1) * np.cos(delta) + math.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(np.sin(theta) * np.sin(delta) * math.cos(phi1), np.cos(delta) - math.sin(phi1) * sin_phi2)
    return np.degrees(phi2), (np.degrees(lam2) + 540.0) % 360.0 - 180.0


def distance_bearing_np(lat1: float, lon1: float, lat2: Any, lon2: Any) -> tuple[FloatArray, FloatArray]:
    """Great-circle distances (m) and initial bearings (deg) from one point to arrays of points."""
    phi1 = math.radians(lat1)
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlam = np.radians(np.asarray(lon2, dtype=np.float64) - lon1)
    h = np.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    dist = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h)))
    y = np.sin(dlam) * np.cos(phi2)
    x = math.cos(phi1) * np.sin(phi2) - math.sin(phi1) * np.cos(phi2) * np.cos(dlam)
    return dist, np.degrees(np.arctan2(y, x)) % 360.0


def apparent_elevation(
    site: TowerSite, lat: Any, lon: Any, altitude_m: Any
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Ground distance, bearing and apparent elevation angle (deg, refraction included) of points."""
    dist, bear = distance_bearing_np(site.lat, site.lon, lat, lon)
    safe = np.maximum(dist, 1e-3)
    rise = np.asarray(altitude_m, dtype=np.float64) - site.altitude_m - CURVATURE * safe * safe
    return dist, bear, np.degrees(np.arctan2(rise, safe))


def _ray_height(site: TowerSite, tan_e: Any, s: Any) -> Any:
    return site.altitude_m + s * tan_e + CURVATURE * s * s


# --------------------------------------------------------------------------- ray tracing


def intersect_rays(
    terrain: Terrain,
    site: TowerSite,
    bearing_deg_: Any,
    elevation_deg: Any,
    *,
    max_range_m: float = MAX_RANGE_M,
    step_m: float | None = None,
    growth: float = 0.004,
    refine: int = 12,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Ground distance (m) where each ray first meets the terrain, and whether it did (else max range).

    Rays are marched together in steps of half the grid spacing (growing by `growth` times the
    distance so far beyond 4 km), then each bracket is refined by bisection. Rays above the highest
    terrain and rising are dropped early as sky.
    """
    bearing = np.atleast_1d(np.asarray(bearing_deg_, dtype=np.float64)).ravel()
    tan_e = np.tan(np.radians(np.atleast_1d(np.asarray(elevation_deg, dtype=np.float64)).ravel()))
    base = step_m if step_m is not None else max(2.0, terrain.spacing_m / 2.0)
    n = bearing.size
    hit = np.zeros(n, dtype=bool)
    near = np.zeros(n, dtype=np.float64)
    far = np.full(n, max_range_m, dtype=np.float64)
    s_prev = 0.0
    s = base
    active = np.arange(n)
    top = terrain.max_elevation_m
    while s <= max_range_m + 1e-6 and active.size:
        lat, lon = destination_np(site.lat, site.lon, bearing[active], s)
        te = tan_e[active]
        height = _ray_height(site, te, s)
        below = height - terrain.elevation(lat, lon) <= 0.0
        sky = (height > top) & (te + 2.0 * CURVATURE * s > 0.0)
        if np.any(below):
            idx = active[below]
            hit[idx] = True
            near[idx] = s_prev
            far[idx] = s
        if np.any(below | sky):
            active = active[~(below | sky)]
        s_prev = s
        s += max(base, s * growth) if s > 4000.0 else base
    if refine and np.any(hit):
        idx = np.flatnonzero(hit)
        lo, hi = near[idx], far[idx]
        b, te = bearing[idx], tan_e[idx]
        for _ in range(refine):
            mid = (lo + hi) / 2.0
            lat, lon = destination_np(site.lat, site.lon, b, mid)
            below = _ray_height(site, te, mid) - terrain.elevation(lat, lon) <= 0.0
            hi = np.where(below, mid, hi)
            lo = np.where(below, lo, mid)
        far[idx] = (lo + hi) / 2.0
    return far, hit


def line_of_sight(
    terrain: Terrain, site: TowerSite, lat: float, lon: float, altitude_m: float, clearance_m: float = 1.0
) -> bool:
    """Whether a point is visible from the camera: no terrain above the (refracted) sight line.

    `clearance_m` forgives terrain up to that much above the line (negative: demand a margin).
    """
    dist = distance_m(site.lat, site.lon, lat, lon)
    if dist < 1.0:
        return True
    bearing = bearing_deg(site.lat, site.lon, lat, lon)
    step = max(2.0, terrain.spacing_m / 2.0)
    s = np.arange(step, dist - step, step, dtype=np.float64)
    if s.size == 0:
        return True
    tan_e = (altitude_m - site.altitude_m - CURVATURE * dist * dist) / dist
    la, lo = destination_np(site.lat, site.lon, bearing, s)
    return bool(np.all(_ray_height(site, tan_e, s) + clearance_m >= terrain.elevation(la, lo)))


# --------------------------------------------------------------------------- the locator


class Geolocator:
    """Locates pixels seen by one tower camera on a terrain."""

    def __init__(
        self,
        site: TowerSite,
        camera: CameraModel,
        terrain: Terrain,
        *,
        pointing_sigma_deg: float = DEFAULT_POINTING_SIGMA_DEG,
        max_range_m: float = MAX_RANGE_M,
    ) -> None:
        self.site = site
        self.camera = camera
        self.terrain = terrain
        self.pointing_sigma_deg = pointing_sigma_deg
        self.max_range_m = max_range_m

    def angular_sigma_deg(self, centroid_sigma_px: float) -> float:
        """One-sigma angular error of a pixel direction: pointing repeatability and centroid noise."""
        pixel_deg = math.degrees(self.camera.ifov_rad) * centroid_sigma_px
        return math.hypot(self.pointing_sigma_deg, pixel_deg)

    def locate(self, pan_deg: float, tilt_deg: float, u: float, v: float, centroid_sigma_px: float = 0.3) -> Fix:
        """The terrain point seen at pixel (u, v), with its +-2 sigma uncertainty region.

        Also returns the ground area one pixel covers there (slope and foreshortening included).
        """
        rays_b, rays_e = self.camera.rays(pan_deg, tilt_deg, np.array([u, u + 0.5, u]), np.array([v, v, v + 0.5]))
        b0, e0 = float(rays_b[0]), float(rays_e[0])
        sigma = self.angular_sigma_deg(centroid_sigma_px) * SIGMA_BOUND
        # centre, then the near (lower) and far (upper) edges at left, middle and right, then the
        # half-pixel neighbours that give the pixel's ground footprint
        bs = np.array([b0, b0 - sigma, b0, b0 + sigma, b0 + sigma, b0, b0 - sigma, rays_b[1], rays_b[2]])
        es = np.array(
            [e0, e0 - sigma, e0 - sigma, e0 - sigma, e0 + sigma, e0 + sigma, e0 + sigma, rays_e[1], rays_e[2]]
        )
        dist, hit = intersect_rays(self.terrain, self.site, bs, es, max_range_m=self.max_range_m)
        lats, lons = destination_np(self.site.lat, self.site.lon, bs, dist)
        lat, lon = float(lats[0]), float(lons[0])
        altitude = float(self.terrain.elevation(np.array([lat]), np.array([lon]))[0])
        polygon = [(float(a), float(b)) for a, b in zip(lats[1:7], lons[1:7], strict=True)]
        pixel_area = None
        if hit[0] and hit[7] and hit[8]:
            pixel_area = (
                4.0
                * polygon_area_m2([(lat, lon), (float(lats[7]), float(lons[7])), (float(lats[8]), float(lons[8]))])
                * 2.0
            )
        uncertainty = max(distance_m(lat, lon, p[0], p[1]) for p in polygon)
        water = bool(self.terrain.is_water(np.array([lat]), np.array([lon]))[0])
        return Fix(
            lat=lat,
            lon=lon,
            altitude_m=altitude,
            distance_m=float(dist[0]),
            bearings={self.site.tower_id: b0},
            depression_deg=-e0,
            polygon=polygon,
            uncertainty_m=uncertainty,
            towers=[self.site.tower_id],
            on_water=water,
            hit_terrain=bool(hit[0]),
            pixel_area_m2=pixel_area,
        )

    def bearing_sigma_deg(self, centroid_sigma_px: float = 0.3) -> float:
        """One-sigma bearing error used for two-tower fixes."""
        return self.angular_sigma_deg(centroid_sigma_px)


# --------------------------------------------------------------------------- two towers


def _local_xy(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    d = distance_m(lat0, lon0, lat, lon)
    b = math.radians(bearing_deg(lat0, lon0, lat, lon))
    return d * math.sin(b), d * math.cos(b)


def _from_local(lat0: float, lon0: float, x: float, y: float) -> tuple[float, float]:
    return destination_point(lat0, lon0, math.degrees(math.atan2(x, y)) % 360.0, math.hypot(x, y))


def _cross(
    a_xy: tuple[float, float], bearing_a: float, b_xy: tuple[float, float], bearing_b: float
) -> tuple[float, float] | None:
    """Intersection of two rays in the plane, or None when parallel or behind either origin."""
    da = (math.sin(math.radians(bearing_a)), math.cos(math.radians(bearing_a)))
    db = (math.sin(math.radians(bearing_b)), math.cos(math.radians(bearing_b)))
    det = da[0] * (-db[1]) - da[1] * (-db[0])
    if abs(det) < 1e-9:
        return None
    rx, ry = b_xy[0] - a_xy[0], b_xy[1] - a_xy[1]
    ta = (rx * (-db[1]) - ry * (-db[0])) / det
    tb = (da[0] * ry - da[1] * rx) / det
    if ta <= 0 or tb <= 0:
        return None
    return a_xy[0] + ta * da[0], a_xy[1] + ta * da[1]


def fuse_bearings(
    site_a: TowerSite,
    bearing_a: float,
    sigma_a: float,
    site_b: TowerSite,
    bearing_b: float,
    sigma_b: float,
    terrain: Terrain,
) -> Fix | None:
    """The crossing of two towers' bearings, with the quadrilateral of the +-2 sigma crossings.

    Computed in a local tangent plane centred on the first estimate, then once more centred on the
    crossing itself, which keeps the plane's distortion to centimetres at 15 km. None when the
    bearings do not cross ahead of both towers or cross at less than 8 degrees.
    """
    crossing = abs((bearing_a - bearing_b + 180.0) % 360.0 - 180.0)
    if min(crossing, 180.0 - crossing) < MIN_CROSSING_DEG:
        return None
    lat0, lon0 = (site_a.lat + site_b.lat) / 2, (site_a.lon + site_b.lon) / 2
    point: tuple[float, float] | None = None
    for _ in range(2):
        a_xy, b_xy = _local_xy(lat0, lon0, site_a.lat, site_a.lon), _local_xy(lat0, lon0, site_b.lat, site_b.lon)
        # bearings are defined at each tower; in the plane centred elsewhere they rotate slightly
        ba = bearing_a + _convergence(site_a, lat0, lon0)
        bb = bearing_b + _convergence(site_b, lat0, lon0)
        xy = _cross(a_xy, ba, b_xy, bb)
        if xy is None:
            return None
        point = _from_local(lat0, lon0, *xy)
        lat0, lon0 = point
    assert point is not None
    lat, lon = point
    a_xy, b_xy = _local_xy(lat, lon, site_a.lat, site_a.lon), _local_xy(lat, lon, site_b.lat, site_b.lon)
    ba_c, bb_c = bearing_a + _convergence(site_a, lat, lon), bearing_b + _convergence(site_b, lat, lon)
    corners: list[tuple[float, float]] = []
    for sa, sb in ((-1, -1), (-1, 1), (1, 1), (1, -1)):
        xy = _cross(a_xy, ba_c + sa * SIGMA_BOUND * sigma_a, b_xy, bb_c + sb * SIGMA_BOUND * sigma_b)
        if xy is not None:
            corners.append(_from_local(lat, lon, *xy))
    if len(corners) < 3:
        return None
    altitude = float(terrain.elevation(np.array([lat]), np.array([lon]))[0])
    water = bool(terrain.is_water(np.array([lat]), np.array([lon]))[0])
    uncertainty = max(distance_m(lat, lon, c[0], c[1]) for c in corners)
    return Fix(
        lat=lat,
        lon=lon,
        altitude_m=altitude,
        distance_m=min(distance_m(site_a.lat, site_a.lon, lat, lon), distance_m(site_b.lat, site_b.lon, lat, lon)),
        bearings={site_a.tower_id: bearing_a, site_b.tower_id: bearing_b},
        depression_deg=None,
        polygon=corners,
        uncertainty_m=uncertainty,
        towers=[site_a.tower_id, site_b.tower_id],
        on_water=water,
    )


def _convergence(site: TowerSite, lat0: float, lon0: float) -> float:
    """Degrees to add to a bearing measured at `site` to express it in the plane centred at (lat0, lon0).

    On that tangent plane, north at the site is rotated by the meridian convergence
    (lon_site - lon0) * sin(lat); a site east of the centre sees its north lean west.
    """
    return -(site.lon - lon0) * math.sin(math.radians((site.lat + lat0) / 2))


def same_fire(a: Fix, b: Fix, margin_m: float = 250.0) -> bool:
    """Whether two fixes (possibly from different towers) can be the same fire."""
    return distance_m(a.lat, a.lon, b.lat, b.lon) <= a.uncertainty_m + b.uncertainty_m + margin_m


def polygon_area_m2(polygon: list[tuple[float, float]]) -> float:
    """Area of a small (lat, lon) polygon in square metres (local equirectangular projection)."""
    if len(polygon) < 3:
        return 0.0
    lat0 = sum(p[0] for p in polygon) / len(polygon)
    kx = 111_195.0 * math.cos(math.radians(lat0))
    pts = [(p[1] * kx, p[0] * 111_195.0) for p in polygon]
    area = 0.0
    for i, (x1, y1) in enumerate(pts):
        x2, y2 = pts[(i + 1) % len(pts)]
        area += x1 * y2 - x2 * y1
    return abs(area) / 2.0
