"""Forest-fire detection benchmark on the simulator's seeded scenarios (integrations/thermal_fire).

    python -m bench.fire            # the figures in docs/thermal-fire.md (about 15-30 min on 2 cores)
    python -m bench.fire --quick    # a smaller run to see that everything works (2-4 min)

Measures, with the full pipeline (simulated 640x512 radiometric frames -> detection -> tracking ->
geolocation -> fusion):
  * detection delay: frames of the preset that sees a fire, from the first frame where the fire is
    detectable (its noise-free peak pixel >= 4 K above the local background, in sight) to the alarm;
  * false alarms per camera per simulated week with glint, vehicles, ships, hot rocks and a chimney
    (every preset revisited at a coarse interval, a dwell of 5 frames each time);
  * geolocation error at 1, 5, 10 and 15 km, one tower (terrain intersection) and two towers
    (bearing crossing), on the simulator's terrain;
  * frames per second per core of the detection worker at 640x512.
Prints the figures, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from hub.helpers.geo import destination_point, distance_m
from integrations.thermal_fire.fires import FireRegistry
from integrations.thermal_fire.geolocation import apparent_elevation, line_of_sight
from integrations.thermal_fire.processor import TowerProcessor
from integrations.thermal_fire.scenarios import (
    BENZU,
    HACHO,
    HACHO_PRESETS,
    POWER_STATION,
    Rig,
    Schedule,
    percentile,
    run,
    tower_spec,
    utc,
)
from integrations.thermal_fire.scene import Ignition, Scenario, ceuta_terrain

REGIMES: dict[str, tuple[float, dict[str, Any]]] = {
    # name: (start time, scenario overrides)
    "night": (utc(2026, 7, 15, 1.0), {}),
    "day": (utc(2026, 7, 15, 12.5), {}),
    "fog": (utc(2026, 11, 15, 6.5), {"fog_per_km": 0.5}),
    "glint": (utc(2026, 1, 15, 15.8), {"glint": 3.0, "ships": 8}),
}
CHIMNEY_EXCLUSION = {"lat": POWER_STATION.lat, "lon": POWER_STATION.lon, "radius_m": 60.0, "height_m": 25.0}


def hacho_spec(width: int, presets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Monte Hacho with its presets (the chimney excluded, as commissioning would)."""
    presets = [dict(p, exclusions=[CHIMNEY_EXCLUSION]) for p in (presets or HACHO_PRESETS)]
    return tower_spec(HACHO, presets, width=width, height=width * 4 // 5)


# --------------------------------------------------------------------------- detection delay


def _pick_ignitions(
    rng: np.random.Generator, proc: TowerProcessor, terrain: Any, start: float, count: int
) -> list[Ignition]:
    """Random land points seen by random presets, 1-12 km out, not at the coast or the chimney."""
    found: list[Ignition] = []
    cam = proc.camera
    tries = 0
    while len(found) < count and tries < 500:
        tries += 1
        preset = int(rng.integers(len(proc.presets)))
        state = proc.presets[preset]
        u = float(rng.uniform(0.1, 0.9) * cam.width)
        v = float(rng.uniform(0.35, 0.95) * cam.height)
        fix = proc.locator.locate(state.pan, state.tilt, u, v)
        if not fix.hit_terrain or not 1000.0 <= fix.distance_m <= 12000.0:
            continue
        ring_lat, ring_lon = zip(
            *(destination_point(fix.lat, fix.lon, b, 150.0) for b in range(0, 360, 45)), strict=True
        )
        if np.any(terrain.is_water(np.array(ring_lat), np.array(ring_lon))):
            continue
        if distance_m(fix.lat, fix.lon, POWER_STATION.lat, POWER_STATION.lon) < 1500.0:
            continue
        if any(distance_m(fix.lat, fix.lon, f.lat, f.lon) < 1500.0 for f in found):
            continue
        found.append(
            Ignition(
                fix.lat, fix.lon, start + 100.0 + float(rng.uniform(0, 60)), ros0_ms=float(rng.uniform(0.006, 0.015))
            )
        )
    return found


def delay_bench(seeds: list[int], width: int) -> dict[str, Any]:
    """Detection delay over seeded scenarios in four regimes."""
    terrain = ceuta_terrain(1.0)
    delays: list[int] = []
    per_regime: dict[str, list[int]] = {}
    missed = false = fires = frames = 0
    for seed in seeds:
        regime = list(REGIMES)[seed % len(REGIMES)]
        start, overrides = REGIMES[regime]
        spec = hacho_spec(width)
        proc = TowerProcessor(spec, terrain=terrain)
        ignitions = _pick_ignitions(np.random.default_rng(seed), proc, terrain, start, 2)
        scenario = Scenario(
            seed=seed, ignitions=ignitions, chimneys=[POWER_STATION], vehicles=10, **{"ships": 5, **overrides}
        )
        rig = Rig(spec, scenario, start, schedule=Schedule(), terrain=terrain)
        result = run([rig], scenario, max(i.start_ts for i in ignitions) + 300.0)
        frames += result.frames
        fires += len(ignitions)
        got = result.delays()
        delays.extend(got)
        per_regime.setdefault(regime, []).extend(got)
        missed += len(result.missed())
        false += len(result.false_alarms)
        print(
            f"  seed {seed:2d} {regime:5s}: fires {len(ignitions)} delays {got} missed {len(result.missed())} "
            f"false alarms {len(result.false_alarms)} ({result.frames} frames)",
            flush=True,
        )
    return {
        "scenarios": len(seeds),
        "fires": fires,
        "alarmed": len(delays),
        "missed": missed,
        "false_alarms": false,
        "frames": frames,
        "delay_p50_frames": percentile([float(d) for d in delays], 50),
        "delay_p95_frames": percentile([float(d) for d in delays], 95),
        "delay_max_frames": max(delays) if delays else None,
        "per_regime": {
            k: {"n": len(v), "p50": percentile([float(d) for d in v], 50), "p95": percentile([float(d) for d in v], 95)}
            for k, v in per_regime.items()
        },
    }


# --------------------------------------------------------------------------- false alarms in a week


def week_bench(width: int, burst_every_s: float, days: float, seed: int = 11, burst_cycles: int = 3) -> dict[str, Any]:
    """Alarms of one camera (four presets) over a simulated week without fires.

    The week is sampled in bursts: every `burst_every_s` the camera scans `burst_cycles` full
    cycles at its operating cadence (3 frames per preset, 1 s apart, 2 s to move), so the detector
    works as in operation (reference refreshed every cycle) at every hour of every day, for a
    fraction of the compute. Alarms are counted in the sampled time and extrapolated to the week.
    """
    terrain = ceuta_terrain(1.0)
    start = utc(2026, 7, 1, 0.0)
    spec = hacho_spec(width)
    scenario = Scenario(seed=seed, chimneys=[POWER_STATION], vehicles=14, ships=8, glint=2.0)
    schedule = Schedule(burst_cycles=burst_cycles, burst_every_s=burst_every_s)
    rig = Rig(spec, scenario, start, schedule=schedule, terrain=terrain)
    started = time.perf_counter()
    result = run([rig], scenario, start + days * 86400.0)
    elapsed = time.perf_counter() - started
    visit_s = (schedule.dwell_frames - 1) * schedule.frame_interval_s + schedule.frame_interval_s + schedule.move_s
    burst_s = burst_cycles * len(spec["presets"]) * visit_s
    sampled_h = days * 86400.0 / burst_every_s * burst_s / 3600.0
    alarms = [
        {
            "preset": a["preset"],
            "hour_utc": round(((a["ts"] - start) / 3600.0) % 24, 2),
            "day": int((a["ts"] - start) // 86400),
            "u": a["hotspot"]["u"],
            "v": a["hotspot"]["v"],
            "peak_k": a["hotspot"]["peak_k"],
            "excess_k": a["hotspot"]["excess_k"],
            "pixels": a["hotspot"]["pixels"],
            "water": a["hotspot"]["water"],
        }
        for a in result.false_alarms
    ]
    for alarm in alarms:
        print(f"  false alarm: {alarm}", flush=True)
    per_week = len(result.false_alarms) / sampled_h * 24.0 * 7.0 if sampled_h else math.nan
    return {
        "days": days,
        "frames": result.frames,
        "burst_every_s": burst_every_s,
        "burst_cycles": burst_cycles,
        "presets": len(spec["presets"]),
        "sampled_hours": round(sampled_h, 2),
        "false_alarms_sampled": len(result.false_alarms),
        "false_alarms_per_week_extrapolated": round(per_week, 2),
        "wall_s": round(elapsed, 1),
        "alarms": alarms,
    }


# --------------------------------------------------------------------------- geolocation


@dataclass(slots=True)
class Target:
    """A fire position and the presets aimed at it."""

    lat: float
    lon: float
    distance_m: float


def _targets(
    distance: float, count: int, rng: np.random.Generator, sites: list[Any], terrain: Any, clearance_m: float
) -> list[Target]:
    """Up to `count` land points about `distance` from the first site that every site sees.

    `clearance_m` is the first site's: -3 demands that its sight line clear the ground by 3 m all the
    way (no fire just behind a crest, where one tower cannot range it); the others (and the first,
    with the default 1 m) only need to see the point, as the bearings of a two-tower fix do.
    """
    hacho = sites[0]
    bearings = rng.permutation(np.arange(0.0, 360.0, 0.5))
    found: list[Target] = []
    for bearing in bearings:
        lat, lon = destination_point(hacho.lat, hacho.lon, float(bearing), distance * float(rng.uniform(0.88, 1.12)))
        ring = [destination_point(lat, lon, b, 100.0) for b in range(0, 360, 45)]
        la, lo = np.array([p[0] for p in ring] + [lat]), np.array([p[1] for p in ring] + [lon])
        if np.any(terrain.is_water(la, lo)):
            continue
        alt = float(terrain.elevation(np.array([lat]), np.array([lon]))[0]) + 0.5
        if not line_of_sight(terrain, hacho, lat, lon, alt, clearance_m=clearance_m):
            continue
        if not all(line_of_sight(terrain, s, lat, lon, alt) for s in sites[1:]):
            continue
        if any(distance_m(lat, lon, t.lat, t.lon) < 300.0 for t in found):
            continue
        found.append(Target(lat, lon, distance_m(hacho.lat, hacho.lon, lat, lon)))
        if len(found) >= count:
            break
    return found


def _aimed(
    base: dict[str, Any], site: Any, target: Target, rng: np.random.Generator, width: int, terrain: Any
) -> dict[str, Any]:
    alt = terrain.elevation(np.array([target.lat]), np.array([target.lon]))
    _, bearing, elev = apparent_elevation(site, np.array([target.lat]), np.array([target.lon]), alt)
    preset = {
        "name": "aim",
        "pan": float(bearing[0]) + float(rng.uniform(-6, 6)),
        "tilt": float(elev[0]) + float(rng.uniform(-4, 4)),
    }
    return tower_spec(base, [preset], width=width, height=width * 4 // 5, water_decimation=16)


def geoloc_bench(distances: list[float], count: int, width: int, seed: int = 5) -> dict[str, Any]:
    """Location error of the first alarm (one tower) and of the fused fix (two towers)."""
    terrain = ceuta_terrain(1.0)
    rng = np.random.default_rng(seed)
    start = REGIMES["night"][0]
    hacho_site = TowerProcessor(tower_spec(HACHO, HACHO_PRESETS), terrain=terrain).site
    benzu_site = TowerProcessor(tower_spec(BENZU, HACHO_PRESETS), terrain=terrain).site
    out: dict[str, Any] = {}
    for distance in distances:
        one: list[float] = []
        two: list[float] = []
        # one tower: points Monte Hacho sees clearly (it must range them); two towers: points both see
        # (the fix comes from the bearings), so a fire behind a crest for Monte Hacho counts there
        cases = [(t, False) for t in _targets(distance, count, rng, [hacho_site], terrain, -3.0)]
        cases += [(t, True) for t in _targets(distance, count, rng, [hacho_site, benzu_site], terrain, 1.0)]
        targets = (sum(1 for _, both in cases if not both), sum(1 for _, both in cases if both))
        for target, both in cases:
            ignition = Ignition(target.lat, target.lon, start + 45.0)  # after the first reference
            scenario = Scenario(seed=int(rng.integers(1 << 30)), ignitions=[ignition], vehicles=0, ships=0)
            specs = [_aimed(HACHO, hacho_site, target, rng, width, terrain)]
            if both:
                specs.append(_aimed(BENZU, benzu_site, target, rng, width, terrain))
            rigs = [
                Rig(
                    s,
                    scenario,
                    start,
                    schedule=Schedule(dwell_frames=10_000, move_s=0.0),
                    terrain=terrain,
                    decimation=16,
                )
                for s in specs
            ]
            result = run(rigs, scenario, start + 300.0)
            first = next((a for a in result.alarms if a["tower"] == "hacho"), None)
            if first is not None and not both:
                one.append(distance_m(first["fix"]["lat"], first["fix"]["lon"], target.lat, target.lon))
            registry: FireRegistry | None = result.registry
            fused = (
                [f.fix for f in registry.fires.values() if f.fix is not None and len(f.fix.towers) == 2]
                if registry
                else []
            )
            if fused and both:
                two.append(distance_m(fused[0].lat, fused[0].lon, target.lat, target.lon))
        out[f"{distance / 1000:g}km"] = {
            "targets": targets[0],
            "n": len(one),
            "one_tower_median_m": _r(statistics.median(one) if one else math.nan),
            "one_tower_p90_m": _r(percentile(one, 90)),
            "one_tower_max_m": _r(max(one) if one else math.nan),
            "two_tower_targets": targets[1],
            "two_tower_n": len(two),
            "two_tower_median_m": _r(statistics.median(two) if two else math.nan),
            "two_tower_p90_m": _r(percentile(two, 90)),
            "two_tower_max_m": _r(max(two) if two else math.nan),
        }
        print(
            f"  {distance / 1000:4g} km: one tower {_fmt(one, targets[0])}; two towers {_fmt(two, targets[1])}",
            flush=True,
        )
    return out


def _r(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 1)


def _fmt(values: list[float], targets: int) -> str:
    if not values:
        return f"no fixes ({targets} targets)"
    return (
        f"{len(values)} fixes of {targets} targets, median {statistics.median(values):.1f} m, "
        f"p90 {percentile(values, 90):.1f} m, max {max(values):.1f} m"
    )


# --------------------------------------------------------------------------- frames per second


def fps_bench(width: int, frames_per_regime: int = 40, passes: int = 3) -> dict[str, Any]:
    """Detection worker throughput on one core: pre-rendered frames, processor timed alone."""
    terrain = ceuta_terrain(1.0)
    timings: dict[str, float] = {}
    for regime in ("night", "glint"):
        start, overrides = REGIMES[regime]
        spec = hacho_spec(width, HACHO_PRESETS[:1])
        proc = TowerProcessor(spec, terrain=terrain)
        state = proc.presets[0]
        fire = proc.locator.locate(state.pan, state.tilt, width / 2, width * 0.45)
        scenario = Scenario(
            seed=3,
            ignitions=[Ignition(fire.lat, fire.lon, start + 30.0)],
            chimneys=[POWER_STATION],
            **{"vehicles": 10, "ships": 5, **overrides},
        )
        rig = Rig(spec, scenario, start, schedule=Schedule(dwell_frames=10_000, move_s=0.0), terrain=terrain)
        frames = [(rig.camera.render(start + i), start + i) for i in range(frames_per_regime)]
        proc.water_mask(0)
        samples: list[float] = []
        for _ in range(passes):
            for data, ts in frames:
                t0 = time.perf_counter()
                proc.process(data, ts, 0)
                samples.append(time.perf_counter() - t0)
        timings[regime] = statistics.median(samples)
        median = statistics.median(samples)
        print(
            f"  {regime}: {median * 1000:.2f} ms/frame median ({1 / median:.0f} frames/s), "
            f"p95 {percentile(samples, 95) * 1000:.2f} ms",
            flush=True,
        )
    worst = max(timings.values())
    return {
        "width": width,
        "height": width * 4 // 5,
        "ms_per_frame": {k: round(v * 1000, 3) for k, v in timings.items()},
        "frames_per_s_per_core": round(1.0 / worst, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer scenarios, a shorter week, fewer points")
    parser.add_argument("--width", type=int, default=640, help="frame width (height is 4/5 of it)")
    parser.add_argument("--only", choices=["delay", "week", "geoloc", "fps"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["delay", "week", "geoloc", "fps"])
    results: dict[str, Any] = {"bench": "fire", "width": args.width, "quick": args.quick}
    if "fps" in only:
        print("frames per second per core:", flush=True)
        results["fps"] = fps_bench(args.width)
    if "delay" in only:
        print("detection delay:", flush=True)
        results["delay"] = delay_bench(list(range(1, 5 if args.quick else 17)), args.width)
    if "geoloc" in only:
        print("geolocation error:", flush=True)
        results["geolocation"] = geoloc_bench([1000.0, 5000.0, 10000.0, 15000.0], 2 if args.quick else 6, args.width)
    if "week" in only:
        print("false alarms in a simulated week:", flush=True)
        results["week"] = week_bench(args.width, burst_every_s=900.0, days=1.0 if args.quick else 7.0)
    print(json.dumps(results, default=float))


if __name__ == "__main__":
    main()
