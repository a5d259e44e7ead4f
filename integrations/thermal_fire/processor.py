"""Everything one tower's frames go through, in the worker process: detect, track, locate, report.

`TowerProcessor` is plain synchronous numpy; `worker.py` runs it in its own process. A frame in
gives a JSON-able `result` out: counts, and the events (alarm, update, clear) with the located
fix, size, confidence, history and a thumbnail.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .background import BackgroundModel
from .detection import (
    DAY_PROFILE,
    NIGHT_PROFILE,
    DetectionProfile,
    detect_hotspots,
    is_day,
    refine_centroid,
)
from .elevation import FlatTerrain, Terrain, load_terrain
from .geolocation import Fix, Geolocator, TowerSite, apparent_elevation, destination_np, intersect_rays
from .imaging import thumbnail
from .optics import CameraModel, glint_angle_deg, planck_radiance, sun_position
from .tracking import Track, Tracker

__all__ = ["PresetState", "TowerProcessor", "build_terrain"]

MAX_VISIT_FRAMES = 30  # a camera that never moves still refreshes its reference this often
ASSUMED_FLAME_K = 1000.0  # for the sub-pixel burning-area estimate (Dozier-style, one band)


def build_terrain(spec: dict[str, Any] | None) -> Terrain:
    """Terrain from a picklable spec: {"type": "grid", "path"}, {"type": "synthetic", ...} or flat."""
    if not spec or spec.get("type") == "flat":
        return FlatTerrain(float((spec or {}).get("height_m", 0.0)))
    if spec["type"] == "grid":
        return load_terrain(spec["path"])
    if spec["type"] == "synthetic":
        from .scene import ceuta_terrain

        return ceuta_terrain(float(spec.get("arcsec", 1.0)), int(spec.get("seed", 7)))
    raise ValueError(f"unknown terrain type {spec['type']!r}")


@dataclass(slots=True)
class PresetState:
    """Per-preset detection state: reference image, tracks, masks."""

    pan: float
    tilt: float
    name: str
    background: BackgroundModel = field(default_factory=BackgroundModel)
    tracker: Tracker = field(default_factory=Tracker)
    exclusion: npt.NDArray[np.bool_] | None = None
    water: npt.NDArray[np.uint8] | None = None
    visit_frames: int = 0
    last_ts: float = 0.0


class TowerProcessor:
    """Detection, tracking and geolocation for one tower camera."""

    def __init__(self, spec: dict[str, Any], terrain: Terrain | None = None) -> None:
        self.spec = spec
        cam = spec["camera"]
        self.camera = CameraModel(int(cam["width"]), int(cam["height"]), float(cam["hfov"]), float(cam["vfov"]))
        self.terrain = terrain if terrain is not None else build_terrain(spec.get("terrain"))
        altitude = spec.get("altitude_m")
        if altitude is None:
            ground = float(self.terrain.elevation(np.array([spec["lat"]]), np.array([spec["lon"]]))[0])
            altitude = ground + float(spec.get("height_m", 0.0))
        self.site = TowerSite(spec["id"], float(spec["lat"]), float(spec["lon"]), float(altitude))
        self.locator = Geolocator(
            self.site, self.camera, self.terrain, pointing_sigma_deg=float(cam.get("pointing_sigma_deg", 0.01))
        )
        profiles = spec.get("profiles") or {}
        self.day = DAY_PROFILE.with_overrides(profiles.get("day"))
        self.night = NIGHT_PROFILE.with_overrides(profiles.get("night"))
        self.water_decimation = int(spec.get("water_decimation", 8))
        self.presets = [
            PresetState(float(p["pan"]), float(p["tilt"]), str(p.get("name", i))) for i, p in enumerate(spec["presets"])
        ]
        for index, preset in enumerate(spec["presets"]):
            self._build_exclusion(index, preset.get("exclusions") or [])
        self.current: int | None = None
        self.frames = 0

    # ---- masks

    def _build_exclusion(self, index: int, exclusions: list[dict[str, Any]]) -> None:
        state = self.presets[index]
        mask = np.zeros((self.camera.height, self.camera.width), dtype=bool)
        for item in exclusions:
            if "rect" in item:
                c0, r0, c1, r1 = (int(x) for x in item["rect"])
                mask[max(0, r0) : r1 + 1, max(0, c0) : c1 + 1] = True
            elif "lat" in item:
                la, lo = np.array([float(item["lat"])]), np.array([float(item["lon"])])
                alt = self.terrain.elevation(la, lo) + float(item.get("height_m", 0.0))
                dist, bearing, elev = apparent_elevation(self.site, la, lo, alt)
                u, v, front = self.camera.project(state.pan, state.tilt, bearing, elev)
                if not front[0]:
                    continue
                radius = float(item.get("radius_m", 50.0)) / max(1.0, float(dist[0]) * self.camera.ifov_rad) + 1.5
                vv, uu = np.ogrid[: self.camera.height, : self.camera.width]
                mask |= (uu - float(u[0])) ** 2 + ((vv - float(v[0])) * 1.0) ** 2 <= radius * radius
        state.exclusion = mask if mask.any() else None

    def add_exclusion(self, preset: int, bbox: tuple[int, int, int, int], margin: int = 3) -> list[int]:
        """Exclude a pixel rectangle (with a margin) of a preset; returns the rectangle used."""
        state = self.presets[preset]
        c0, r0, c1, r1 = bbox
        rect = [
            max(0, c0 - margin),
            max(0, r0 - margin),
            min(self.camera.width - 1, c1 + margin),
            min(self.camera.height - 1, r1 + margin),
        ]
        if state.exclusion is None:
            state.exclusion = np.zeros((self.camera.height, self.camera.width), dtype=bool)
        state.exclusion[rect[1] : rect[3] + 1, rect[0] : rect[2] + 1] = True
        return rect

    def clear_exclusions(self, preset: int | None = None) -> None:
        """Forget run-time exclusions (configured ones are rebuilt)."""
        for index in range(len(self.presets)) if preset is None else [preset]:
            self._build_exclusion(index, self.spec["presets"][index].get("exclusions") or [])

    def dismiss(self, preset: int, track_id: int) -> bool:
        """Silence a track (an operator dismissed it); it still counts as seen, so it cannot re-alarm."""
        track = self.presets[preset].tracker.tracks.get(track_id)
        if track is None:
            return False
        track.suppressed = True
        return True

    def water_mask(self, index: int) -> npt.NDArray[np.uint8] | None:
        """Per pixel of a preset: 2 open water (within a pixel), 1 within 3 px of water, 0 land.

        Traced once at a decimated resolution, hence the margins: the trace is blocky and coast
        pixels mix land and sea.
        """
        from scipy import ndimage  # lazy: the hub imports this module without running it
        state = self.presets[index]
        if state.water is not None or isinstance(self.terrain, FlatTerrain):
            return state.water
        d = self.water_decimation
        vv, uu = np.mgrid[0 : self.camera.height : d, 0 : self.camera.width : d].astype(np.float64)
        bearing, elevation = self.camera.rays(state.pan, state.tilt, uu + (d - 1) / 2, vv + (d - 1) / 2)
        dist, hit = intersect_rays(
            self.terrain,
            self.site,
            bearing.ravel(),
            elevation.ravel(),
            step_m=max(10.0, self.terrain.spacing_m),
            growth=0.01,
            refine=4,
        )
        lat, lon = destination_np(self.site.lat, self.site.lon, bearing.ravel(), dist)
        water = (self.terrain.is_water(lat, lon) & hit).reshape(uu.shape)
        full = np.repeat(np.repeat(water, d, axis=0), d, axis=1)[: self.camera.height, : self.camera.width]
        near = ndimage.binary_dilation(full, structure=np.ones((7, 7), dtype=bool))
        core = ndimage.binary_dilation(full, structure=np.ones((3, 3), dtype=bool))
        state.water = near.astype(np.uint8) + core.astype(np.uint8)
        return state.water

    # ---- frames

    def profile_at(self, ts: float) -> tuple[DetectionProfile, str, tuple[float, float]]:
        """The day or night profile for a time, with the sun's azimuth and elevation."""
        sun = sun_position(self.site.lat, self.site.lon, ts)
        return (self.day, "day", sun) if is_day(sun[1]) else (self.night, "night", sun)

    def _switch(self, preset: int) -> None:
        if self.current is not None and self.current != preset:
            self._close_visit(self.current)
        self.current = preset

    def _close_visit(self, index: int) -> None:
        state = self.presets[index]
        state.background.protect = state.tracker.protected_boxes()
        state.background.close_visit(state.last_ts, max_age_s=self.day.max_reference_age_s)
        state.visit_frames = 0

    def process(
        self,
        frame: npt.NDArray[Any],
        ts: float,
        preset: int,
        seq: int = 0,
        pan: float | None = None,
        tilt: float | None = None,
    ) -> dict[str, Any]:
        """Detect, track and report one frame of `preset` (kelvin, H x W)."""
        started = time.perf_counter()
        if frame.shape != (self.camera.height, self.camera.width):
            raise ValueError(
                f"frame is {frame.shape}, camera {self.site.tower_id} is {self.camera.height}x{self.camera.width}"
            )
        data = np.ascontiguousarray(frame, dtype=np.float32)
        self._switch(preset)
        state = self.presets[preset]
        pan = state.pan if pan is None else pan
        tilt = state.tilt if tilt is None else tilt
        profile, regime, sun = self.profile_at(ts)
        water = self.water_mask(preset)
        if state.visit_frames == 0:  # a new visit: where did the head stop this time?
            state.background.register(data)

        def glint(rows: Any, cols: Any) -> Any:
            b, e = self.camera.rays(pan, tilt, cols, rows)
            return glint_angle_deg(b, e, sun[0], sun[1]) if sun[1] > 0 else np.full(np.shape(rows), 180.0)

        spots = detect_hotspots(
            data, profile, state.background, ts, exclusion=state.exclusion, water=water, glint_angle=glint
        )
        state.last_ts = ts
        events = state.tracker.update(ts, spots, profile)
        state.background.accumulate(data)
        state.visit_frames += 1
        if state.visit_frames >= MAX_VISIT_FRAMES:
            self._close_visit(preset)
        self.frames += 1
        reports = [self._report(kind.kind, kind.track, preset, pan, tilt, data, profile) for kind in events]
        return {
            "tower": self.site.tower_id,
            "preset": preset,
            "seq": seq,
            "ts": ts,
            "profile": regime,
            "hotspots": len(spots),
            "tracks": len(state.tracker.tracks),
            "events": reports,
            "elapsed_ms": (time.perf_counter() - started) * 1000.0,
        }

    def _report(
        self,
        kind: str,
        track: Track,
        preset: int,
        pan: float,
        tilt: float,
        frame: npt.NDArray[np.float32],
        profile: DetectionProfile,
    ) -> dict[str, Any]:
        spot = track.last.spot
        if kind != "clear":
            refine_centroid(frame, spot)
        report: dict[str, Any] = {
            "kind": kind,
            "track_id": track.track_id,
            "preset": preset,
            "preset_name": self.presets[preset].name,
            "tower": self.site.tower_id,
            "hotspot": spot.as_dict(),
            "confidence": track.confidence(profile),
            "growth_per_min": round(track.growth_per_min(), 4),
            "history": track.history_summary(),
            "first_ts": track.history[0].ts,
            "ts": track.last.ts,
        }
        if kind == "clear":
            return report
        sigma_px = 0.15 if spot.pixels > 1 else 0.3
        fix = self.locator.locate(pan, tilt, spot.u, spot.v, centroid_sigma_px=sigma_px)
        report["fix"] = fix.as_dict()
        report["bearing_sigma_deg"] = self.locator.bearing_sigma_deg(sigma_px)
        report["size_m2"] = self._burning_area(spot.energy, spot.background_k, fix)
        report["thumbnail"] = thumbnail(frame, (spot.u, spot.v))
        report["front"] = self._front(spot.outline(), pan, tilt, fix)
        return report

    def _burning_area(self, energy: float, background_k: float, fix: Fix) -> float | None:
        """Burning area (m2) from the radiance excess, assuming flames at 1000 K (sub-pixel estimate)."""
        if fix.pixel_area_m2 is None:
            return None
        contrast = float(planck_radiance(ASSUMED_FLAME_K) - planck_radiance(background_k))
        if contrast <= 0:
            return None
        return round(energy / contrast * fix.pixel_area_m2, 2)

    def _front(self, outline: list[tuple[float, float]], pan: float, tilt: float, fix: Fix) -> list[list[float]]:
        """The hotspot's outline on the ground (lat, lon ring); the fix's region when it is tiny."""
        if len(outline) < 3:
            return [list(p) for p in fix.polygon]
        if len(outline) > 24:  # keep the ring small: every n-th hull vertex
            step = math.ceil(len(outline) / 24)
            outline = outline[::step]
        us = np.array([p[0] for p in outline])
        vs = np.array([p[1] for p in outline])
        bearing, elevation = self.camera.rays(pan, tilt, us, vs)
        dist, hit = intersect_rays(self.terrain, self.site, bearing, elevation)
        if not np.all(hit):
            return [list(p) for p in fix.polygon]
        lat, lon = destination_np(self.site.lat, self.site.lon, bearing, dist)
        return [[float(a), float(b)] for a, b in zip(lat, lon, strict=True)]
