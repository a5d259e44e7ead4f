"""Fires as the city sees them: tower reports fused into one fire each, and their event payloads.

Worker reports (alarm, update, clear per tower track) come in; a report that matches a fire
already known from another tower joins it (bearings crossing inside both uncertainty regions) and
the location becomes the two-bearing fix. Out come detected/updated/cleared changes with GeoJSON
payloads. No hub here: the manager fires the events, the benchmark calls it directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hub.helpers.geo import distance_m

from .elevation import Terrain
from .geojson import feature, point, polygon
from .geolocation import Fix, TowerSite, fuse_bearings, polygon_area_m2, same_fire
from .weather import spread_cone

__all__ = ["Fire", "FireChange", "FireRegistry", "Observation"]

ObsKey = tuple[str, int, int]  # tower, preset, track


@dataclass(slots=True)
class Observation:
    """The latest report of one tower track about a fire."""

    key: ObsKey
    report: dict[str, Any]
    fix: Fix

    @property
    def bearing_sigma(self) -> float:
        """One-sigma bearing error of this tower's observation."""
        return float(self.report.get("bearing_sigma_deg", 0.05))


@dataclass(slots=True)
class Fire:
    """One fire: its observations, fused location and the state operators gave it."""

    number: int
    first_ts: float
    observations: dict[ObsKey, Observation] = field(default_factory=dict)
    fix: Fix | None = None
    status: str = "detected"
    area_history: list[tuple[float, float]] = field(default_factory=list)
    last_ts: float = 0.0
    ended: set[ObsKey] = field(default_factory=set)

    @property
    def fire_id(self) -> str:
        """`fire_<n>`."""
        return f"fire_{self.number}"

    @property
    def towers(self) -> list[str]:
        """Towers that currently see the fire."""
        return sorted({key[0] for key in self.observations})

    def best(self) -> Observation:
        """The observation with the highest confidence."""
        return max(self.observations.values(), key=lambda o: (o.report.get("confidence", 0), o.report["ts"]))

    def growth_m2_per_min(self) -> float | None:
        """Least-squares growth of the estimated burning area (m2/min) over the history."""
        pts = [(t, a) for t, a in self.area_history if a is not None]
        if len(pts) < 2 or pts[-1][0] - pts[0][0] <= 0:
            return None
        mt = sum(t for t, _ in pts) / len(pts)
        ma = sum(a for _, a in pts) / len(pts)
        den = sum((t - mt) ** 2 for t, _ in pts)
        return round(sum((t - mt) * (a - ma) for t, a in pts) / den * 60.0, 3) if den > 0 else None


@dataclass(slots=True)
class FireChange:
    """What happened to a fire: "detected", "updated" or "cleared", with the fire."""

    kind: str
    fire: Fire
    reason: str | None = None


