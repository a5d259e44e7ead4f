"""Hotspot detection in one radiometric frame: absolute, contextual and increase tests, components.

The tests follow the MODIS active-fire algorithm (Giglio et al. 2003, 2016) adapted to one LWIR
band, plus the per-preset increase detector that ground-based infrared forest surveillance uses:

* absolute: T > absolute_k (day/night values) flags a pixel whatever its surroundings;
* contextual: T > mean + max(context_sigma * std, context_min_k), where mean and std describe
  the background in a window of 5 x 5 blocks of 8 x 8 pixels (40 x 40 px) around the pixel,
  excluding the candidate pixels themselves, as MODIS excludes background fires. Once the preset
  has a reference, std is the robust one (the median of the 25 blocks' own deviations, as MODIS
  prefers the mean absolute deviation): an edge in the window no longer hides a fire, because the
  increase test below already rejects every static edge; and the background is the cooler of the
  window mean and the pixel's own reference (a fire on locally cool ground);
* increase: against the preset's reference image from earlier visits, registered to whole pixels
  (the head comes back within its repeatability) and raised half-way to its 3 x 3 maximum (so
  what is left of the offset, up to half a pixel, does not look like a rise), after removing the
  window's change (fog, the daily cycle: the median change of its 25 tiles, so objects leaving the
  window do not count): a rise
  above max(increase_k, increase_sigma * temporal std of that pixel).
  Flickering glint and shimmer raise the temporal std, so they stop triggering.
  Before a preset has a reference (two visits), or when it is older than `max_reference_age_s`
  (the scene has changed with the sun since), a pixel needs the absolute test or a `strong_k` excess.
* glint: candidates on water whose mirror angle to the sun is under glint_angle_deg are dropped.

`water` is a per-pixel uint8 map: 2 water, 1 within a few pixels of water (coast), 0 land.
Glint rejection and `mask_water` act on 2; hotspots are flagged `water` (2) or `coast` (1 or 2),
which makes the tracker more demanding (see tracking.py).

Work is vectorised: block sums on the whole frame, every other test only on the candidate pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from .background import BackgroundModel
from .grid import BLOCK, F32, PER_TILE, SAMPLE, WINDOW_BLOCKS, block_sums, box_sum
from .optics import planck_radiance

__all__ = [
    "DAY_PROFILE",
    "NIGHT_PROFILE",
    "DetectionProfile",
    "Hotspot",
    "detect_hotspots",
    "is_day",
    "refine_centroid",
]

BORDER_PX = 2
SCREEN_SLACK_K = 0.5  # the reference screen's allowance for its mean (not median) window drift
MAX_CANDIDATES = 20_000
_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True, slots=True)
class DetectionProfile:
    """Thresholds for one light regime (day or night); see the module docstring."""

    absolute_k: float
    context_sigma: float
    context_min_k: float
    strong_k: float
    increase_k: float
    increase_sigma: float
    persistence: int = 3
    window: int = 4
    min_span_s: float = 12.0
    max_reference_age_s: float = 300.0
    growth_window_s: float = 180.0
    min_growth_per_min: float = 0.05
    max_motion_px: float = 0.25
    max_jitter_px: float = 0.6
    water_persistence_factor: int = 2
    glint_angle_deg: float = 35.0
    mask_water: bool = False
    clear_frames: int = 12

    def with_overrides(self, overrides: dict[str, Any] | None) -> DetectionProfile:
        """A copy with some fields replaced (from configuration)."""
        return replace(self, **overrides) if overrides else self


DAY_PROFILE = DetectionProfile(
    absolute_k=360.0, context_sigma=4.0, context_min_k=3.5, strong_k=40.0, increase_k=3.0, increase_sigma=4.0
)
NIGHT_PROFILE = DetectionProfile(
    absolute_k=335.0, context_sigma=3.5, context_min_k=3.0, strong_k=20.0, increase_k=2.0, increase_sigma=4.0
)


@dataclass(slots=True)
class Hotspot:
    """One connected group of fire pixels in a frame."""

    u: float  # radiance-weighted centroid (column)
    v: float  # (row)
    pixels: int
    peak_k: float
    mean_k: float
    background_k: float
    excess_k: float
    energy: float  # summed radiance excess (relative units): a fire-radiative-power proxy
    bbox: tuple[int, int, int, int]  # col0, row0, col1, row1 (inclusive)
    absolute: bool
    water: bool = False  # on open water
    coast: bool = False  # within a few pixels of water
    rows: npt.NDArray[np.intp] | None = field(default=None, repr=False)
    cols: npt.NDArray[np.intp] | None = field(default=None, repr=False)

    def outline(self) -> list[tuple[float, float]]:
        """Convex hull (u, v) of the component's pixel corners, counter-clockwise on the image."""
        if self.rows is None or self.cols is None:
            c0, r0, c1, r1 = self.bbox
            return [(c0 - 0.5, r0 - 0.5), (c1 + 0.5, r0 - 0.5), (c1 + 0.5, r1 + 0.5), (c0 - 0.5, r1 + 0.5)]
        pts = {
            (float(c) + du, float(r) + dv)
            for r, c in zip(self.rows.tolist(), self.cols.tolist(), strict=True)
            for du in (-0.5, 0.5)
            for dv in (-0.5, 0.5)
        }
        return _hull(sorted(pts))

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "u": round(self.u, 3),
            "v": round(self.v, 3),
            "pixels": self.pixels,
            "peak_k": round(self.peak_k, 2),
            "mean_k": round(self.mean_k, 2),
            "background_k": round(self.background_k, 2),
            "excess_k": round(self.excess_k, 2),
            "energy": self.energy,
            "bbox": list(self.bbox),
            "absolute": self.absolute,
            "water": self.water,
            "coast": self.coast,
        }


