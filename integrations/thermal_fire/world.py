"""The terrain every part agrees on, and the simulated world the simulator cameras see.

Terrain: the configured elevation grid when there is one; otherwise the simulator's synthetic
Ceuta terrain when a tower uses the simulator (so that geolocation and rendering agree); otherwise
flat sea-level ground. All towers, the worker processes and the fire registry use the same one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from .config import processor_spec, terrain_spec
from .elevation import ElevationGrid, Terrain
from .geolocation import TowerSite
from .optics import CameraModel
from .processor import TowerProcessor, build_terrain
from .scene import Chimney, Ignition, Scenario
from .simulator import SimulatedCamera

__all__ = ["SimWorld"]

_LOGGER = logging.getLogger(__name__)


class SimWorld:
    """One simulated world: terrain, weather, clutter and ignitions seen by every simulator camera."""

    def __init__(self, config: dict[str, Any], terrain: Terrain, start_ts: float) -> None:
        sim = config["simulator"]
        self.start_ts = start_ts
        self.terrain = terrain
        self.scenario = Scenario(
            seed=sim["seed"],
            vehicles=sim["vehicles"],
            ships=sim["ships"],
            fog_per_km=sim["fog_per_km"],
            glint=sim["glint"],
            wind_speed_ms=sim["wind_speed_ms"],
            wind_from_deg=sim["wind_from_deg"],
            chimneys=[Chimney(c["lat"], c["lon"], c["temp_k"], c["area_m2"]) for c in sim["chimneys"]],
            ignitions=[
                Ignition(i["lat"], i["lon"], start_ts + i["after_s"], ros0_ms=i["spread_ms"]) for i in sim["ignitions"]
            ],
            terrain_arcsec=sim["terrain_arcsec"],
        )
        self._config = config
        self._lock = threading.Lock()

    @classmethod
    def build(cls, config: dict[str, Any], start_ts: float) -> SimWorld:
        """Build the terrain and the world (blocking: seconds for the synthetic terrain)."""
        return cls(config, build_terrain(terrain_spec(config)), start_ts)

    def camera_for(self, tower: dict[str, Any], site: TowerSite | None = None) -> SimulatedCamera:
        """A simulated camera for a configured tower (blocking); `site` when the caller has it already."""
        if not isinstance(self.terrain, ElevationGrid):
            raise ValueError(f"tower {tower['id']}: the simulator renders on an elevation grid, not flat terrain")
        if site is None:
            spec = processor_spec(tower, self._config, terrain_spec(self._config))
            site = TowerProcessor(spec, terrain=self.terrain).site
        cam = tower["camera"]
        model = CameraModel(cam["width"], cam["height"], cam["hfov"], cam["vfov"])
        presets = [(p["pan"], p["tilt"]) for p in tower["presets"]]
        return SimulatedCamera(
            site,
            model,
            self.terrain,
            presets,
            self.scenario,
            start_ts=self.start_ts,
            decimation=max(1, cam["width"] // 160),
            pointing_sigma_deg=cam["pointing_sigma_deg"],
        )

    def render(self, camera: SimulatedCamera, ts: float) -> Any:
        """Render one frame (blocking; one camera at a time per world)."""
        with self._lock:
            return camera.render(ts)

    def ignite(self, lat: float, lon: float, ts: float, spread_ms: float = 0.01) -> Ignition:
        """Start a fire in the simulated world (for demonstrations and tests)."""
        ignition = Ignition(lat, lon, ts, ros0_ms=spread_ms)
        with self._lock:
            self.scenario.ignitions.append(ignition)
        _LOGGER.info("Simulated ignition at %.5f, %.5f", lat, lon)
        return ignition
