"""The simulator's world: a seeded Ceuta-like terrain, weather, ignitions, vehicles, ships, chimneys.

Everything here is ground truth in geographic coordinates; `simulator.py` renders it through a
camera. The terrain is synthetic but shaped like the site (the Monte Hacho peninsula, the isthmus,
the western heights, Benzu, Jebel Musa rising to 850 m ten kilometres west, the Strait to the
north, the Mediterranean to the east and south), so ranges of 1 to 15 km cross realistic relief.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hub.helpers.geo import distance_m

from .const import COVER_ROCK, COVER_SEA, COVER_URBAN, COVER_VEGETATION
from .elevation import ElevationGrid
from .geolocation import destination_np

__all__ = [
    "CEUTA_ORIGIN",
    "Chimney",
    "Ignition",
    "Scenario",
    "Ship",
    "Vehicle",
    "build_scene_objects",
    "ceuta_terrain",
    "fire_shape",
    "length_to_breadth",
]

FloatArray = npt.NDArray[np.float64]

CEUTA_ORIGIN = (35.8966, -5.2930)  # Monte Hacho tower; the synthetic site's (0, 0)
_KM_PER_DEG = 111.195

# Coastline of the synthetic site as (x east, y north) in km from Monte Hacho, land on the left.
_LAND_POLYGON = [
    (-30.0, 5.0),
    (-12.0, 4.2),
    (-9.0, 3.0),
    (-7.6, 2.5),
    (-6.5, 1.9),
    (-5.0, 1.5),
    (-3.2, 1.0),
    (-2.0, 0.55),
    (-1.0, 0.55),
    (-0.6, 0.85),
    (0.0, 0.95),
    (0.6, 0.7),
    (0.95, 0.1),
    (0.7, -0.5),
    (0.1, -0.8),
    (-0.6, -0.5),
    (-1.0, -0.15),
    (-2.0, -0.2),
    (-3.0, -0.7),
    (-4.2, -1.5),
    (-4.6, -2.6),
    (-5.0, -4.0),
    (-5.6, -5.5),
    (-6.3, -8.0),
    (-7.0, -12.0),
    (-7.5, -20.0),
    (-30.0, -20.0),
]
# Hills: (x km, y km, peak m, radius km)
_HILLS = [
    (0.0, 0.05, 160.0, 0.45),  # Monte Hacho
    (-5.0, 0.3, 240.0, 1.2),  # Garcia Aldave / western heights
    (-7.45, 2.05, 200.0, 0.7),  # Benzu heights (the tower stands on the top)
    (-10.8, 0.6, 700.0, 1.8),  # Jebel Musa
    (-14.5, -3.5, 420.0, 2.5),  # Anyera ridge
    (-9.8, -12.5, 620.0, 2.8),  # the ridge south-west, seen over the bay at 15 km
    (-18.0, 2.5, 380.0, 2.5),
]


@dataclass(frozen=True, slots=True)
class Ignition:
    """A fire that starts at `start_ts` at (lat, lon) and grows with the wind."""

    lat: float
    lon: float
    start_ts: float
    ros0_ms: float = 0.01  # no-wind spread rate (m/s)
    flame_k: float = 1000.0
    smoulder_k: float = 620.0
    r0_m: float = 0.4


@dataclass(frozen=True, slots=True)
class Chimney:
    """A known hot spot (stack, incinerator, kiln)."""

    lat: float
    lon: float
    temp_k: float = 460.0
    area_m2: float = 3.0


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A car or truck driving along a road segment, one after another (hot engine and exhaust)."""

    lat0: float
    lon0: float
    lat1: float
    lon1: float
    speed_ms: float
    phase_s: float
    temp_k: float = 345.0
    area_m2: float = 5.0


