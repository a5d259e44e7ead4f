"""Camera and sky geometry: the pinhole PTZ model, the sun's position, glint angles, LWIR radiometry."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .const import PLANCK_C2_UM_K, WAVELENGTH_UM

__all__ = [
    "CameraModel",
    "brightness_temperature",
    "glint_angle_deg",
    "planck_radiance",
    "sun_position",
]

FloatArray = npt.NDArray[np.float64]
_C2_OVER_LAMBDA = PLANCK_C2_UM_K / WAVELENGTH_UM  # K


def planck_radiance(temperature_k: Any) -> Any:
    """Relative spectral radiance at 10 um for a brightness temperature (Planck's law, unit-free).

    Mixing sub-pixel sources, fog and glint is done in radiance, then converted back, which is how a
    radiometric LWIR camera sees a small fire: far dimmer than its flame temperature.
    """
    t = np.asarray(temperature_k)
    return 1.0 / np.expm1(_C2_OVER_LAMBDA / np.maximum(t, 1.0))


def brightness_temperature(radiance: Any) -> Any:
    """Inverse of `planck_radiance`: the brightness temperature in kelvin."""
    r = np.maximum(np.asarray(radiance), 1e-30)
    return _C2_OVER_LAMBDA / np.log1p(1.0 / r)


@dataclass(frozen=True, slots=True)
class CameraModel:
    """A pinhole camera on a pan/tilt head with no roll.

    Pixel (u, v) has its centre at column u, row v (0-based, v down). Pan is the optical axis'
    bearing (degrees clockwise from true north), tilt its elevation (degrees, negative looks down).
    """

    width: int
    height: int
    hfov_deg: float
    vfov_deg: float

    @property
    def fx(self) -> float:
        """Focal length in pixels along the rows."""
        return (self.width / 2.0) / math.tan(math.radians(self.hfov_deg) / 2.0)

    @property
    def fy(self) -> float:
        """Focal length in pixels along the columns."""
        return (self.height / 2.0) / math.tan(math.radians(self.vfov_deg) / 2.0)

    @property
    def ifov_rad(self) -> float:
        """Instantaneous field of view of the centre pixel (radians, horizontal)."""
        return 1.0 / self.fx

    def _axes(self, pan_deg: float, tilt_deg: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        p, t = math.radians(pan_deg), math.radians(tilt_deg)
        forward = np.array([math.sin(p) * math.cos(t), math.cos(p) * math.cos(t), math.sin(t)])
        right = np.array([math.cos(p), -math.sin(p), 0.0])
        up = np.array([-math.sin(p) * math.sin(t), -math.cos(p) * math.sin(t), math.cos(t)])
        return forward, right, up

    def rays(self, pan_deg: float, tilt_deg: float, u: Any, v: Any) -> tuple[FloatArray, FloatArray]:
        """Bearing and elevation (degrees) of the rays through pixels (u, v); arrays broadcast."""
        forward, right, up = self._axes(pan_deg, tilt_deg)
        x = (np.asarray(u, dtype=np.float64) - (self.width - 1) / 2.0) / self.fx
        y = (np.asarray(v, dtype=np.float64) - (self.height - 1) / 2.0) / self.fy
        de = forward[0] + x * right[0] - y * up[0]
        dn = forward[1] + x * right[1] - y * up[1]
        du = forward[2] + x * right[2] - y * up[2]
        bearing = np.degrees(np.arctan2(de, dn)) % 360.0
        elevation = np.degrees(np.arctan2(du, np.hypot(de, dn)))
        return bearing, elevation

    def project(
        self, pan_deg: float, tilt_deg: float, bearing_deg: Any, elevation_deg: Any
    ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
        """Pixel coordinates (u, v) of directions, and whether each lies in front of the camera."""
        forward, right, up = self._axes(pan_deg, tilt_deg)
        b = np.radians(np.asarray(bearing_deg, dtype=np.float64))
        e = np.radians(np.asarray(elevation_deg, dtype=np.float64))
        d = np.stack([np.sin(b) * np.cos(e), np.cos(b) * np.cos(e), np.sin(e)], axis=-1)
        zc = d @ forward
        xc = d @ right
        yc = -(d @ up)
        front = zc > 1e-9
        safe = np.where(front, zc, 1.0)
        u = (self.width - 1) / 2.0 + self.fx * xc / safe
        v = (self.height - 1) / 2.0 + self.fy * yc / safe
        return u, v, front

    def in_frame(self, u: Any, v: Any, margin: float = 0.0) -> npt.NDArray[np.bool_]:
        """Whether pixel coordinates fall inside the image (with a margin in pixels)."""
        uu, vv = np.asarray(u), np.asarray(v)
        return (
            (uu >= -0.5 + margin)
            & (uu <= self.width - 0.5 - margin)
            & (vv >= -0.5 + margin)
            & (vv <= self.height - 0.5 - margin)
        )


def sun_position(lat: float, lon: float, timestamp: float) -> tuple[float, float]:
    """Solar azimuth (degrees from north, clockwise) and elevation (degrees) at a UTC timestamp.

    NOAA's low-precision algorithm (declination and equation of time from the fractional year):
    about 0.5 degree, enough for heating and glint geometry.
    """
    tm = time.gmtime(timestamp)
    day_of_year = tm.tm_yday
    hour = tm.tm_hour + tm.tm_min / 60.0 + tm.tm_sec / 3600.0 + (timestamp % 1.0) / 3600.0
    gamma = 2.0 * math.pi / 365.0 * (day_of_year - 1 + (hour - 12.0) / 24.0)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    true_solar_minutes = hour * 60.0 + eqtime + 4.0 * lon
    hour_angle = math.radians(true_solar_minutes / 4.0 - 180.0)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(hour_angle)
    cos_zenith = max(-1.0, min(1.0, cos_zenith))
    zenith = math.acos(cos_zenith)
    elevation = 90.0 - math.degrees(zenith)
    azimuth = (
        math.degrees(
            math.atan2(
                math.sin(hour_angle),
                math.cos(hour_angle) * math.sin(phi) - math.tan(decl) * math.cos(phi),
            )
        )
        + 180.0
    )
    return azimuth % 360.0, elevation


def glint_angle_deg(
    view_bearing_deg: Any, view_elevation_deg: Any, sun_azimuth_deg: float, sun_elevation_deg: float
) -> Any:
    """Angle between the sun and the mirror reflection of a viewing ray on flat water (degrees).

    Small angles mean the camera looks at the sun's reflection (MODIS rejects water pixels under
    12 degrees); for a ray looking up (no water hit) the angle is 180.
    """
    b = np.radians(np.asarray(view_bearing_deg, dtype=np.float64))
    e = np.radians(np.asarray(view_elevation_deg, dtype=np.float64))
    sa, se = math.radians(sun_azimuth_deg), math.radians(sun_elevation_deg)
    # reflected ray: same horizontal direction, vertical component flipped (looking down -> up)
    rx, ry, rz = np.sin(b) * np.cos(e), np.cos(b) * np.cos(e), -np.sin(e)
    sx, sy, sz = math.sin(sa) * math.cos(se), math.cos(sa) * math.cos(se), math.sin(se)
    cos_angle = np.clip(rx * sx + ry * sy + rz * sz, -1.0, 1.0)
    angle = np.degrees(np.arccos(cos_angle))
    return np.where(e < 0, angle, 180.0)
