"""Seeded simulator scenarios and a harness that scores detection against ground truth.

Used by the tests and by `bench/fire.py`: towers on the synthetic Ceuta terrain scan their
presets (dwell, move, next), every frame goes through a `TowerProcessor`, alarms go through a
`FireRegistry`, and the harness records detection delay (frames from first detectable to alarm),
false alarms and location errors. Runs synchronously; no hub, no event loop.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hub.helpers.geo import destination_point, distance_m

from .elevation import ElevationGrid
from .fires import FireChange, FireRegistry
from .geolocation import TowerSite, destination_np, line_of_sight
from .optics import CameraModel
from .processor import TowerProcessor
from .scene import Chimney, Ignition, Scenario, ceuta_terrain
from .simulator import SimulatedCamera

__all__ = [
    "BENZU",
    "BENZU_PRESETS",
    "HACHO",
    "HACHO_PRESETS",
    "POWER_STATION",
    "Rig",
    "RunResult",
    "Schedule",
    "location_errors",
    "percentile",
    "run",
    "tower_spec",
    "utc",
    "visible_point",
]

HACHO = {"id": "hacho", "name": "Monte Hacho", "lat": 35.8966, "lon": -5.2930, "height_m": 30.0}
BENZU = {"id": "benzu", "name": "Benzu", "lat": 35.9160, "lon": -5.3755, "height_m": 20.0}
HACHO_PRESETS = [
    {"name": "bay_sw", "pan": 218.0, "tilt": -1.5},
    {"name": "bay_w", "pan": 240.0, "tilt": -1.5},
    {"name": "west", "pan": 262.0, "tilt": -2.0},
    {"name": "strait_w", "pan": 284.0, "tilt": -2.0},
]
BENZU_PRESETS = [{"name": "south", "pan": 200.0, "tilt": -2.0}, {"name": "east", "pan": 110.0, "tilt": -2.5}]
POWER_STATION = Chimney(35.8925, -5.3160, temp_k=470.0, area_m2=4.0)  # a stack on the port side


def utc(year: int, month: int, day: int, hour: float) -> float:
    """UTC timestamp of a date and fractional hour."""
    base = dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp()
    return base + hour * 3600.0


def tower_spec(
    base: dict[str, Any],
    presets: list[dict[str, Any]],
    *,
    width: int = 640,
    height: int = 512,
    hfov: float = 24.6,
    vfov: float = 19.8,
    arcsec: float = 1.0,
    **extra: Any,
) -> dict[str, Any]:
    """A processor spec for a tower on the synthetic terrain."""
    spec = dict(base)
    spec["camera"] = {"width": width, "height": height, "hfov": hfov, "vfov": vfov, "pointing_sigma_deg": 0.01}
    spec["presets"] = [dict(p) for p in presets]
    spec["terrain"] = {"type": "synthetic", "arcsec": arcsec}
    spec["water_decimation"] = max(1, width // 160)
    spec.update(extra)
    return spec


def visible_point(
    terrain: ElevationGrid,
    site: TowerSite,
    distance: float,
    bearings: Any,
    others: list[TowerSite] | None = None,
    inland_m: float = 150.0,
) -> tuple[float, float] | None:
    """A land point at `distance` from the site, on one of `bearings`, in sight of it (and of others),
    at least `inland_m` from the water."""
    ring = np.arange(0.0, 360.0, 45.0)
    for bearing in bearings:
        lat, lon = destination_point(site.lat, site.lon, float(bearing) % 360.0, distance)
        la, lo = destination_np(lat, lon, np.append(ring, 0.0), np.append(np.full(ring.size, inland_m), 0.0))
        if bool(np.any(terrain.is_water(la, lo))):
            continue
        la, lo = np.array([lat]), np.array([lon])
        alt = float(terrain.elevation(la, lo)[0]) + 0.5
        if all(line_of_sight(terrain, s, lat, lon, alt, clearance_m=-3.0) for s in [site, *(others or [])]):
            return lat, lon
    return None


@dataclass(slots=True)
class Schedule:
    """How a tower scans: frames per preset visit, seconds between frames, seconds to move.

    With `burst_cycles`, the tower scans in bursts (a few cycles at the real cadence every
    `burst_every_s`): a long stretch of time sampled at operating conditions.
    """

    dwell_frames: int = 3
    frame_interval_s: float = 1.0
    move_s: float = 2.0
    burst_cycles: int = 0  # > 0: scan this many full cycles, then jump to the next burst
    burst_every_s: float = 900.0


class Rig:
    """One simulated tower: its camera, its processor and its place in the scan cycle."""

    def __init__(
        self,
        spec: dict[str, Any],
        scenario: Scenario,
        start_ts: float,
        *,
        schedule: Schedule | None = None,
        decimation: int | None = None,
        terrain: ElevationGrid | None = None,
    ) -> None:
        self.spec = spec
        self.terrain = terrain or ceuta_terrain(spec["terrain"].get("arcsec", 1.0))
        self.processor = TowerProcessor(spec, terrain=self.terrain)
        cam = spec["camera"]
        model = CameraModel(cam["width"], cam["height"], cam["hfov"], cam["vfov"])
        self.camera = SimulatedCamera(
            self.processor.site,
            model,
            self.terrain,
            [(p["pan"], p["tilt"]) for p in spec["presets"]],
            scenario,
            start_ts=start_ts,
            decimation=decimation or max(1, cam["width"] // 160),
        )
        self.schedule = schedule or Schedule()
        self.next_ts = start_ts
        self.start_ts = start_ts
        self.burst = 0
        self.visit = 0
        self.frame_in_visit = 0
        self.seq = 0
        self.camera.goto(0)

    @property
    def tower_id(self) -> str:
        """The tower's id."""
        return str(self.spec["id"])

    @property
    def preset(self) -> int:
        """The preset being looked at."""
        return self.visit % len(self.spec["presets"])

    def step(self) -> tuple[dict[str, Any], list[Any]]:
        """Grab and process the next frame; returns the processor result and the frame's truth."""
        ts = self.next_ts
        preset = self.preset
        frame = self.camera.render(ts)
        truth = list(self.camera.truth)
        result = self.processor.process(frame, ts, preset, self.seq)
        self.seq += 1
        self.frame_in_visit += 1
        if self.frame_in_visit >= self.schedule.dwell_frames:
            self.frame_in_visit = 0
            self.visit += 1
            self.camera.goto(self.preset)
            self.next_ts = ts + self.schedule.frame_interval_s + self.schedule.move_s
            cycle = len(self.spec["presets"]) * max(1, self.schedule.burst_cycles)
            if self.schedule.burst_cycles and self.visit % cycle == 0:
                self.burst += 1
                self.next_ts = self.start_ts + self.burst * self.schedule.burst_every_s
        else:
            self.next_ts = ts + self.schedule.frame_interval_s
        return result, truth