class FireRegistry:
    """Fuses tower reports into fires."""

    def __init__(self, sites: dict[str, TowerSite], terrain: Terrain, *, merge_margin_m: float = 300.0) -> None:
        self.sites = sites
        self.terrain = terrain
        self.merge_margin_m = merge_margin_m
        self.fires: dict[str, Fire] = {}
        self._by_obs: dict[ObsKey, str] = {}
        self._counter = 0

    def ingest(self, report: dict[str, Any]) -> list[FireChange]:
        """Apply one worker report; returns the resulting changes."""
        key: ObsKey = (report["tower"], int(report["preset"]), int(report["track_id"]))
        kind = report["kind"]
        if kind == "clear":
            return self._clear_obs(key, report["ts"])
        fix = Fix.from_dict(report["fix"])
        obs = Observation(key, report, fix)
        fire_id = self._by_obs.get(key)
        if fire_id is not None and fire_id in self.fires:
            fire = self.fires[fire_id]
            fire.observations[key] = obs
            self._refresh(fire, report["ts"])
            return [FireChange("updated", fire)]
        match = self._match(obs)
        if match is not None:
            match.observations[key] = obs
            self._by_obs[key] = match.fire_id
            self._refresh(match, report["ts"])
            return [FireChange("updated", match, reason="another tower")]
        self._counter += 1
        fire = Fire(self._counter, first_ts=float(report["first_ts"]))
        fire.observations[key] = obs
        self.fires[fire.fire_id] = fire
        self._by_obs[key] = fire.fire_id
        self._refresh(fire, report["ts"])
        return [FireChange("detected", fire)]

    def _match(self, obs: Observation) -> Fire | None:
        best: tuple[float, Fire] | None = None
        for fire in self.fires.values():
            if fire.fix is None or obs.key[0] in fire.towers:
                continue
            if not same_fire(fire.fix, obs.fix, self.merge_margin_m):
                continue
            d = distance_m(fire.fix.lat, fire.fix.lon, obs.fix.lat, obs.fix.lon)
            if best is None or d < best[0]:
                best = (d, fire)
        return best[1] if best else None

    def _refresh(self, fire: Fire, ts: float) -> None:
        fire.last_ts = max(fire.last_ts, float(ts))
        per_tower: dict[str, Observation] = {}
        for o in fire.observations.values():
            if o.key[0] not in per_tower or o.report["ts"] > per_tower[o.key[0]].report["ts"]:
                per_tower[o.key[0]] = o
        fix: Fix | None = None
        towers = sorted(per_tower, key=lambda t: per_tower[t].fix.uncertainty_m)
        for i, a in enumerate(towers):
            for b in towers[i + 1 :]:
                oa, ob = per_tower[a], per_tower[b]
                fused = fuse_bearings(
                    self.sites[a],
                    oa.fix.bearings[a],
                    oa.bearing_sigma,
                    self.sites[b],
                    ob.fix.bearings[b],
                    ob.bearing_sigma,
                    self.terrain,
                )
                if fused is not None and (fix is None or fused.uncertainty_m < fix.uncertainty_m):
                    fix = fused
        if fix is None:
            fix = per_tower[towers[0]].fix
        fire.fix = fix
        area = fire.best().report.get("size_m2")
        if area is not None:
            fire.area_history.append((float(ts), float(area)))
            del fire.area_history[:-60]

    def _clear_obs(self, key: ObsKey, ts: float) -> list[FireChange]:
        fire_id = self._by_obs.pop(key, None)
        if fire_id is None or fire_id not in self.fires:
            return []
        fire = self.fires[fire_id]
        fire.observations.pop(key, None)
        if fire.observations:
            self._refresh(fire, ts)
            return [FireChange("updated", fire, reason="a tower lost sight")]
        del self.fires[fire_id]
        return [FireChange("cleared", fire, reason="not seen any more")]

    def remove(self, fire_id: str) -> Fire | None:
        """Forget a fire (dismissed); returns it."""
        fire = self.fires.pop(fire_id, None)
        if fire is not None:
            for key in fire.observations:
                self._by_obs.pop(key, None)
        return fire

    # ---- payloads

    def detected_payload(self, fire: Fire) -> dict[str, Any]:
        """`thermal_fire_detected`: point + uncertainty polygon, bearings, temperature, size, snapshot."""
        assert fire.fix is not None
        best = fire.best()
        fix = fire.fix
        spot = best.report["hotspot"]
        props = self._common(fire)
        props.update(
            {
                "temperature_k": spot["peak_k"],
                "temperature_c": round(spot["peak_k"] - 273.15, 1),
                "background_k": spot["background_k"],
                "size_m2": best.report.get("size_m2"),
                "size_px": spot["pixels"],
                "confidence": best.report.get("confidence"),
                "tower": best.key[0],
                "preset": best.report.get("preset_name", best.key[1]),
                "snapshot": best.report.get("thumbnail"),
                "history": best.report.get("history", [])[-10:],
            }
        )
        return feature([point(fix.lat, fix.lon), polygon(fix.polygon)], props, fire.fire_id)

    def updated_payload(self, fire: Fire, wind: tuple[float, float] | None = None) -> dict[str, Any]:
        """`thermal_fire_updated`: the front polygon, growth rate, and the spread cone when wind is known."""
        assert fire.fix is not None
        best = fire.best()
        front = best.report.get("front") or fire.fix.polygon
        props = self._common(fire)
        props.update(
            {
                "front_area_m2": round(polygon_area_m2([(p[0], p[1]) for p in front]), 1),
                "size_m2": best.report.get("size_m2"),
                "growth_m2_per_min": fire.growth_m2_per_min(),
                "growth_per_min": best.report.get("growth_per_min"),
                "confidence": best.report.get("confidence"),
                "temperature_k": best.report["hotspot"]["peak_k"],
                "tower": best.key[0],
            }
        )
        if wind is not None:
            props["spread"] = spread_cone(fire.fix.lat, fire.fix.lon, wind[0], wind[1])
        return feature(
            [point(fire.fix.lat, fire.fix.lon), polygon(front), polygon(fire.fix.polygon)], props, fire.fire_id
        )

    def _common(self, fire: Fire) -> dict[str, Any]:
        fix = fire.fix
        assert fix is not None
        bearings = []
        for o in fire.observations.values():
            tower = o.key[0]
            bearings.append(
                {
                    "tower": tower,
                    "bearing_deg": round(o.fix.bearings[tower], 3),
                    "depression_deg": None if o.fix.depression_deg is None else round(o.fix.depression_deg, 3),
                    "distance_m": round(o.fix.distance_m, 1),
                    "preset": o.key[1],
                    "sigma_deg": round(o.bearing_sigma, 4),
                }
            )
        return {
            "fire_id": fire.fire_id,
            "entity_id": f"geo_location.{fire.fire_id}",
            "status": fire.status,
            "latitude": round(fix.lat, 6),
            "longitude": round(fix.lon, 6),
            "altitude_m": round(fix.altitude_m, 1),
            "uncertainty_m": round(fix.uncertainty_m, 1),
            "towers": fire.towers,
            "bearings": bearings,
            "method": "two_towers" if len(fix.towers) > 1 else "terrain_intersection",
            "distance_m": round(fix.distance_m, 1),
            "first_seen": fire.first_ts,
            "last_seen": fire.last_ts,
            "on_water": fix.on_water,
        }


def nearest_km(fire: Fire, sites: dict[str, TowerSite]) -> float:
    """Distance (km) from the nearest tower that sees the fire."""
    assert fire.fix is not None
    return (
        min(
            (distance_m(sites[t].lat, sites[t].lon, fire.fix.lat, fire.fix.lon) for t in fire.towers if t in sites),
            default=math.nan,
        )
        / 1000.0
    )
