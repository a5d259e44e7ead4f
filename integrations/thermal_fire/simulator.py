"""A physically plausible radiometric PTZ camera on a tower, rendering the scene of `scene.py`.

Per preset the static geometry is traced once (range, land cover, terrain normal, view angles per
pixel). Each frame then computes surface temperatures for the time of day (air temperature cycle,
sun heating by slope and cover, hot rocks, a cold sky), adds sub-pixel sources in radiance at 10 um
(fires sampled over their ellipse, vehicles, ship hulls and funnels, chimneys) through a Gaussian
optical blur, flickering sun glint on the water, atmospheric and fog extinction with path
radiance, and sensor noise (NETD). Everything is seeded; `truth` records what was in each frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .const import COVER_ROCK, COVER_SEA, COVER_URBAN, COVER_VEGETATION, MAX_RANGE_M
from .elevation import ElevationGrid
from .geolocation import TowerSite, apparent_elevation, destination_np, intersect_rays, line_of_sight
from .optics import CameraModel, brightness_temperature, glint_angle_deg, planck_radiance, sun_position
from .scene import (
    Scenario,
    build_scene_objects,
    fire_elements,
    fire_shape,
    ship_position,
    vehicle_position,
)

__all__ = ["DETECTABLE_EXCESS_K", "FireTruth", "PresetGeometry", "SimulatedCamera"]

FloatArray = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

BACKGROUND_STEP_S = 60.0  # the static scene is recomputed once a simulated minute
NOISE_BANK = 6
NOISE_ROWS = 96
DETECTABLE_EXCESS_K = 4.0  # ground truth: a fire is "detectable" once its peak pixel is this much hotter
CLEAR_AIR_PER_KM = 0.03  # LWIR extinction of clear humid air (water vapour continuum)
PSF_SIGMA_PX = 0.55
_SPLAT = np.arange(-2, 3)


@dataclass(slots=True)
class PresetGeometry:
    """Static per-pixel geometry of one preset (full resolution)."""

    range_m: F32
    sky: npt.NDArray[np.bool_]
    cover: npt.NDArray[np.int8]
    sun_dot: tuple[F32, F32, F32]  # terrain normal (east, north, up)
    texture: F32
    elevation_deg: F32
    water_index: npt.NDArray[np.intp]
    water_bearing: F32
    water_elevation: F32


@dataclass(slots=True)
class FireTruth:
    """What the simulator knows about one ignition in one frame."""

    index: int
    lat: float
    lon: float
    started: bool
    in_frame: bool
    visible: bool
    u: float
    v: float
    distance_m: float
    peak_excess_k: float
    area_m2: float

    @property
    def detectable(self) -> bool:
        """Visible and at least DETECTABLE_EXCESS_K above its surroundings (before noise)."""
        return self.visible and self.peak_excess_k >= DETECTABLE_EXCESS_K


class SimulatedCamera:
    """One simulated tower camera. Blocking (numpy): call it from an executor or a worker."""

    def __init__(
        self,
        site: TowerSite,
        camera: CameraModel,
        terrain: ElevationGrid,
        presets: list[tuple[float, float]],
        scenario: Scenario,
        *,
        start_ts: float,
        decimation: int = 4,
        pointing_sigma_deg: float | None = None,
    ) -> None:
        self.site = site
        self.camera = camera
        self.terrain = terrain
        self.presets = presets
        self.scenario = scenario
        self.decimation = max(1, decimation)
        self.pointing_sigma_deg = scenario.pointing_sigma_deg if pointing_sigma_deg is None else pointing_sigma_deg
        self._rng = np.random.default_rng(scenario.seed)
        self._geometry: dict[int, PresetGeometry] = {}
        self.vehicles, self.ships = build_scene_objects(scenario, terrain, site.lat, site.lon, start_ts)
        self.preset = 0
        self.offset = (0.0, 0.0)
        self.truth: list[FireTruth] = []
        self._cache: _Background | None = None
        self._sight: dict[int, bool] = {}
        self._noise_bank: F32 | None = None
        gy, gx = np.gradient(terrain.data.astype(np.float64))
        cell_n = terrain.dlat * 111_195.0
        cell_e = terrain.dlon * 111_195.0 * math.cos(math.radians((terrain.north + terrain.south) / 2))
        # normal of z(x, y): (-dz/dx, -dz/dy, 1) normalised; rows run south so dz/dnorth = -gy/cell_n
        nx, ny = -gx / cell_e, gy / cell_n
        norm = np.sqrt(nx * nx + ny * ny + 1.0)
        self._normal = ((nx / norm).astype(np.float32), (ny / norm).astype(np.float32), (1.0 / norm).astype(np.float32))

    # ---- geometry

    def geometry(self, preset: int) -> PresetGeometry:
        """The traced static geometry of a preset (cached)."""
        if preset not in self._geometry:
            self._geometry[preset] = self._trace(preset)
        return self._geometry[preset]

    def _trace(self, preset: int) -> PresetGeometry:
        cam, d = self.camera, self.decimation
        pan, tilt = self.presets[preset]
        h, w = cam.height, cam.width
        vv, uu = np.mgrid[0:h:d, 0:w:d].astype(np.float64)
        uu += (d - 1) / 2.0
        vv += (d - 1) / 2.0
        bearing, elevation = cam.rays(pan, tilt, uu, vv)
        dist, hit = intersect_rays(
            self.terrain,
            self.site,
            bearing.ravel(),
            elevation.ravel(),
            max_range_m=MAX_RANGE_M,
            step_m=max(10.0, self.terrain.spacing_m),
            growth=0.01,
            refine=6,
        )
        lat, lon = destination_np(self.site.lat, self.site.lon, bearing.ravel(), dist)
        cover = self.terrain.cover(lat, lon)
        row = np.clip(np.rint((self.terrain.north - lat) / self.terrain.dlat), 0, self.terrain.rows - 1)
        col = np.clip(np.rint((lon - self.terrain.west) / self.terrain.dlon), 0, self.terrain.cols - 1)
        ri, ci = row.astype(np.intp), col.astype(np.intp)
        normal = tuple(n[ri, ci] for n in self._normal)

        def full(a: Any, dtype: Any) -> Any:
            grid = np.asarray(a).reshape(uu.shape)
            return np.repeat(np.repeat(grid, d, axis=0), d, axis=1)[:h, :w].astype(dtype)

        sky = full(~hit, bool)
        cover_full = full(cover, np.int8)
        cover_full[sky] = -1
        rng = np.random.default_rng(self.scenario.seed * 1000 + preset)
        from scipy import ndimage

        texture = ndimage.gaussian_filter(rng.standard_normal((h, w)).astype(np.float32), 1.2) * 2.2
        texture += (
            ndimage.zoom(rng.standard_normal((h // 16 + 2, w // 16 + 2)).astype(np.float32), 16, order=1)[:h, :w] * 0.6
        )
        vf, uf = np.mgrid[0:h, 0:w]
        b_full, e_full = cam.rays(pan, tilt, uf, vf)
        water = np.flatnonzero((cover_full == COVER_SEA).ravel())
        return PresetGeometry(
            range_m=full(dist, np.float32),
            sky=sky,
            cover=cover_full,
            sun_dot=(full(normal[0], np.float32), full(normal[1], np.float32), full(normal[2], np.float32)),
            texture=texture.astype(np.float32),
            elevation_deg=e_full.astype(np.float32),
            water_index=water,
            water_bearing=b_full.ravel()[water].astype(np.float32),
            water_elevation=e_full.ravel()[water].astype(np.float32),
        )

    # ---- pointing

    def goto(self, preset: int) -> None:
        """Move to a preset; the head stops within its repeatability (a new offset per visit)."""
        self.preset = preset
        sigma = self.pointing_sigma_deg
        self.offset = (float(self._rng.normal(0.0, sigma)), float(self._rng.normal(0.0, sigma)))

    # ---- rendering

    def air_temperature(self, ts: float) -> float:
        """Air temperature: a daily cosine peaking at 15:00 local solar time."""
        solar_hour = (ts / 3600.0 + self.site.lon / 15.0) % 24.0
        sc = self.scenario
        return sc.air_mean_k + sc.air_amplitude_k * math.cos(2 * math.pi * (solar_hour - 15.0) / 24.0)

    def _background(self, ts: float) -> _Background:
        """The static scene at a time (cached per preset, BACKGROUND_STEP_S bucket and pixel offset)."""
        cam = self.camera
        dx = round(self.offset[0] / math.degrees(cam.ifov_rad))
        dy = round(-self.offset[1] / math.degrees(cam.ifov_rad))
        bucket = int(ts // BACKGROUND_STEP_S)
        key = (self.preset, bucket, dx, dy)
        if self._cache is not None and self._cache.key == key:
            return self._cache
        mid = (bucket + 0.5) * BACKGROUND_STEP_S
        base = self._scene(self.preset, mid)
        if dx or dy:  # the head stopped a little off the preset: the static scene shifts by whole pixels
            base = _Background(
                key,
                *(np.roll(a, (-dy, -dx), axis=(0, 1)) for a in base.arrays()),
                t_air=base.t_air,
                sun=base.sun,
                glint_p=base.glint_p,
                water=base.water,
            )
        base.key = key
        if dx or dy:
            base.water = _roll_index(base.water, dy, dx, cam.height, cam.width)
        self._cache = base
        return base

    def _scene(self, preset: int, ts: float) -> _Background:
        geo = self.geometry(preset)
        sc = self.scenario
        t_air = self.air_temperature(ts)
        sun_az, sun_el = sun_position(self.site.lat, self.site.lon, ts)
        sun = np.array(
            [
                math.sin(math.radians(sun_az)) * math.cos(math.radians(sun_el)),
                math.cos(math.radians(sun_az)) * math.cos(math.radians(sun_el)),
                math.sin(math.radians(sun_el)),
            ],
            dtype=np.float32,
        )
        if sun_el > 0:
            strength = min(1.0, sun_el / 25.0) ** 0.5
            heat = np.maximum(
                0.0, geo.sun_dot[0] * sun[0] + geo.sun_dot[1] * sun[1] + geo.sun_dot[2] * sun[2]
            ) * np.float32(strength)
        else:
            heat = np.zeros_like(geo.texture)
        # per cover class: base offset from air, sun heating, texture amplitude
        base = np.zeros(5, dtype=np.float32)
        gain = np.zeros(5, dtype=np.float32)
        tex = np.zeros(5, dtype=np.float32)
        for cls, b0, g0, t0 in (
            (COVER_SEA, sc.sea_k - t_air, 0.6, 0.15),
            (COVER_VEGETATION, -2.5, 9.0, 0.7),
            (COVER_ROCK, 1.5, sc.rock_heating_k, 1.4),
            (COVER_URBAN, 2.0, 13.0, 2.0),
        ):
            base[cls], gain[cls], tex[cls] = b0, g0, t0
        idx = geo.cover.astype(np.intp)  # -1 (sky) picks the last slot, overwritten below
        temp = np.float32(t_air) + base[idx] + gain[idx] * heat + tex[idx] * geo.texture
        sky_t = t_air - 12.0 - 45.0 * np.sqrt(np.maximum(0.0, np.sin(np.radians(geo.elevation_deg))))
        temp = np.where(geo.sky, sky_t.astype(np.float32), temp)
        surface = planck_radiance(temp).astype(np.float64)
        tau = np.exp(-(CLEAR_AIR_PER_KM + sc.fog_per_km) * geo.range_m.astype(np.float64) / 1000.0)
        observed = surface * tau + (1.0 - tau) * float(planck_radiance(t_air))
        glint_p = None
        if sc.glint > 0 and sun_el > 0 and geo.water_index.size:
            angle = glint_angle_deg(geo.water_bearing, geo.water_elevation, sun_az, sun_el)
            sigma2 = 0.003 + 0.00512 * sc.wind_speed_ms  # Cox-Munk mean square wave slope
            tilt = np.tan(np.radians(angle) / 2.0)
            glint_p = 0.08 * min(1.0, sc.glint) * np.exp(-(tilt * tilt) / sigma2) * min(1.0, sun_el / 10.0)
        return _Background(
            (preset, 0, 0, 0),
            temp,
            surface,
            tau,
            observed,
            brightness_temperature(observed).astype(np.float32),
            t_air=t_air,
            sun=(sun_az, sun_el),
            glint_p=glint_p,
            water=geo.water_index,
        )

    def render(self, ts: float) -> F32:
        """A radiometric frame (kelvin, float32) at time `ts` for the current preset and offset.

        The static scene comes from a cache refreshed every BACKGROUND_STEP_S; glint and every
        source change a few pixels, which are recomputed in radiance; then sensor noise.
        """
        bg = self._background(ts)
        frame = bg.observed_k.copy()
        deltas: list[tuple[Any, Any]] = []
        glint = self._glint(bg)
        if glint is not None:
            deltas.append(glint)
        deltas.extend(self._sources(bg, ts).values())
        if deltas:
            flat = np.concatenate([d[0] for d in deltas])
            values = np.concatenate([d[1] for d in deltas])
            uniq, inverse = np.unique(flat, return_inverse=True)
            summed = np.bincount(inverse.ravel(), weights=values)
            frame.ravel()[uniq] = brightness_temperature(bg.observed.ravel()[uniq] + summed)
        frame += self._noise()
        return frame

    def _noise(self) -> F32:
        """Sensor noise (NETD): a slice of a pre-drawn bank at a random row offset and sign."""
        h, w = self.camera.height, self.camera.width
        if self._noise_bank is None:
            self._noise_bank = self._rng.standard_normal(
                (NOISE_BANK, h + NOISE_ROWS, w), dtype=np.float32
            ) * np.float32(self.scenario.netd_k)
        k = int(self._rng.integers(NOISE_BANK))
        r = int(self._rng.integers(NOISE_ROWS))
        noise = self._noise_bank[k, r : r + h]
        return noise if self._rng.random() < 0.5 else -noise

    def _glint(self, bg: _Background) -> tuple[Any, Any] | None:
        """Sun glint: independent sparkles on water pixels, Cox-Munk probability, every frame anew."""
        if bg.glint_p is None:
            return None
        sparkle = self._rng.random(bg.glint_p.shape) < bg.glint_p
        if not np.any(sparkle):
            return None
        flat = bg.water[sparkle]
        excess = self._rng.exponential(9.0 * self.scenario.glint, flat.size)
        base = bg.temp.ravel()[flat]
        delta = (planck_radiance(base + excess) - bg.surface.ravel()[flat]) * bg.tau.ravel()[flat]
        return flat, delta

    # ---- point sources

    def _pose(self) -> tuple[float, float]:
        pan, tilt = self.presets[self.preset]
        return pan + self.offset[0], tilt + self.offset[1]

    def _project(self, lat: Any, lon: Any, alt: Any) -> tuple[FloatArray, FloatArray, FloatArray, Any]:
        dist, bearing, elev = apparent_elevation(self.site, lat, lon, alt)
        pan, tilt = self._pose()
        u, v, front = self.camera.project(pan, tilt, bearing, elev)
        return u, v, dist, front

    def _pixel_density(self, lat: float, lon: float) -> float:
        """Pixels per square metre of ground at a point (projection Jacobian, slope included)."""
        step = 5.0
        lats, lons = destination_np(lat, lon, np.array([0.0, 90.0, 0.0]), np.array([0.0, step, step]))
        alts = self.terrain.elevation(lats, lons) + 0.5
        u, v, _, _ = self._project(lats, lons, alts)
        jac = np.array([[u[1] - u[0], u[2] - u[0]], [v[1] - v[0], v[2] - v[0]]]) / step
        return float(abs(np.linalg.det(jac)))

    def _visible(
        self, geo: PresetGeometry, u: FloatArray, v: FloatArray, dist: FloatArray, front: Any
    ) -> npt.NDArray[np.bool_]:
        cam = self.camera
        inside = front & cam.in_frame(u, v)
        ok = np.zeros(u.shape, dtype=bool)
        if np.any(inside):
            iu = np.clip(np.rint(u[inside]).astype(np.intp), 0, cam.width - 1)
            iv = np.clip(np.rint(v[inside]).astype(np.intp), 0, cam.height - 1)
            seen = geo.range_m[iv, iu] + 30.0 + 0.04 * dist[inside] >= dist[inside]
            ok[inside] = seen
        return ok

    def _splat(self, u: FloatArray, v: FloatArray, energy: FloatArray) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Spread radiance `energy` (pixel-area units) at sub-pixel points with the optical PSF."""
        cam = self.camera
        iu, iv = np.floor(u + 0.5).astype(np.intp), np.floor(v + 0.5).astype(np.intp)
        cols = iu[:, None] + _SPLAT[None, :]
        rows = iv[:, None] + _SPLAT[None, :]
        wx = np.exp(-((cols - u[:, None]) ** 2) / (2 * PSF_SIGMA_PX**2))
        wy = np.exp(-((rows - v[:, None]) ** 2) / (2 * PSF_SIGMA_PX**2))
        wx /= wx.sum(axis=1, keepdims=True)
        wy /= wy.sum(axis=1, keepdims=True)
        weights = (wy[:, :, None] * wx[:, None, :]) * energy[:, None, None]
        rr = np.broadcast_to(rows[:, :, None], weights.shape)
        cc = np.broadcast_to(cols[:, None, :], weights.shape)
        ok = (rr >= 0) & (rr < cam.height) & (cc >= 0) & (cc < cam.width)
        return (rr[ok] * cam.width + cc[ok]), weights[ok]

    def _add(
        self,
        bg: _Background,
        lat: FloatArray,
        lon: FloatArray,
        alt: FloatArray,
        area: FloatArray,
        temp: FloatArray,
        density: float,
    ) -> tuple[Any, Any] | None:
        """Ground elements (a fire) as radiance at the camera: coverage x contrast x transmission."""
        u, v, _, front = self._project(lat, lon, alt)
        vis = front & self.camera.in_frame(u, v, -2.0)
        if not np.any(vis):
            return None
        u, v, area, temp = u[vis], v[vis], area[vis], temp[vis]
        iu = np.clip(np.rint(u).astype(np.intp), 0, self.camera.width - 1)
        iv = np.clip(np.rint(v).astype(np.intp), 0, self.camera.height - 1)
        energy = area * density * (planck_radiance(temp) - bg.surface[iv, iu]) * bg.tau[iv, iu]
        return self._splat(u, v, energy)

    def _sources(self, bg: _Background, ts: float) -> dict[Any, tuple[Any, Any]]:
        sc = self.scenario
        geo = self.geometry(self.preset)
        out: dict[Any, tuple[Any, Any]] = {}
        self.truth = []
        for index, ign in enumerate(sc.ignitions):
            shape = fire_shape(ign, ts, sc.wind_speed_ms, sc.wind_from_deg)
            la, lo = np.array([ign.lat]), np.array([ign.lon])
            u0, v0, d0, front0 = self._project(la, lo, self.terrain.elevation(la, lo))
            truth = FireTruth(
                index,
                ign.lat,
                ign.lon,
                shape is not None,
                bool(front0[0] and self.camera.in_frame(u0, v0)[0]),
                False,
                float(u0[0]),
                float(v0[0]),
                float(d0[0]),
                0.0,
                shape["area_m2"] if shape else 0.0,
            )
            self.truth.append(truth)
            if shape is None or not truth.in_frame or not self._fire_in_sight(index, ign.lat, ign.lon):
                continue
            density = self._pixel_density(ign.lat, ign.lon)
            count = int(np.clip(shape["area_m2"] * density * 4.0, 12, 4000))
            elements = fire_elements(ign, ts, sc.wind_speed_ms, sc.wind_from_deg, count)
            assert elements is not None
            lat, lon, area, temp = elements
            alt = self.terrain.elevation(lat, lon) + 0.5
            delta = self._add(bg, lat, lon, alt, area, temp, density)
            if delta is not None:
                out[("fire", index)] = delta
                truth.visible = True
                truth.peak_excess_k = self._peak_excess(bg, delta)
        for index, veh in enumerate(self.vehicles):
            lat1, lon1 = vehicle_position(veh, ts)
            self._point(bg, geo, lat1, lon1, veh.area_m2, veh.temp_k, 1.0, out, ("veh", index))
        for index, ship in enumerate(self.ships):
            lat1, lon1 = ship_position(ship, ts)
            self._point(
                bg, geo, lat1, lon1, ship.hull_area_m2, sc.sea_k + ship.hull_excess_k, 2.0, out, ("hull", index)
            )
            self._point(bg, geo, lat1, lon1, ship.funnel_area_m2, ship.funnel_k, 15.0, out, ("funnel", index))
        for index, chimney in enumerate(sc.chimneys):
            self._point(
                bg, geo, chimney.lat, chimney.lon, chimney.area_m2, chimney.temp_k, 25.0, out, ("chimney", index)
            )
        return out

    def _fire_in_sight(self, index: int, lat: float, lon: float) -> bool:
        """Exact line of sight to an ignition point (cached: the tower and the ground do not move)."""
        if index not in self._sight:
            alt = float(self.terrain.elevation(np.array([lat]), np.array([lon]))[0]) + 1.0
            self._sight[index] = line_of_sight(self.terrain, self.site, lat, lon, alt)
        return self._sight[index]

    def _point(
        self,
        bg: _Background,
        geo: PresetGeometry,
        lat: float,
        lon: float,
        area_m2: float,
        temp_k: float,
        height_m: float,
        out: dict[Any, tuple[Any, Any]],
        key: Any,
    ) -> None:
        """An upright object facing the camera: a disc of its apparent area in the image."""
        la, lo = np.array([lat]), np.array([lon])
        alt = self.terrain.elevation(la, lo) + height_m
        u, v, dist, front = self._project(la, lo, alt)
        if not (front[0] and self.camera.in_frame(u, v, -2.0)[0]):
            return
        if not self._visible(geo, u, v, dist - height_m * 20.0, front)[0]:
            return
        area_px = area_m2 / (float(dist[0]) * self.camera.ifov_rad) ** 2
        n = int(np.clip(math.ceil(area_px * 2.0), 1, 400))
        k = np.arange(n) + 0.5
        r = np.sqrt(k / n) * math.sqrt(area_px / math.pi) if n > 1 else np.zeros(1)
        theta = k * math.pi * (3.0 - math.sqrt(5.0))
        us = u[0] + r * np.cos(theta) * 1.6  # objects are wider than tall
        vs = v[0] + r * np.sin(theta) / 1.6
        iu = int(np.clip(round(float(u[0])), 0, self.camera.width - 1))
        iv = int(np.clip(round(float(v[0])), 0, self.camera.height - 1))
        energy = np.full(n, area_px / n) * (planck_radiance(temp_k) - bg.surface[iv, iu]) * bg.tau[iv, iu]
        out[key] = self._splat(us, vs, energy)

    def _peak_excess(self, bg: _Background, delta: tuple[Any, Any]) -> float:
        """Ground truth: how much hotter the fire makes its brightest pixel (noise-free)."""
        flat, values = delta
        if flat.size == 0:
            return 0.0
        uniq, inverse = np.unique(flat, return_inverse=True)
        summed = np.bincount(inverse.ravel(), weights=values)
        base = bg.observed.ravel()[uniq]
        return float(np.max(brightness_temperature(base + summed) - brightness_temperature(base)))