def _median_neighbours(grid: npt.NDArray[Any], by: npt.NDArray[np.intp], bx: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    """Median of the 5 x 5 tiles around each (by, bx), edges reflected.

    Computed only where asked when few tiles are asked (the usual frame), over the whole grid at
    once when many are (glint, a big fire): both are a partition of 25 values per tile.
    """
    half = WINDOW_BLOCKS // 2
    middle = WINDOW_BLOCKS * WINDOW_BLOCKS // 2
    padded = np.pad(grid, half, mode="reflect")
    keys, inverse = np.unique(by * grid.shape[1] + bx, return_inverse=True)
    if keys.size > grid.size // 8:
        windows = np.lib.stride_tricks.sliding_window_view(padded, (WINDOW_BLOCKS, WINDOW_BLOCKS))
        flat = windows.reshape(grid.shape[0], grid.shape[1], -1)
        medians = np.partition(flat, middle, axis=-1)[..., middle]
        return np.asarray(medians[by, bx])
    ky, kx = np.divmod(keys, grid.shape[1])
    dy, dx = np.mgrid[0:WINDOW_BLOCKS, 0:WINDOW_BLOCKS]
    stack = padded[ky[:, None] + dy.ravel()[None, :], kx[:, None] + dx.ravel()[None, :]]
    return np.asarray(np.partition(stack, middle, axis=1)[:, middle][inverse.ravel()])


def detect_hotspots(
    frame: F32,
    profile: DetectionProfile,
    background: BackgroundModel,
    ts: float,
    *,
    exclusion: npt.NDArray[np.bool_] | None = None,
    water: npt.NDArray[np.uint8] | None = None,
    glint_angle: Any = None,
) -> list[Hotspot]:
    """Hotspots in `frame` (kelvin). `glint_angle(rows, cols) -> degrees` is asked only for water candidates."""
    height, width = frame.shape
    nby, nbx = height // BLOCK, width // BLOCK
    referenced = background.usable(ts, profile.max_reference_age_s)
    offset = np.float32(frame[::16, ::16].mean())
    # Background statistics from every other pixel in each direction (16 of each tile's 64): a
    # 40 x 40 window still holds 400 samples, and the frame is read once instead of twice.
    centred = frame[: nby * BLOCK : SAMPLE, : nbx * BLOCK : SAMPLE] - offset
    s1 = block_sums(centred, BLOCK // SAMPLE).astype(np.float64)
    s2 = block_sums(centred * centred, BLOCK // SAMPLE).astype(np.float64)
    n0 = box_sum(np.full((nby, nbx), PER_TILE, dtype=np.float64))
    mean0 = box_sum(s1) / n0
    # one comparison screens both tests: hotter than the window by context_min_k, or absolute
    threshold = np.minimum(mean0 + offset + profile.context_min_k, profile.absolute_k).astype(np.float32)
    tiles = frame[: nby * BLOCK, : nbx * BLOCK].reshape(nby, BLOCK, nbx, BLOCK)
    hot = tiles > threshold[:, None, :, None]
    if referenced and background.screen is not None and background.window_means is not None:
        # and, with a reference, hotter than the pixel's own past by nearly context_min_k: a fire on
        # ground cooler than its window (a shaded gully in a sunlit slope) is below the window's
        # screen although the contextual test, which takes the cooler background, would pass it
        change = box_sum(s1 / PER_TILE + offset - background.window_means) / (WINDOW_BLOCKS * WINDOW_BLOCKS)
        past = background.screen[: nby * BLOCK, : nbx * BLOCK].reshape(nby, BLOCK, nbx, BLOCK)
        margin = (change + (profile.context_min_k - SCREEN_SLACK_K)).astype(np.float32)
        hot |= tiles - past > margin[:, None, :, None]
    flat = np.flatnonzero(hot)
    if flat.size == 0:
        return []
    # tile order -> pixel order
    ty, iy, tx, ix = np.unravel_index(flat, (nby, BLOCK, nbx, BLOCK))
    rows_all = ty * BLOCK + iy
    cols_all = tx * BLOCK + ix
    inside = (
        (rows_all >= BORDER_PX)
        & (rows_all < height - BORDER_PX)
        & (cols_all >= BORDER_PX)
        & (cols_all < width - BORDER_PX)
    )
    if exclusion is not None:
        inside &= ~exclusion[rows_all, cols_all]
    flat = rows_all[inside] * width + cols_all[inside]
    if flat.size == 0:
        return []
    if flat.size > MAX_CANDIDATES:  # a saturated scene: keep the hottest
        keep = np.argpartition(frame.ravel()[flat], -MAX_CANDIDATES)[-MAX_CANDIDATES:]
        flat = flat[keep]
    flat = np.sort(flat)
    rows, cols = np.divmod(flat, width)
    if water is not None:  # water: masked entirely, or where the sun glints (dropped before any work)
        on_water: npt.NDArray[np.bool_] = water[rows, cols] >= 2
        if np.any(on_water):
            drop: npt.NDArray[np.bool_] = on_water.copy()
            if not profile.mask_water:
                wet = np.flatnonzero(on_water)
                if glint_angle is None:
                    drop[:] = False
                else:
                    drop[wet] = np.asarray(glint_angle(rows[wet], cols[wet])) < profile.glint_angle_deg
            if np.any(drop):
                dry = ~drop
                flat, rows, cols = flat[dry], rows[dry], cols[dry]
                if flat.size == 0:
                    return []
    values = frame.ravel()[flat].astype(np.float64)
    by = np.minimum(rows // BLOCK, nby - 1)
    bx = np.minimum(cols // BLOCK, nbx - 1)
    # background statistics without the candidates (MODIS excludes background fire pixels)
    sampled = (rows % SAMPLE == 0) & (cols % SAMPLE == 0)
    block_id = (by * nbx + bx)[sampled]
    c = values[sampled] - offset
    ex_n = np.bincount(block_id, minlength=nby * nbx).reshape(nby, nbx)
    ex_s1 = np.bincount(block_id, weights=c, minlength=nby * nbx).reshape(nby, nbx)
    ex_s2 = np.bincount(block_id, weights=c * c, minlength=nby * nbx).reshape(nby, nbx)
    counts = box_sum(PER_TILE - ex_n.astype(np.float64))
    valid = counts >= 4
    safe = np.where(valid, counts, 1.0)
    mean = box_sum(s1 - ex_s1) / safe
    if referenced:
        own_n = np.maximum(PER_TILE - ex_n, 1)
        own_mean = (s1 - ex_s1) / own_n
        own_var = np.maximum((s2 - ex_s2) / own_n - own_mean * own_mean, 0.0)
        std_c = np.sqrt(_median_neighbours(own_var, by, bx))
    else:
        std_c = np.sqrt(np.maximum(box_sum(s2 - ex_s2) / safe - mean * mean, 0.0))[by, bx]
    mean_c = mean[by, bx] + offset
    absolute = values > profile.absolute_k
    floor = np.maximum(profile.context_sigma * std_c, profile.context_min_k)
    if referenced:
        assert background.reference_max is not None and background.window_means is not None
        assert background.variance is not None
        dy, dx = background.shift  # the reference pixel under each candidate
        ref_flat = np.clip(rows - dy, 0, height - 1) * width + np.clip(cols - dx, 0, width - 1)
        # the scene's own change around the pixel (fog, the sun): the median over the 5 x 5 tiles
        # of each tile's change, so a ship or a car leaving part of the window does not count
        tile_now = s1 / PER_TILE + offset
        drift = _median_neighbours(tile_now - background.window_means, by, bx)
        local = background.reference_max.ravel()[ref_flat] + drift
        rise = values - local
        limit = np.maximum(profile.increase_k, profile.increase_sigma * np.sqrt(background.variance.ravel()[ref_flat]))
        # the background is the cooler of the window mean and the pixel's own past: a fire on ground
        # cooler than its surroundings is hot against where it burns, not against the window
        mean_c = np.minimum(mean_c, local)
        contextual = valid[by, bx] & (values - mean_c > floor)
        passing = (contextual | absolute) & (rise > limit)
    else:
        contextual = valid[by, bx] & (values - mean_c > np.maximum(floor, profile.strong_k))
        passing = contextual | absolute
    if not np.any(passing):
        return []
    return _components(frame, rows[passing], cols[passing], mean_c[passing], absolute[passing], water)


def _components(
    frame: F32,
    rows: npt.NDArray[np.intp],
    cols: npt.NDArray[np.intp],
    background: Any,
    absolute: Any,
    water: npt.NDArray[np.uint8] | None,
) -> list[Hotspot]:
    """Group passing pixels into 8-connected components; per-component statistics by bincount."""
    from scipy import ndimage  # lazy: the hub imports this module without running it
    r0, r1 = int(rows.min()), int(rows.max())
    c0, c1 = int(cols.min()), int(cols.max())
    crop = np.zeros((r1 - r0 + 1, c1 - c0 + 1), dtype=bool)
    crop[rows - r0, cols - c0] = True
    labels, count = ndimage.label(crop, structure=_EIGHT)
    ids = labels[rows - r0, cols - c0]
    temps = frame[rows, cols].astype(np.float64)
    n = np.bincount(ids, minlength=count + 1).astype(np.float64)
    n[0] = 1.0
    bg = np.bincount(ids, weights=background, minlength=count + 1) / n
    weight = np.maximum(planck_radiance(temps) - planck_radiance(bg[ids]), 0.0)
    wsum = np.bincount(ids, weights=weight, minlength=count + 1)
    wsafe = np.where(wsum > 0, wsum, 1.0)
    u = np.where(
        wsum > 0,
        np.bincount(ids, weights=weight * cols, minlength=count + 1) / wsafe,
        np.bincount(ids, weights=cols, minlength=count + 1) / n,
    )
    v = np.where(
        wsum > 0,
        np.bincount(ids, weights=weight * rows, minlength=count + 1) / wsafe,
        np.bincount(ids, weights=rows, minlength=count + 1) / n,
    )
    peak = np.full(count + 1, -np.inf)
    np.maximum.at(peak, ids, temps)
    mean = np.bincount(ids, weights=temps, minlength=count + 1) / n
    absolute_any = np.bincount(ids, weights=np.asarray(absolute, dtype=np.float64), minlength=count + 1) > 0
    order = np.argsort(ids, kind="stable")
    bounds = np.searchsorted(ids[order], np.arange(1, count + 2))
    spots: list[Hotspot] = []
    for label in range(1, count + 1):
        members = order[bounds[label - 1] : bounds[label]]
        rr, cc = rows[members], cols[members]
        level = int(water[round(v[label]), round(u[label])]) if water is not None else 0
        spots.append(
            Hotspot(
                u=float(u[label]),
                v=float(v[label]),
                pixels=int(n[label]),
                peak_k=float(peak[label]),
                mean_k=float(mean[label]),
                background_k=float(bg[label]),
                excess_k=float(peak[label] - bg[label]),
                energy=float(wsum[label]),
                bbox=(int(cc.min()), int(rr.min()), int(cc.max()), int(rr.max())),
                absolute=bool(absolute_any[label]),
                water=level >= 2,
                coast=level >= 1,
                rows=rr,
                cols=cc,
            )
        )
    return spots


def refine_centroid(frame: F32, spot: Hotspot, margin: int = 2) -> None:
    """Recompute a hotspot's centroid and energy over its pixels plus a margin (the optical blur tails).

    The detection pass weighs only the component's own pixels; for locating an alarm the blurred
    tails matter (a sub-pixel fire spreads over 3 x 3 pixels), so the report refines it.
    """
    height, width = frame.shape
    c0, r0, c1, r1 = spot.bbox
    ra, rb = max(0, r0 - margin), min(height, r1 + margin + 1)
    ca, cb = max(0, c0 - margin), min(width, c1 + margin + 1)
    patch = frame[ra:rb, ca:cb].astype(np.float64)
    weight = np.maximum(planck_radiance(patch) - planck_radiance(spot.background_k), 0.0)
    weight[patch < spot.background_k + 0.1 * spot.excess_k] = 0.0  # ignore the noise floor
    total = float(weight.sum())
    if total <= 0:
        return
    vv, uu = np.mgrid[ra:rb, ca:cb]
    spot.u = float((weight * uu).sum() / total)
    spot.v = float((weight * vv).sum() / total)
    spot.energy = total


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain on sorted points."""
    if len(points) <= 2:
        return points

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def is_day(sun_elevation_deg: float) -> bool:
    """Day profile while the sun is above the horizon (civil twilight counts as night)."""
    return sun_elevation_deg > 0.0 and not math.isnan(sun_elevation_deg)
