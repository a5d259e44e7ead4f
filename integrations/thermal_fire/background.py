"""A preset's background: the reference image of earlier visits that the increase test compares
against, registered to each new visit (see detection.py for the tests that use it)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .grid import F32, block_mean, tile_means

__all__ = ["REFERENCE_ALPHA", "BackgroundModel"]

REFERENCE_ALPHA = 0.05  # weight of each new visit in the reference image
REFERENCE_EDGE = 0.5  # share of the 3x3 neighbourhood's excess a pixel's reference tolerates
REGISTER_RANGE = 3  # pixels of pointing offset searched between visits
HOT_TRANSIENT_K = 3.0  # a visit this much hotter than the reference at a pixel does not update it
MIN_ANCHORS = 40


@dataclass(slots=True)
class BackgroundModel:
    """A preset's reference: mean image of earlier visits, its edge-tolerant version, block means,
    temporal variance."""

    reference: F32 | None = None
    reference_max: F32 | None = None
    reference_blocks: F32 | None = None
    variance: F32 | None = None
    visits: int = 0
    fresh: int = 0  # visits folded in since the reference was (re)built
    updated_ts: float | None = None  # when the last visit was folded in
    shift: tuple[int, int] = (0, 0)  # (rows, cols) the current visit's image is displaced by
    window_means: F32 | None = None  # tile means of the reference as it lies now (moved by `shift`)
    screen: F32 | None = None  # reference_max as it lies now (moved by `shift`): the screen's reference
    _anchors: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], F32] | None = None
    _sum: F32 | None = None
    _sumsq: F32 | None = None
    _prev: F32 | None = None
    _frames: int = 0
    protect: list[tuple[int, int, int, int]] = field(default_factory=list)

    def accumulate(self, frame: F32) -> None:
        """Add a frame of the current visit."""
        if self._sum is None:
            self._sum = frame.astype(np.float32, copy=True)
            self._sumsq = np.zeros_like(self._sum)
            self._prev = self._sum.copy()
        else:
            assert self._prev is not None and self._sumsq is not None
            self._sum += frame
            # successive differences (von Neumann): flicker counts in full, a steady rise (a fire
            # growing through a long visit) hardly at all, as it would about the visit's mean
            diff = frame - self._prev
            self._sumsq += diff * diff
            self._prev[...] = frame
        self._frames += 1

    @property
    def frames(self) -> int:
        """Frames accumulated in the current visit."""
        return self._frames

    def register(self, frame: F32) -> tuple[int, int]:
        """Estimate how far the head stopped from where it stopped before (whole pixels, up to 3).

        A PTZ head comes back to a preset within its repeatability; a pixel of offset along a
        ridge, a rock or the coast looks like a 10-30 K rise. The reference's strongest edges
        (up to a few thousand pixels) are compared with the frame at every offset; the mean absolute
        difference (about its median, so a uniform change does not count; absolute, so a few glint
        sparkles, cars or fires do not steer it) is smallest at the true offset.
        """
        self.shift = (0, 0)
        self.window_means = self.reference_blocks
        self.screen = self.reference_max
        if self._anchors is None or self.reference is None or self._anchors[0].size < MIN_ANCHORS:
            return self.shift  # nothing sharp enough to register on: a flat scene forgives offsets
        rows, cols, values = self._anchors
        costs: dict[tuple[int, int], float] = {}
        for dy in range(-REGISTER_RANGE, REGISTER_RANGE + 1):
            for dx in range(-REGISTER_RANGE, REGISTER_RANGE + 1):
                diff = frame[rows + dy, cols + dx] - values
                costs[(dy, dx)] = float(np.abs(diff - np.median(diff)).mean())
        best = min(costs, key=lambda k: costs[k])
        if best != (0, 0) and costs[best] < 0.7 * costs[(0, 0)]:  # move only when clearly better
            self.shift = best
            self.window_means = tile_means(np.roll(self.reference, best, axis=(0, 1)))
            assert self.reference_max is not None
            self.screen = np.roll(self.reference_max, best, axis=(0, 1))
        return self.shift

    def usable(self, ts: float, max_age_s: float) -> bool:
        """Whether the reference is built (two visits) and recent enough to compare against."""
        return (
            self.reference is not None
            and self.updated_ts is not None
            and self.fresh >= 2
            and ts - self.updated_ts <= max_age_s
        )

    def close_visit(self, ts: float, alpha: float = REFERENCE_ALPHA, max_age_s: float = math.inf) -> None:
        """Fold the visit's mean into the reference; tracked hotspots' pixels (`protect`) keep their old
        reference, and their old variance raised only by the visit's own flicker.

        The reference is a slow average (alpha per visit, a time constant of about twenty visits) so a
        fire that grows slowly below the thresholds is not absorbed before it is big enough. The
        temporal variance takes the visit's own flicker at once (glint) and, from the change since
        the reference, only the falls: a fire only rises, and must not raise its own threshold.
        A visit far hotter than the reference at a pixel (a car, a ship, a sparkle: more than
        HOT_TRANSIENT_K once the window's drift is removed) leaves that pixel's reference alone: a
        reference must describe the scene, not what crossed it. A reference older than `max_age_s`
        (a camera that was away or down) is rebuilt: the first visit's mean, then the per-pixel
        minimum with the second (whatever was passing through in one of them is gone), and only then
        is it used.
        """
        from scipy import ndimage  # lazy: the hub imports this module without running it
        if self._sum is None or self._frames == 0:
            return
        if self.reference is not None and self.updated_ts is not None and ts - self.updated_ts > max_age_s:
            self.reference = self.reference_max = self.reference_blocks = self.variance = None
            self.window_means = self.screen = None
            self.fresh = 0
        n = np.float32(self._frames)
        mean = self._sum / n
        assert self._sumsq is not None
        within = self._sumsq / np.float32(2 * (self._frames - 1)) if self._frames > 1 else None
        dy, dx = self.shift
        if self.reference is not None and (dy or dx):  # bring the visit into the reference's pixels
            mean = _unshift(mean, dy, dx, self.reference)
            within = None if within is None else _unshift(within, dy, dx, self.variance)
        if self.reference is None:
            new_ref = mean
            var = within if within is not None else np.full_like(mean, 0.25)
        elif self.fresh < 2:
            assert self.variance is not None
            new_ref = np.minimum(self.reference, mean)
            var = np.maximum(self.variance, within) if within is not None else self.variance
        else:
            change = mean - self.reference
            change -= block_mean(change)  # remove the scene-wide drift before judging pixels
            falls = np.minimum(change, 0.0)
            between = falls * falls
            base = np.maximum(within, between) if within is not None else between
            var = (1 - alpha) * self.variance + alpha * base  # type: ignore[operator]
            if within is not None:
                var = np.maximum(var, within)
            new_ref = np.where(change > HOT_TRANSIENT_K, self.reference, (1 - alpha) * self.reference + alpha * mean)
        if self.reference is not None and self.variance is not None:
            var = np.array(var, dtype=np.float32)
            for c0, r0, c1, r1 in self.protect:
                new_ref[r0 : r1 + 1, c0 : c1 + 1] = self.reference[r0 : r1 + 1, c0 : c1 + 1]
                kept = self.variance[r0 : r1 + 1, c0 : c1 + 1]
                # the visit's own flicker still counts: a glint sparkle that hit the same coast
                # pixel twice is a "static track" too, and its 10-30 K flicker is what stops it
                # next visit; a fire's flicker within a visit (seconds of growth) is small
                var[r0 : r1 + 1, c0 : c1 + 1] = (
                    kept if within is None else np.maximum(kept, within[r0 : r1 + 1, c0 : c1 + 1])
                )
        self.reference = new_ref.astype(np.float32)
        self.variance = np.asarray(var, dtype=np.float32)
        # half-way to the 3x3 maximum: what a residual half-pixel misregistration can show at a pixel
        # next to something hotter, without hiding a fire next to a warm rock
        top = ndimage.maximum_filter(self.reference, size=3, mode="nearest")
        self.reference_max = self.screen = self.reference + REFERENCE_EDGE * (top - self.reference)
        self.reference_blocks = self.window_means = tile_means(self.reference)
        self._anchors = _anchors(self.reference, self.variance)
        self.shift = (0, 0)
        self.visits += 1
        self.fresh += 1
        self.updated_ts = ts
        self._sum = self._sumsq = self._prev = None
        self._frames = 0


def _anchors(
    reference: F32, variance: F32, count: int = 1500
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], F32]:
    """Steady pixels on the reference's strongest edges, away from the border, with their values.

    `count` on horizontal edges (they fix the vertical offset) and `count` on vertical ones.
    Steady: a temporal std under 1 K around it, so the residue of glint sparkles is no anchor.
    """
    from scipy import ndimage  # lazy: the hub imports this module without running it
    m = REGISTER_RANGE + 1
    # steady neighbourhoods: next to a pixel that glint made flicker, the "edge" is its residue
    steady = ndimage.maximum_filter(variance, size=3, mode="nearest")[m:-m, m:-m] < 1.0
    core = reference[m - 1 : -m + 1, m - 1 : -m + 1]
    gy = np.abs(core[2:, 1:-1] - core[:-2, 1:-1])
    gx = np.abs(core[1:-1, 2:] - core[1:-1, :-2])
    picked: list[npt.NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)]
    for grad in (gy, gx):
        strength = np.where(steady, grad, 0.0).ravel()
        k = min(count, strength.size)
        flat = np.argpartition(strength, -k)[-k:]
        # edges, not texture or noise: at least 1 K across a pixel and well above the typical step
        picked.append(flat[strength[flat] > max(1.0, 4.0 * float(np.median(grad)))])
    flat = np.unique(np.concatenate(picked))
    rows, cols = np.divmod(flat, gy.shape[1])
    rows, cols = rows + m, cols + m
    return rows, cols, reference[rows, cols]


def _unshift(image: npt.NDArray[Any], dy: int, dx: int, fill: npt.NDArray[Any] | None) -> npt.NDArray[Any]:
    """An image taken displaced by (dy, dx), in reference pixels; uncovered edges from `fill`."""
    out = np.roll(image, (-dy, -dx), axis=(0, 1))
    if fill is not None:
        if dy > 0:
            out[-dy:] = fill[-dy:]
        elif dy < 0:
            out[:-dy] = fill[:-dy]
        if dx > 0:
            out[:, -dx:] = fill[:, -dx:]
        elif dx < 0:
            out[:, :-dx] = fill[:, :-dx]
    return out
