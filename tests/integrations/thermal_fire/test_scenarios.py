"""Seeded simulator scenarios end to end (frames -> detection -> tracking -> location), at 160x128:
night, fog and a glint-heavy afternoon: clutter raises no alarm, a real ignition alarms within 5
frames of becoming detectable (noise-free peak pixel 4 K above its background, in sight)."""

from __future__ import annotations

from typing import Any

from hub.helpers.geo import distance_m
from integrations.thermal_fire.elevation import ElevationGrid
from integrations.thermal_fire.processor import TowerProcessor
from integrations.thermal_fire.scenarios import HACHO, HACHO_PRESETS, POWER_STATION, Rig, run, tower_spec, utc
from integrations.thermal_fire.scene import Ignition, Scenario

from .conftest import TERRAIN_ARCSEC

CHIMNEY = {"lat": POWER_STATION.lat, "lon": POWER_STATION.lon, "radius_m": 60.0, "height_m": 25.0}


def hacho(**extra: Any) -> dict[str, Any]:
    """Monte Hacho scanning its four presets with a 160x128 camera; the chimney masked."""
    presets = [dict(p, exclusions=[CHIMNEY]) for p in HACHO_PRESETS]
    return tower_spec(HACHO, presets, width=160, height=128, arcsec=TERRAIN_ARCSEC, **extra)


def fire_in_view(terrain: ElevationGrid, preset: int, u: float, v: float) -> tuple[float, float]:
    """The ground point seen at a pixel of one of Monte Hacho's presets."""
    proc = TowerProcessor(hacho(), terrain=terrain)
    state = proc.presets[preset]
    fix = proc.locator.locate(state.pan, state.tilt, u, v)
    assert fix.hit_terrain and not fix.on_water
    return fix.lat, fix.lon


def check(terrain: ElevationGrid, start: float, fire: tuple[float, float], seconds: float, **scenario: Any) -> None:
    ignition = Ignition(fire[0], fire[1], start + 90.0)
    world = Scenario(seed=7, ignitions=[ignition], chimneys=[POWER_STATION], **scenario)
    rig = Rig(hacho(), world, start, terrain=terrain)
    result = run([rig], world, start + seconds)
    assert result.false_alarms == [], [a["hotspot"] for a in result.false_alarms]
    assert result.delays() and max(result.delays()) <= 5, result.scores
    assert not result.missed()
    fix = result.alarms[0]["fix"]
    assert distance_m(fix["lat"], fix["lon"], *fire) < max(150.0, fix["uncertainty_m"])


def test_night_with_traffic_and_ships(terrain: ElevationGrid) -> None:
    fire = fire_in_view(terrain, 2, 80.0, 70.4)
    check(terrain, utc(2026, 7, 15, 1.0), fire, 300.0, vehicles=12, ships=6)


def test_fog(terrain: ElevationGrid) -> None:
    fire = fire_in_view(terrain, 2, 96.0, 83.2)  # 1.9 km: fog of 0.5 /km leaves 40 % of the signal
    check(terrain, utc(2026, 11, 15, 6.5), fire, 300.0, fog_per_km=0.5, vehicles=8, ships=4)


def test_glint_heavy_afternoon(terrain: ElevationGrid) -> None:
    # January, 15:48 UTC: the sun low in the south-west over the bay the camera looks at, strong
    # glint, ships crossing it, sun-warmed rocks; the fire is on the far shore, 4.8 km out
    fire = fire_in_view(terrain, 1, 128.0, 64.0)
    check(terrain, utc(2026, 1, 15, 15.8), fire, 360.0, glint=3.0, ships=8, vehicles=10)


def test_hot_rocks_at_midday_raise_nothing(terrain: ElevationGrid) -> None:
    start = utc(2026, 7, 15, 12.5)
    world = Scenario(seed=9, chimneys=[POWER_STATION], vehicles=10, ships=4, rock_heating_k=32.0)
    rig = Rig(hacho(), world, start, terrain=terrain)
    result = run([rig], world, start + 400.0)
    assert result.frames > 200 and result.alarms == []
