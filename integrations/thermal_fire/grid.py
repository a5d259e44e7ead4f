"""Block statistics of a thermal frame: sums and means over BLOCK x BLOCK tiles and over the
WINDOW_BLOCKS x WINDOW_BLOCKS window of tiles around each, shared by the detector and the background model."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK", "F32", "PER_TILE", "SAMPLE", "WINDOW_BLOCKS", "block_mean", "block_sums", "box_sum", "tile_means",
           "window_mean"]

F32 = npt.NDArray[np.float32]
BLOCK = 8
WINDOW_BLOCKS = 5
SAMPLE = 2  # background statistics use every SAMPLE-th pixel in each direction
PER_TILE = (BLOCK // SAMPLE) ** 2


def block_sums(frame: npt.NDArray[Any], size: int = BLOCK) -> npt.NDArray[Any]:
    """Sums over size x size tiles (the frame cropped to whole tiles); reduceat is the fast path."""
    rows, cols = frame.shape[0] // size, frame.shape[1] // size
    cropped = frame[: rows * size, : cols * size]
    across = np.add.reduceat(cropped, np.arange(0, cols * size, size), axis=1)
    return np.add.reduceat(across, np.arange(0, rows * size, size), axis=0)


def box_sum(grid: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Sum over WINDOW_BLOCKS x WINDOW_BLOCKS neighbourhoods of a block grid (edges reflected)."""
    from scipy import ndimage  # lazy: the hub imports this module without running it
    return ndimage.uniform_filter(grid, size=WINDOW_BLOCKS, mode="reflect") * (WINDOW_BLOCKS * WINDOW_BLOCKS)


def tile_means(frame: F32) -> F32:
    """Mean of each BLOCK x BLOCK tile, from the same SAMPLE-spaced pixels the detector uses."""
    rows, cols = frame.shape[0] // BLOCK, frame.shape[1] // BLOCK
    sampled = frame[: rows * BLOCK : SAMPLE, : cols * BLOCK : SAMPLE].astype(np.float64)
    return (block_sums(sampled, BLOCK // SAMPLE) / PER_TILE).astype(np.float32)


def window_mean(frame: F32) -> F32:
    """Mean of the 5 x 5-block window around each block."""
    sums = block_sums(frame.astype(np.float64))
    return (box_sum(sums) / (box_sum(np.ones_like(sums)) * BLOCK * BLOCK)).astype(np.float32)


def block_mean(frame: F32) -> F32:
    """`window_mean` expanded back to pixels (edge rows/columns beyond whole tiles repeat)."""
    means = window_mean(frame)
    full = np.repeat(np.repeat(means, BLOCK, axis=0), BLOCK, axis=1)
    out = np.empty_like(frame)
    out[...] = np.pad(full, ((0, frame.shape[0] - full.shape[0]), (0, frame.shape[1] - full.shape[1])), mode="edge")
    return out