@dataclass(frozen=True, slots=True)
class Ship:
    """A ship on a straight course: a warm hull and a hot funnel."""

    lat0: float
    lon0: float
    bearing_deg: float
    speed_ms: float
    start_ts: float
    hull_excess_k: float = 6.0
    hull_area_m2: float = 250.0
    funnel_k: float = 430.0
    funnel_area_m2: float = 4.0


@dataclass(slots=True)
class Scenario:
    """Everything the simulator needs beyond the camera: weather, clutter and ignitions (seeded)."""

    seed: int = 1
    ignitions: list[Ignition] = field(default_factory=list)
    chimneys: list[Chimney] = field(default_factory=list)
    vehicles: int = 8
    ships: int = 4
    fog_per_km: float = 0.0  # LWIR extinction coefficient; 0.3-1 /km is fog that blinds the eye
    glint: float = 1.0  # scale of sun glint on the sea (0 turns it off)
    wind_speed_ms: float = 4.0
    wind_from_deg: float = 90.0  # levante
    air_mean_k: float = 291.0
    air_amplitude_k: float = 5.0
    sea_k: float = 290.0
    rock_heating_k: float = 26.0
    netd_k: float = 0.05
    pointing_sigma_deg: float = 0.01
    terrain_arcsec: float = 1.0


# --------------------------------------------------------------------------- terrain


def _inside(poly: list[tuple[float, float]], x: FloatArray, y: FloatArray) -> npt.NDArray[np.bool_]:
    inside = np.zeros(x.shape, dtype=bool)
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_cross)
    return inside


