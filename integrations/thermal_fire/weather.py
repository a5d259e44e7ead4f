"""Fire weather: the Fosberg Fire Weather Index and the wind-driven spread direction and cone.

FFWI (Fosberg 1978, as used by the US National Weather Service): the equilibrium moisture
content m of fine fuels from air temperature and relative humidity (Simard 1968), a moisture
damping eta = 1 - 2(m/30) + 1.5(m/30)^2 - 0.5(m/30)^3, and the wind U in mph:
FFWI = eta * sqrt(1 + U^2) / 0.3002, capped at 100. It rises with wind and temperature and falls
with humidity; it has no memory of rain (the Canadian FWI does, but needs daily noon readings).
"""

from __future__ import annotations

import math
from typing import Any

from hub.helpers.geo import destination_point

from .const import DEFAULT_SPREAD_HORIZON_S
from .geojson import feature, point, polygon
from .scene import length_to_breadth

__all__ = [
    "FFWI_CLASSES",
    "equilibrium_moisture",
    "ffwi",
    "ffwi_class",
    "spread_cone",
    "spread_rate_ms",
]

# Indicative bands used by this hub (not an official scale): upper bounds and names.
FFWI_CLASSES = ((15.0, "low"), (30.0, "moderate"), (50.0, "high"), (75.0, "very_high"), (math.inf, "extreme"))


def equilibrium_moisture(temp_c: float, humidity_pct: float) -> float:
    """Equilibrium moisture content (%) of fine dead fuel (Simard 1968; temperature in deg F inside)."""
    h = max(0.0, min(100.0, humidity_pct))
    t = temp_c * 9.0 / 5.0 + 32.0
    if h < 10.0:
        m = 0.03229 + 0.281073 * h - 0.000578 * h * t
    elif h < 50.0:
        m = 2.22749 + 0.160107 * h - 0.01478 * t
    else:
        m = 21.0606 + 0.005565 * h * h - 0.00035 * h * t - 0.483199 * h
    return max(0.0, m)


def ffwi(temp_c: float, humidity_pct: float, wind_ms: float) -> float:
    """Fosberg Fire Weather Index (0-100) from temperature (C), humidity (%) and 10 m wind (m/s)."""
    m = min(30.0, equilibrium_moisture(temp_c, humidity_pct)) / 30.0
    eta = 1.0 - 2.0 * m + 1.5 * m * m - 0.5 * m * m * m
    u_mph = max(0.0, wind_ms) * 2.23694
    return round(min(100.0, eta * math.sqrt(1.0 + u_mph * u_mph) / 0.3002), 2)


def ffwi_class(value: float) -> str:
    """The indicative danger band of an FFWI value."""
    for upper, name in FFWI_CLASSES:
        if value < upper:
            return name
    return FFWI_CLASSES[-1][1]


def spread_rate_ms(wind_ms: float, dryness: float = 1.0) -> float:
    """Head-fire spread rate (m/s): about 10 % of the 10 m wind in dry fuel (Cruz & Alexander 2019's
    rule of thumb), scaled by `dryness` (1 dry, 0 wet), never under 1 m/min."""
    return max(1.0 / 60.0, 0.1 * max(0.0, wind_ms) * max(0.0, min(1.0, dryness)))


def spread_cone(
    lat: float,
    lon: float,
    wind_speed_ms: float,
    wind_from_deg: float,
    *,
    horizon_s: float = DEFAULT_SPREAD_HORIZON_S,
    dryness: float = 1.0,
    steps: int = 12,
) -> dict[str, Any]:
    """GeoJSON Feature: the sector where the fire is likely to be within `horizon_s`.

    The axis points downwind (wind_from + 180); the half-angle follows the fire ellipse's
    length-to-breadth ratio (asin(1 / LB), 90 degrees in calm air); the radius is the head-fire
    spread over the horizon.
    """
    direction = (wind_from_deg + 180.0) % 360.0
    lb = length_to_breadth(wind_speed_ms)
    half = math.degrees(math.asin(min(1.0, 1.0 / lb)))
    rate = spread_rate_ms(wind_speed_ms, dryness)
    radius = rate * horizon_s
    ring: list[tuple[float, float]] = [(lat, lon)]
    for i in range(steps + 1):
        bearing = direction - half + 2.0 * half * i / steps
        ring.append(destination_point(lat, lon, bearing % 360.0, radius))
    properties = {
        "kind": "spread_cone",
        "direction_deg": round(direction, 1),
        "half_angle_deg": round(half, 1),
        "length_m": round(radius, 1),
        "rate_m_per_min": round(rate * 60.0, 2),
        "horizon_s": horizon_s,
        "wind_speed_ms": wind_speed_ms,
        "wind_from_deg": wind_from_deg,
        "length_to_breadth": round(lb, 3),
    }
    return feature([polygon(ring), point(lat, lon)], properties)
