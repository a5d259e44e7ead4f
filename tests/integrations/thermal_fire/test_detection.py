"""Detection and tracking on synthetic frames: contextual, increase, registration, glint, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from integrations.thermal_fire.background import BackgroundModel
from integrations.thermal_fire.detection import NIGHT_PROFILE, DetectionProfile, detect_hotspots
from integrations.thermal_fire.optics import brightness_temperature, planck_radiance
from integrations.thermal_fire.tracking import Tracker

H, W = 128, 160
PROFILE = NIGHT_PROFILE


def scene(seed: int = 0) -> np.ndarray:
    """A textured night scene: warmer ground below a cold sky, a warm rock, sensor noise."""
    rng = np.random.default_rng(seed)
    frame = np.full((H, W), 288.0, dtype=np.float32)
    frame[:40] = 250.0  # sky
    frame[60:70, 100:108] = 296.0  # a rock still warm from the day
    frame += rng.normal(0.0, 0.4, frame.shape).astype(np.float32)
    return frame


def add_fire(frame: np.ndarray, u: float, v: float, excess_radiance: float) -> np.ndarray:
    """A sub-pixel fire blurred over 3x3 pixels, added in radiance."""
    out = frame.copy()
    radiance = planck_radiance(out.astype(np.float64))
    for dv in (-1, 0, 1):
        for du in (-1, 0, 1):
            r, c = round(v) + dv, round(u) + du
            w = np.exp(-((c - u) ** 2 + (r - v) ** 2) / (2 * 0.55**2))
            radiance[r, c] += excess_radiance * w / 2.8
    return brightness_temperature(radiance).astype(np.float32)


def referenced(frames: list[np.ndarray], ts: float = 0.0) -> BackgroundModel:
    """A reference built from visits of one frame each (a reference needs two visits)."""
    background = BackgroundModel()
    for frame in frames:
        background.accumulate(frame)
        background.close_visit(ts)
    return background


def test_reference_needs_two_visits_and_forgets_passing_objects() -> None:
    background = BackgroundModel()
    with_car = scene(1)
    with_car[100:104, 30:38] = 330.0  # a car crossing during the first visit
    background.accumulate(with_car)
    background.close_visit(0.0)
    assert not background.usable(1.0, PROFILE.max_reference_age_s)
    background.accumulate(scene(2))
    background.close_visit(20.0)
    assert background.usable(21.0, PROFILE.max_reference_age_s)
    assert background.reference is not None and float(background.reference[100:104, 30:38].max()) < 292.0


def test_fire_found_with_subpixel_centroid() -> None:
    frame = add_fire(scene(), 80.3, 90.6, 0.004)
    spots = detect_hotspots(frame, PROFILE, BackgroundModel(), 0.0)
    assert len(spots) == 0  # no reference yet: a modest fire needs the strong test
    background = referenced([scene(1), scene(2)])
    spots = detect_hotspots(frame, PROFILE, background, 1.0)
    assert len(spots) == 1
    spot = spots[0]
    assert spot.u == pytest.approx(80.3, abs=0.35) and spot.v == pytest.approx(90.6, abs=0.35)
    assert spot.excess_k > 5.0 and not spot.absolute


def test_static_hot_rock_and_edges_are_not_fires() -> None:
    background = referenced([scene(1), scene(2)])
    assert detect_hotspots(scene(3), PROFILE, background, 1.0) == []


def test_exclusion_mask_hides_a_fire() -> None:
    background = referenced([scene(1), scene(2)])
    frame = add_fire(scene(), 80.0, 90.0, 0.004)
    mask = np.zeros((H, W), dtype=bool)
    mask[85:95, 75:85] = True
    assert detect_hotspots(frame, PROFILE, background, 1.0, exclusion=mask) == []


def test_absolute_test_needs_no_context() -> None:
    frame = scene()
    frame[100:104, 20:24] = 600.0  # a big fire, well above the absolute threshold
    spots = detect_hotspots(frame, PROFILE, BackgroundModel(), 0.0)
    assert len(spots) == 1 and spots[0].absolute and spots[0].pixels == 16


def test_registration_keeps_a_shifted_horizon_quiet() -> None:
    background = referenced([scene(1), scene(2)])
    shifted = np.roll(scene(3), 2, axis=0)  # the head stopped two pixels lower this time
    assert background.register(shifted) == (2, 0)
    assert detect_hotspots(shifted, PROFILE, background, 1.0) == []
    background.shift = (0, 0)  # without registration the horizon and the rock edge look new
    assert detect_hotspots(shifted, PROFILE, background, 1.0) != []


def test_stale_reference_falls_back_to_the_strong_test() -> None:
    background = referenced([scene(1), scene(2)], ts=0.0)
    frame = add_fire(scene(), 80.0, 90.0, 0.004)
    assert detect_hotspots(frame, PROFILE, background, 60.0)
    assert detect_hotspots(frame, PROFILE, background, 60.0 + PROFILE.max_reference_age_s) == []


def test_glint_on_water_is_rejected_by_geometry() -> None:
    background = referenced([scene(1), scene(2)])
    frame = add_fire(scene(), 80.0, 90.0, 0.004)
    water = np.zeros((H, W), dtype=np.uint8)
    water[80:100, 70:90] = 2
    near_sun = detect_hotspots(
        frame, PROFILE, background, 1.0, water=water, glint_angle=lambda rows, cols: np.full(np.shape(rows), 5.0)
    )
    away = detect_hotspots(
        frame, PROFILE, background, 1.0, water=water, glint_angle=lambda rows, cols: np.full(np.shape(rows), 80.0)
    )
    assert near_sun == [] and len(away) == 1 and away[0].water


def _track(
    positions: list[tuple[float, float]],
    ts: list[float],
    profile: DetectionProfile = PROFILE,
    energies: list[float] | None = None,
) -> list[str]:
    background = referenced([scene(1), scene(2)])
    tracker = Tracker()
    kinds: list[str] = []
    for i, ((u, v), t) in enumerate(zip(positions, ts, strict=True)):
        frame = add_fire(scene(10 + i), u, v, (energies or [0.004] * len(ts))[i])
        spots = detect_hotspots(frame, profile, background, 1.0)
        kinds.extend(e.kind for e in tracker.update(t, spots, profile))
    return kinds


# a scanning camera: three frames a visit, back 20 s later
VISITS = [0.0, 1.0, 2.0, 20.0, 21.0, 22.0, 40.0, 41.0, 42.0]


def test_still_fire_alarms_on_the_next_visit() -> None:
    kinds = _track([(80.0, 90.0)] * 9, VISITS)
    assert kinds[:1] == ["alarm"]
    # the alarm came at the first frame of the second visit: persistence over two visits
    background = referenced([scene(1), scene(2)])
    tracker = Tracker()
    for i, t in enumerate(VISITS):
        events = tracker.update(
            t, detect_hotspots(add_fire(scene(10 + i), 80.0, 90.0, 0.004), PROFILE, background, 1.0), PROFILE
        )
        if events:
            assert i == 3
            break


def test_moving_hotspot_never_alarms() -> None:
    positions = [(40.0 + 0.6 * t, 90.0) for t in VISITS]  # a vehicle, 0.6 px a second
    assert "alarm" not in _track(positions, VISITS)


def test_flickering_hotspot_never_alarms() -> None:
    rng = np.random.default_rng(4)
    positions = [(80.0 + rng.uniform(-2, 2), 90.0 + rng.uniform(-2, 2)) for _ in VISITS]
    assert "alarm" not in _track(positions, VISITS)


def test_old_hotspot_that_does_not_grow_never_alarms() -> None:
    # seen long ago and ever since, never persistent enough, now it is: a fire would have grown
    profile = PROFILE.with_overrides({"growth_window_s": 180.0, "min_growth_per_min": 0.05})
    ts = [0.0, 400.0, 401.0, 402.0, 420.0]
    assert "alarm" not in _track([(80.0, 90.0)] * 5, ts, profile, energies=[0.004] * 5)
    growing = [0.002, 0.004, 0.0042, 0.0044, 0.005]
    assert "alarm" in _track([(80.0, 90.0)] * 5, ts, profile, energies=[e * 4 for e in growing])


def test_fire_in_a_cool_gully_of_a_warm_slope_is_found() -> None:
    # a shaded gully 8 K cooler than the sunlit slope around it: the fire makes it hotter than it
    # ever was, but not hotter than the slope's window, so only the reference screen sees it
    def slope(seed: int) -> np.ndarray:
        frame = scene(seed)
        frame[60:128, 0:100] += 8.0
        frame[86:95, 36:45] -= 8.0
        return frame

    background = referenced([slope(1), slope(2)])
    frame = add_fire(slope(3), 40.0, 90.0, 0.0024)
    assert float(frame[90, 40] - slope(3)[90, 40]) < 8.0  # below the slope's own temperature
    spots = detect_hotspots(frame, PROFILE, background, 1.0)
    assert len(spots) == 1
    assert spots[0].u == pytest.approx(40.0, abs=0.5) and spots[0].v == pytest.approx(90.0, abs=0.5)
    assert detect_hotspots(slope(4), PROFILE, background, 1.0) == []


def _visit(background: BackgroundModel, sparkles: tuple[float, ...]) -> BackgroundModel:
    """A three-frame visit in which pixel (90, 80) sparkles by `sparkles` K, tracked (protected)."""
    for i, spark in enumerate(sparkles):
        frame = scene(20 + i)
        frame[90, 80] += spark
        background.accumulate(frame)
    background.protect = [(77, 87, 83, 93)]
    background.close_visit(20.0)
    return background


def test_flicker_in_a_protected_box_still_raises_the_threshold() -> None:
    # glint that hit the same coast pixel twice in a visit is a static track, so its box is kept
    # out of the reference; its flicker must still count, or the next sparkle there alarms
    frame = add_fire(scene(30), 80.0, 90.0, 0.004)
    glinting = _visit(referenced([scene(1), scene(2)]), (0.0, 25.0, 30.0))
    assert detect_hotspots(frame, PROFILE, glinting, 21.0) == []
    calm = _visit(referenced([scene(1), scene(2)]), (0.0, 0.0, 0.0))
    assert len(detect_hotspots(frame, PROFILE, calm, 21.0)) == 1