def _fractal(rng: np.random.Generator, shape: tuple[int, int], octaves: list[tuple[int, float]]) -> FloatArray:
    from scipy import ndimage  # lazy: the hub imports this module without running it
    out = np.zeros(shape, dtype=np.float64)
    for cells, amplitude in octaves:
        coarse = rng.standard_normal((max(2, shape[0] // cells + 2), max(2, shape[1] // cells + 2)))
        zoomed = ndimage.zoom(
            coarse, (shape[0] / (coarse.shape[0] - 1), shape[1] / (coarse.shape[1] - 1)), order=3, mode="nearest"
        )
        out += amplitude * zoomed[: shape[0], : shape[1]]
    return out


@functools.lru_cache(maxsize=4)
def ceuta_terrain(arcsec: float = 1.0, seed: int = 7) -> ElevationGrid:
    """The synthetic Ceuta site: elevation and land cover on an `arcsec` grid (cached per process)."""
    from scipy import ndimage  # lazy: the hub imports this module without running it
    lat0, lon0 = CEUTA_ORIGIN
    kx = _KM_PER_DEG * math.cos(math.radians(lat0))
    north, south = lat0 + 14.0 / _KM_PER_DEG, lat0 - 18.0 / _KM_PER_DEG
    west, east = lon0 - 26.0 / kx, lon0 + 12.0 / kx
    step = arcsec / 3600.0
    rows = round((north - south) / step) + 1
    cols = round((east - west) / step) + 1
    lats = north - np.arange(rows) * step
    lons = west + np.arange(cols) * step
    y = ((lats - lat0) * _KM_PER_DEG)[:, None] * np.ones((1, cols))
    x = ((lons - lon0) * kx)[None, :] * np.ones((rows, 1))
    land = _inside(_LAND_POLYGON, x, y)
    rng = np.random.default_rng(seed)
    cell_km = step * _KM_PER_DEG
    coast_km = ndimage.distance_transform_edt(land) * cell_km
    z = 8.0 + 15.0 * np.sqrt(coast_km)
    for hx, hy, peak, radius in _HILLS:
        z += peak * np.exp(-((x - hx) ** 2 + (y - hy) ** 2) / (2 * radius * radius))
    roughness = _fractal(rng, land.shape, [(int(1.5 / cell_km) or 1, 30.0), (int(0.4 / cell_km) or 1, 10.0)])
    z += roughness * np.minimum(1.0, coast_km / 0.5)
    z = np.where(land, np.maximum(z * np.minimum(1.0, 0.3 + coast_km / 0.3), 1.5), 0.0)
    cover = np.where(land, COVER_VEGETATION, COVER_SEA).astype(np.int8)
    urban = land & (z < 90.0) & (((x > -4.5) & (x < 0.6) & (y > -1.6)) | ((x < -5.0) & (x > -7.5) & (y < -4.0)))
    cover[urban] = COVER_URBAN
    slope = np.hypot(*np.gradient(z, cell_km * 1000.0))
    rocks = _fractal(rng, land.shape, [(max(1, int(0.12 / cell_km)), 1.0), (max(1, int(0.05 / cell_km)), 0.6)])
    cover[land & ~urban & (rocks > 1.25 - 2.0 * np.minimum(slope, 0.5))] = COVER_ROCK
    return ElevationGrid(z.astype(np.float32), north=north, west=west, dlat=step, dlon=step, land_cover=cover)


# --------------------------------------------------------------------------- fire growth


def length_to_breadth(wind_ms: float) -> float:
    """Length-to-breadth ratio of a wind-driven fire ellipse (Anderson 1983, midflame = 0.4 x 10 m wind)."""
    u_mph = max(0.0, wind_ms) * 0.4 * 2.23694
    return max(1.0, 0.936 * math.exp(0.2566 * u_mph) + 0.461 * math.exp(-0.1548 * u_mph) - 0.397)


def head_rate_ms(ros0_ms: float, wind_ms: float) -> float:
    """Head-fire spread rate: the no-wind rate scaled up by the 10 m wind (simple, documented)."""
    return ros0_ms * (1.0 + 0.6 * max(0.0, wind_ms))


def fire_shape(ignition: Ignition, t: float, wind_ms: float, wind_from_deg: float) -> dict[str, float] | None:
    """The fire's ellipse at time t: head/back distances, half-width, spread bearing; None before start."""
    age = t - ignition.start_ts
    if age < 0:
        return None
    lb = length_to_breadth(wind_ms)
    head = head_rate_ms(ignition.ros0_ms, wind_ms)
    hb = (lb + math.sqrt(lb * lb - 1.0)) / (lb - math.sqrt(lb * lb - 1.0)) if lb > 1.0 else 1.0
    head_m = ignition.r0_m + head * age
    back_m = ignition.r0_m + head / hb * age
    half_width = max(ignition.r0_m, (head_m + back_m) / (2.0 * lb))
    return {
        "head_m": head_m,
        "back_m": back_m,
        "half_width_m": half_width,
        "spread_deg": (wind_from_deg + 180.0) % 360.0,
        "head_rate_ms": head,
        "area_m2": math.pi * (head_m + back_m) / 2.0 * half_width,
    }


def fire_elements(
    ignition: Ignition, t: float, wind_ms: float, wind_from_deg: float, count: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None:
    """Sample points (lat, lon, area m2, temperature K) covering the burning ellipse at time t."""
    shape = fire_shape(ignition, t, wind_ms, wind_from_deg)
    if shape is None:
        return None
    n = max(1, count)
    a = (shape["head_m"] + shape["back_m"]) / 2.0
    b = shape["half_width_m"]
    offset = (shape["head_m"] - shape["back_m"]) / 2.0
    k = np.arange(n) + 0.5
    r = np.sqrt(k / n)
    theta = k * math.pi * (3.0 - math.sqrt(5.0))  # sunflower: even cover of the disc
    along = offset + a * r * np.cos(theta)
    across = b * r * np.sin(theta)
    spread = math.radians(shape["spread_deg"])
    east = along * math.sin(spread) + across * math.cos(spread)
    north = along * math.cos(spread) - across * math.sin(spread)
    dist = np.hypot(east, north)
    lat, lon = destination_np(ignition.lat, ignition.lon, np.degrees(np.arctan2(east, north)), dist)
    flame_depth = max(1.5, shape["head_rate_ms"] * 90.0)
    edge = (1.0 - r) * min(a, b)
    temp = np.where(edge < flame_depth, ignition.flame_k, ignition.smoulder_k)
    area = np.full(n, math.pi * a * b / n)
    return lat, lon, area, temp


# --------------------------------------------------------------------------- traffic


def _local(lat0: float, lon0: float, x_m: Any, y_m: Any) -> tuple[FloatArray, FloatArray]:
    x, y = np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64)
    return destination_np(lat0, lon0, np.degrees(np.arctan2(x, y)), np.hypot(x, y))


def build_scene_objects(
    scenario: Scenario, terrain: ElevationGrid, lat0: float, lon0: float, start_ts: float
) -> tuple[list[Vehicle], list[Ship]]:
    """Seeded vehicles on land segments 0.5-6 km from (lat0, lon0), and ships on open water."""
    rng = np.random.default_rng(scenario.seed * 7919 + 11)
    vehicles: list[Vehicle] = []
    tries = 0
    while len(vehicles) < scenario.vehicles and tries < 2000:
        tries += 1
        r = rng.uniform(500.0, 6000.0)
        ang = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(800.0, 2500.0)
        heading = rng.uniform(0, 2 * math.pi)
        xs = np.array([r * math.sin(ang), r * math.sin(ang) + length * math.sin(heading)])
        ys = np.array([r * math.cos(ang), r * math.cos(ang) + length * math.cos(heading)])
        lats, lons = _local(lat0, lon0, np.linspace(xs[0], xs[1], 12), np.linspace(ys[0], ys[1], 12))
        if np.any(terrain.cover(lats, lons) == COVER_SEA):
            continue
        vehicles.append(
            Vehicle(
                float(lats[0]),
                float(lons[0]),
                float(lats[-1]),
                float(lons[-1]),
                speed_ms=float(rng.uniform(8.0, 22.0)),
                phase_s=float(rng.uniform(0, 600)),
            )
        )
    ships: list[Ship] = []
    tries = 0
    while len(ships) < scenario.ships and tries < 2000:
        tries += 1
        r = rng.uniform(2000.0, 16000.0)
        ang = rng.uniform(0, 2 * math.pi)
        lat, lon = _local(lat0, lon0, r * math.sin(ang), r * math.cos(ang))
        bearing = float(rng.uniform(0, 360))
        ahead_lat, ahead_lon = destination_np(float(lat), float(lon), np.full(8, bearing), np.linspace(0, 6000.0, 8))
        if np.any(terrain.cover(ahead_lat, ahead_lon) != COVER_SEA):
            continue
        ships.append(
            Ship(
                float(lat),
                float(lon),
                bearing,
                speed_ms=float(rng.uniform(2.0, 9.0)),
                start_ts=start_ts - float(rng.uniform(0, 300)),
            )
        )
    return vehicles, ships


def vehicle_position(vehicle: Vehicle, t: float) -> tuple[float, float]:
    """Where a vehicle is at time t: it drives the segment one way, and the next one starts over."""
    length = max(1.0, distance_m(vehicle.lat0, vehicle.lon0, vehicle.lat1, vehicle.lon1))
    f = ((t + vehicle.phase_s) * vehicle.speed_ms % length) / length
    return vehicle.lat0 + f * (vehicle.lat1 - vehicle.lat0), vehicle.lon0 + f * (vehicle.lon1 - vehicle.lon0)


def ship_position(ship: Ship, t: float) -> tuple[float, float]:
    """Where a ship is at time t (it sails back and forth along 6 km of its course)."""
    travelled = max(0.0, t - ship.start_ts) * ship.speed_ms % 12000.0
    along = travelled if travelled <= 6000.0 else 12000.0 - travelled
    lat, lon = destination_np(ship.lat0, ship.lon0, ship.bearing_deg, along)
    return float(lat), float(lon)
