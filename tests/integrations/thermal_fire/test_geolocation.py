"""Geolocation on the simulator's terrain, end to end: one tower at 1, 5, 10 and 15 km, two towers
crossing their bearings, and two towers seeing one fire make one fire."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hub.helpers.geo import distance_m
from integrations.thermal_fire.elevation import ElevationGrid
from integrations.thermal_fire.geolocation import TowerSite, apparent_elevation, line_of_sight
from integrations.thermal_fire.processor import TowerProcessor
from integrations.thermal_fire.scenarios import BENZU, HACHO, Rig, Schedule, run, tower_spec, utc, visible_point
from integrations.thermal_fire.scene import Ignition, Scenario

from .conftest import TERRAIN_ARCSEC

START = utc(2026, 7, 15, 1.0)
# one-tower targets (metres): under 150 m at 10 km is the requirement; the others bound the trend
ONE_TOWER_LIMIT = {1000.0: 30.0, 5000.0: 100.0, 10000.0: 150.0, 15000.0: 250.0}
BEARINGS = {1000.0: range(250, 300), 5000.0: range(230, 300), 10000.0: range(215, 300), 15000.0: range(205, 240)}


def find_fire(
    terrain: ElevationGrid, hacho: TowerSite, distance: float, other: TowerSite | None = None
) -> tuple[float, float]:
    """A land point at `distance` from Monte Hacho that it sees clearly (and the other tower sees)."""
    for bearing in BEARINGS[distance]:
        fire = visible_point(terrain, hacho, distance, [bearing], inland_m=80.0)
        if fire is None:
            continue
        alt = float(terrain.elevation(np.array([fire[0]]), np.array([fire[1]]))[0]) + 0.5
        if other is None or line_of_sight(terrain, other, fire[0], fire[1], alt):
            return fire
    raise AssertionError(f"no test point at {distance} m")


def site(terrain: ElevationGrid, base: dict[str, Any]) -> TowerSite:
    return TowerProcessor(
        tower_spec(base, [{"name": "p", "pan": 0.0, "tilt": 0.0}], arcsec=TERRAIN_ARCSEC), terrain=terrain
    ).site


def aimed(
    base: dict[str, Any], tower: TowerSite, fire: tuple[float, float], terrain: ElevationGrid, du: float, dv: float
) -> dict[str, Any]:
    """A 640x512 camera whose one preset has the fire off-centre by (du, dv) degrees."""
    alt = terrain.elevation(np.array([fire[0]]), np.array([fire[1]]))
    _, bearing, elevation = apparent_elevation(tower, np.array([fire[0]]), np.array([fire[1]]), alt)
    preset = {"name": "aim", "pan": float(bearing[0]) + du, "tilt": float(elevation[0]) + dv}
    return tower_spec(base, [preset], arcsec=TERRAIN_ARCSEC, water_decimation=16)


def locate(terrain: ElevationGrid, fire: tuple[float, float], towers: list[dict[str, Any]]) -> Any:
    sites = [site(terrain, t) for t in towers]
    specs = [
        aimed(t, s, fire, terrain, 3.0 - 5.0 * i, -2.0 + 3.0 * i)
        for i, (t, s) in enumerate(zip(towers, sites, strict=True))
    ]
    world = Scenario(seed=5, ignitions=[Ignition(fire[0], fire[1], START + 45.0)], vehicles=0, ships=0)
    rigs = [
        Rig(s, world, START, schedule=Schedule(dwell_frames=10_000, move_s=0.0), terrain=terrain, decimation=16)
        for s in specs
    ]
    return run(rigs, world, START + 240.0)


@pytest.mark.parametrize("distance", [1000.0, 5000.0, 10000.0, 15000.0])
def test_one_tower_error(terrain: ElevationGrid, distance: float) -> None:
    fire = find_fire(terrain, site(terrain, HACHO), distance)
    result = locate(terrain, fire, [HACHO])
    assert result.alarms, result.scores
    fix = result.alarms[0]["fix"]
    error = distance_m(fix["lat"], fix["lon"], *fire)
    assert error < ONE_TOWER_LIMIT[distance]
    # the region bounds the direction error; the fire itself has grown a few metres downwind
    assert error < fix["uncertainty_m"] + 15.0


# (on this 90 m terrain nothing 5 km from Monte Hacho is in clear sight of both towers; the
# benchmark's 30 m terrain has such points)
@pytest.mark.parametrize("distance", [1000.0, 10000.0, 15000.0])
def test_two_towers_make_one_fire_within_50_m(terrain: ElevationGrid, distance: float) -> None:
    fire = find_fire(terrain, site(terrain, HACHO), distance, site(terrain, BENZU))
    result = locate(terrain, fire, [HACHO, BENZU])
    assert {a["tower"] for a in result.alarms} == {"hacho", "benzu"}
    registry = result.registry
    assert registry is not None and len(registry.fires) == 1  # one fire, not two
    only = next(iter(registry.fires.values()))
    assert only.fix is not None and sorted(only.fix.towers) == ["benzu", "hacho"]
    assert distance_m(only.fix.lat, only.fix.lon, *fire) < 50.0
    kinds = [c.kind for c in result.changes]
    assert kinds.count("detected") == 1 and "updated" in kinds