class _Background:
    """One cached static scene: surface temperature and radiance, transmission, observed radiance/K."""

    __slots__ = ("glint_p", "key", "observed", "observed_k", "sun", "surface", "t_air", "tau", "temp", "water")

    def __init__(
        self,
        key: tuple[int, int, int, int],
        temp: Any,
        surface: Any,
        tau: Any,
        observed: Any,
        observed_k: Any,
        *,
        t_air: float,
        sun: tuple[float, float],
        glint_p: Any,
        water: Any,
    ) -> None:
        self.key = key
        self.temp, self.surface, self.tau, self.observed, self.observed_k = temp, surface, tau, observed, observed_k
        self.t_air = t_air
        self.sun = sun
        self.glint_p = glint_p
        self.water = water

    def arrays(self) -> tuple[Any, ...]:
        """The per-pixel arrays, in constructor order."""
        return self.temp, self.surface, self.tau, self.observed, self.observed_k


def _roll_index(flat: npt.NDArray[np.intp], dy: int, dx: int, height: int, width: int) -> npt.NDArray[np.intp]:
    """Flat pixel indices moved like np.roll(image, (-dy, -dx)) moves their pixels."""
    rows, cols = np.divmod(flat, width)
    return ((rows - dy) % height) * width + (cols - dx) % width