@dataclass(slots=True)
class FireScore:
    """Per fire and tower: frames it was detectable before the alarm."""

    index: int
    tower: str
    first_detectable_ts: float | None = None
    frames_detectable: int = 0
    alarm_ts: float | None = None
    delay_frames: int | None = None


@dataclass(slots=True)
class RunResult:
    """What a run produced."""

    frames: int = 0
    alarms: list[dict[str, Any]] = field(default_factory=list)
    changes: list[FireChange] = field(default_factory=list)
    scores: dict[tuple[int, str], FireScore] = field(default_factory=dict)
    false_alarms: list[dict[str, Any]] = field(default_factory=list)
    elapsed_ms: list[float] = field(default_factory=list)
    registry: FireRegistry | None = None

    def delays(self) -> list[int]:
        """Detection delays (frames) of every fire/tower pair that alarmed."""
        return [s.delay_frames for s in self.scores.values() if s.delay_frames is not None]

    def missed(self) -> list[FireScore]:
        """Fire/tower pairs that were detectable but never alarmed."""
        return [s for s in self.scores.values() if s.first_detectable_ts is not None and s.alarm_ts is None]


def run(rigs: list[Rig], scenario: Scenario, until_ts: float, *, match_m: float = 400.0) -> RunResult:
    """Step all rigs in time order until `until_ts`; score alarms against the scenario's ignitions."""
    sites = {rig.tower_id: rig.processor.site for rig in rigs}
    registry = FireRegistry(sites, rigs[0].terrain)
    result = RunResult(registry=registry)
    heap = [(rig.next_ts, i) for i, rig in enumerate(rigs)]
    heapq.heapify(heap)
    while heap:
        ts, i = heapq.heappop(heap)
        if ts > until_ts:
            continue
        rig = rigs[i]
        out, truth = rig.step()
        result.frames += 1
        result.elapsed_ms.append(out["elapsed_ms"])
        for fire in truth:
            score = result.scores.setdefault((fire.index, rig.tower_id), FireScore(fire.index, rig.tower_id))
            if fire.detectable and score.alarm_ts is None:
                if score.first_detectable_ts is None:
                    score.first_detectable_ts = ts
                score.frames_detectable += 1
        for report in out["events"]:
            if report["kind"] == "alarm":
                result.alarms.append(report)
                matched = _match_ignition(report, scenario, ts, match_m)
                if matched is None:
                    result.false_alarms.append(report)
                else:
                    score = result.scores.setdefault((matched, rig.tower_id), FireScore(matched, rig.tower_id))
                    if score.alarm_ts is None:
                        score.alarm_ts = ts
                        score.delay_frames = max(0, score.frames_detectable - 1)
            result.changes.extend(registry.ingest(report))
        heapq.heappush(heap, (rig.next_ts, i))
    return result


def _match_ignition(report: dict[str, Any], scenario: Scenario, ts: float, match_m: float) -> int | None:
    fix = report["fix"]
    best: tuple[float, int] | None = None
    for index, ign in enumerate(scenario.ignitions):
        if ign.start_ts > ts:
            continue
        d = distance_m(fix["lat"], fix["lon"], ign.lat, ign.lon)
        if d <= max(match_m, fix["uncertainty_m"]) and (best is None or d < best[0]):
            best = (d, index)
    return None if best is None else best[1]


def location_errors(result: RunResult, scenario: Scenario) -> list[float]:
    """Distance (m) of each alarm's fix from the ignition point it matched."""
    errors = []
    for report in result.alarms:
        idx = _match_ignition(report, scenario, report["ts"], 1e9)
        if idx is not None:
            ign = scenario.ignitions[idx]
            errors.append(distance_m(report["fix"]["lat"], report["fix"]["lon"], ign.lat, ign.lon))
    return errors


def ignition_at(lat: float, lon: float, start_ts: float, **kwargs: Any) -> Ignition:
    """Shorthand for an Ignition."""
    return Ignition(lat, lon, start_ts, **kwargs)


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in km between two (lat, lon) points."""
    return distance_m(a[0], a[1], b[0], b[1]) / 1000.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))])
