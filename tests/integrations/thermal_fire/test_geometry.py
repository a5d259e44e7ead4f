"""Camera model, terrain grids and ray tracing with curvature and refraction."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hub.helpers.geo import EARTH_RADIUS_M, destination_point, distance_m
from integrations.thermal_fire.const import REFRACTION_COEFFICIENT
from integrations.thermal_fire.elevation import ElevationGrid, FlatTerrain, TerrainError, load_terrain
from integrations.thermal_fire.geolocation import (
    Geolocator,
    TowerSite,
    apparent_elevation,
    fuse_bearings,
    intersect_rays,
    line_of_sight,
)
from integrations.thermal_fire.optics import CameraModel, glint_angle_deg, sun_position

CAMERA = CameraModel(640, 512, 24.6, 19.8)
SITE = TowerSite("hacho", 35.8966, -5.2930, 180.0)


def test_pixel_rays_round_trip() -> None:
    u = np.array([0.0, 319.5, 639.0, 100.25])
    v = np.array([0.0, 255.5, 511.0, 400.75])
    bearing, elevation = CAMERA.rays(250.0, -3.0, u, v)
    assert bearing[1] == pytest.approx(250.0) and elevation[1] == pytest.approx(-3.0)
    assert bearing[0] < 250.0 < bearing[2] and elevation[0] > -3.0 > elevation[2]
    back_u, back_v, front = CAMERA.project(250.0, -3.0, bearing, elevation)
    assert np.allclose(back_u, u, atol=1e-6) and np.allclose(back_v, v, atol=1e-6) and front.all()


def test_ray_meets_flat_sea_where_curvature_and_refraction_say() -> None:
    # H0 + s tan(e) + (1 - k) s^2 / 2R = 0: the smaller root is the hit
    c = (1.0 - REFRACTION_COEFFICIENT) / (2.0 * EARTH_RADIUS_M)
    for depression in (0.5, 1.0, 3.0):
        t = math.tan(math.radians(-depression))
        expected = (-t - math.sqrt(t * t - 4.0 * c * SITE.altitude_m)) / (2.0 * c)
        dist, hit = intersect_rays(FlatTerrain(), SITE, [270.0], [-depression], max_range_m=60_000.0)
        assert hit[0] and dist[0] == pytest.approx(expected, abs=1.0)
    # the horizon: a level ray never comes down to the sea
    _, hit = intersect_rays(FlatTerrain(), SITE, [270.0], [0.0], max_range_m=60_000.0)
    assert not hit[0]


def test_apparent_elevation_inverts_the_trace() -> None:
    dist, _ = intersect_rays(FlatTerrain(20.0), SITE, [200.0], [-1.2])
    lat, lon = destination_point(SITE.lat, SITE.lon, 200.0, float(dist[0]))
    _, bearing, elevation = apparent_elevation(SITE, lat, lon, 20.0)
    assert float(bearing) == pytest.approx(200.0, abs=1e-6)
    assert float(elevation) == pytest.approx(-1.2, abs=1e-3)


def _ridge_grid() -> ElevationGrid:
    """Flat 0 m with a 300 m wall 2 km west of the site."""
    step = 1.0 / 3600.0
    north, west = SITE.lat + 0.05, SITE.lon - 0.08
    rows, cols = int(0.1 / step), int(0.1 / step)
    lons = west + np.arange(cols) * step
    data = np.zeros((rows, cols), dtype=np.float32)
    wall_lon = destination_point(SITE.lat, SITE.lon, 270.0, 2000.0)[1]
    data[:, np.abs(lons - wall_lon) < 2 * step] = 300.0
    return ElevationGrid(data, north=north, west=west, dlat=step, dlon=step)


def test_line_of_sight_and_terrain_hit() -> None:
    grid = _ridge_grid()
    before = destination_point(SITE.lat, SITE.lon, 270.0, 1500.0)
    behind = destination_point(SITE.lat, SITE.lon, 270.0, 3000.0)
    assert line_of_sight(grid, SITE, *before, 0.5)
    assert not line_of_sight(grid, SITE, *behind, 0.5)
    dist, hit = intersect_rays(grid, SITE, [270.0], [-1.0])
    assert hit[0] and 1900.0 < dist[0] < 2000.0  # it stops on the face of the wall, not on the plain beyond


def test_locate_on_flat_ground_with_uncertainty() -> None:
    locator = Geolocator(SITE, CAMERA, FlatTerrain(), pointing_sigma_deg=0.01)
    fix = locator.locate(270.0, -2.0, 319.5, 255.5)
    expected, _ = intersect_rays(FlatTerrain(), SITE, [270.0], [-2.0])
    assert fix.distance_m == pytest.approx(float(expected[0]), abs=1.0)
    assert fix.bearings == {"hacho": pytest.approx(270.0)}
    assert fix.depression_deg == pytest.approx(2.0)
    assert len(fix.polygon) == 6 and fix.uncertainty_m > 0
    assert fix.pixel_area_m2 is not None and fix.pixel_area_m2 > 0


def test_two_bearings_cross_at_the_fire() -> None:
    other = TowerSite("benzu", 35.9160, -5.3755, 270.0)
    fire = (35.86, -5.40)
    from hub.helpers.geo import bearing_deg

    fix = fuse_bearings(
        SITE,
        bearing_deg(SITE.lat, SITE.lon, *fire),
        0.01,
        other,
        bearing_deg(other.lat, other.lon, *fire),
        0.01,
        FlatTerrain(),
    )
    assert fix is not None and distance_m(fix.lat, fix.lon, *fire) < 1.0
    assert fix.towers == ["hacho", "benzu"] and len(fix.polygon) == 4
    # nearly parallel bearings give no fix
    assert fuse_bearings(SITE, 270.0, 0.01, other, 272.0, 0.01, FlatTerrain()) is None


def test_grid_files_round_trip_and_lookup(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.float32).reshape(3, 4) * 10.0
    data[2, 3] = -9999.0
    grid = ElevationGrid(data, north=36.0, west=-5.5, dlat=0.01, dlon=0.01, outside=0.0)
    path = grid.save(tmp_path / "dem")
    header = json.loads(path.read_text())
    assert header["format"] == "hacho-elevation/1" and header["rows"] == 3
    loaded = load_terrain(path)
    assert isinstance(loaded, ElevationGrid)
    assert loaded.elevation([36.0, 35.99], [-5.5, -5.48]) == pytest.approx([0.0, 60.0])
    assert float(loaded.elevation([35.995], [-5.495])[0]) == pytest.approx((0 + 10 + 40 + 50) / 4)
    assert float(loaded.elevation([35.98], [-5.47])[0]) == 0.0  # nodata reads as `outside`
    assert float(loaded.elevation([40.0], [-5.48])[0]) == 0.0  # outside the grid
    assert loaded.is_water([36.0], [-5.5])[0] and not loaded.is_water([35.99], [-5.48])[0]


def test_bad_grid_header_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "dem.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(TerrainError, match=r"dem\.json: 'format' must be 'hacho-elevation/1'"):
        ElevationGrid.load(tmp_path / "dem.json")


def test_sun_and_glint_geometry() -> None:
    from integrations.thermal_fire.scenarios import utc

    noon = utc(2026, 7, 15, 12.45)  # solar noon at Ceuta: 12:00 + 21 min of longitude + 6 min equation of time
    azimuth, elevation = sun_position(35.9, -5.3, noon)
    assert 170.0 < azimuth < 190.0 and 75.0 < elevation < 79.0
    # looking at the sun's reflection: glint angle zero; looking away: large
    assert float(glint_angle_deg(120.0, -10.0, 120.0, 10.0)) == pytest.approx(0.0, abs=1e-4)
    assert float(glint_angle_deg(300.0, -10.0, 120.0, 10.0)) > 150.0
