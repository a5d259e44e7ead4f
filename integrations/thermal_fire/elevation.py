"""Elevation grids for geolocation: the NPY + JSON header format, bilinear lookup, flat fallback.

The format ("hacho-elevation/1") is two files side by side::

    terrain.npy    2-D float32 array, metres above mean sea level, row 0 the northern edge
    terrain.json   {"format": "hacho-elevation/1", "north": 35.95, "west": -5.55,
                    "dlat": 0.000277778, "dlon": 0.000277778, "rows": 1440, "cols": 1800,
                    "units": "m", "vertical_datum": "mean sea level", "nodata": -9999.0,
                    "outside": 0.0, "land_cover": "terrain_cover.npy"}

`north`/`west` are the latitude/longitude of the centre of cell (0, 0); cell (r, c) is at
(north - r*dlat, west + c*dlon). One arc-second spacing (SRTM/Copernicus GLO-30) is typical.
`nodata` cells and points outside the grid read as `outside` (sea level by default, right for a
coastal site). `land_cover` (optional) names an int8 NPY of the same shape: 0 sea, 1 vegetation,
2 rock, 3 urban; without it, cells at or below 0.5 m count as water.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from .const import COVER_SEA, COVER_VEGETATION

__all__ = ["FORMAT", "ElevationGrid", "FlatTerrain", "Terrain", "TerrainError", "load_terrain"]

FORMAT = "hacho-elevation/1"
WATER_LEVEL_M = 0.5

FloatArray = npt.NDArray[np.float64]


class TerrainError(ValueError):
    """An elevation grid could not be read or is malformed (the message names the file)."""


class Terrain(Protocol):
    """What geolocation needs from terrain: elevation and water at (lat, lon) arrays."""

    def elevation(self, lat: Any, lon: Any) -> FloatArray:
        """Metres above mean sea level (bilinear), same shape as the inputs."""

    def is_water(self, lat: Any, lon: Any) -> npt.NDArray[np.bool_]:
        """Whether each point is open water."""

    @property
    def spacing_m(self) -> float:
        """Grid spacing in metres (the ray-march step follows it)."""

    @property
    def max_elevation_m(self) -> float:
        """The highest elevation anywhere (rays above it and rising are sky)."""


@dataclass(frozen=True, slots=True)
class FlatTerrain:
    """The flat fallback: the same height everywhere, land (or water when `water`)."""

    height_m: float = 0.0
    water: bool = False

    def elevation(self, lat: Any, lon: Any) -> FloatArray:
        return np.full(np.shape(lat), self.height_m, dtype=np.float64)

    def is_water(self, lat: Any, lon: Any) -> npt.NDArray[np.bool_]:
        return np.full(np.shape(lat), self.water, dtype=bool)

    @property
    def spacing_m(self) -> float:
        return 30.0

    @property
    def max_elevation_m(self) -> float:
        return self.height_m


class ElevationGrid:
    """A regular latitude/longitude grid of elevations with optional land cover."""

    def __init__(
        self,
        data: npt.ArrayLike,
        *,
        north: float,
        west: float,
        dlat: float,
        dlon: float,
        nodata: float | None = -9999.0,
        outside: float = 0.0,
        land_cover: npt.ArrayLike | None = None,
    ) -> None:
        array = np.asarray(data, dtype=np.float32)
        if array.ndim != 2 or min(array.shape) < 2:
            raise TerrainError(f"elevation grid must be a 2-D array of at least 2x2, got shape {array.shape}")
        if dlat <= 0 or dlon <= 0:
            raise TerrainError(f"grid spacing must be positive, got dlat={dlat} dlon={dlon}")
        if nodata is not None:
            array = np.where(array == np.float32(nodata), np.float32(outside), array)
        array = np.where(np.isfinite(array), array, np.float32(outside)).astype(np.float32)
        # One buffer: a padded copy (one ring of `outside`, so the bilinear lookup needs no bounds branches),
        # `data` being the view of its inside.
        self._padded = np.pad(array, 1, constant_values=np.float32(outside))
        self.data = self._padded[1:-1, 1:-1]
        self.north = float(north)
        self.west = float(west)
        self.dlat = float(dlat)
        self.dlon = float(dlon)
        self.outside = float(outside)
        self.rows, self.cols = array.shape
        cover = None
        if land_cover is not None:
            cover = np.asarray(land_cover, dtype=np.int8)
            if cover.shape != array.shape:
                raise TerrainError(f"land cover shape {cover.shape} differs from elevation shape {array.shape}")
        self.land_cover = cover
        self.max_elevation_m = max(float(array.max()), self.outside)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (to and from worker processes) without `data`, which is a view of the padded grid."""
        state = dict(self.__dict__)
        del state["data"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.data = self._padded[1:-1, 1:-1]

    # ---- geometry

    @property
    def south(self) -> float:
        """Latitude of the centre of the last row."""
        return self.north - (self.rows - 1) * self.dlat

    @property
    def east(self) -> float:
        """Longitude of the centre of the last column."""
        return self.west + (self.cols - 1) * self.dlon

    @property
    def spacing_m(self) -> float:
        """The smaller of the two cell sides, in metres."""
        lat_mid = math.radians((self.north + self.south) / 2)
        return min(self.dlat * 111_195.0, self.dlon * 111_195.0 * math.cos(lat_mid))

    def contains(self, lat: float, lon: float) -> bool:
        """Whether (lat, lon) lies inside the grid."""
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def _fractional(self, lat: Any, lon: Any) -> tuple[FloatArray, FloatArray]:
        row = (self.north - np.asarray(lat, dtype=np.float64)) / self.dlat
        col = (np.asarray(lon, dtype=np.float64) - self.west) / self.dlon
        return row, col

    # ---- lookups

    def elevation(self, lat: Any, lon: Any) -> FloatArray:
        """Bilinear elevation in metres; `outside` beyond the grid."""
        row, col = self._fractional(lat, lon)
        # shift by one for the padding ring, clamp to the ring beyond which everything is `outside`
        r = np.clip(row + 1.0, 0.0, self.rows + 0.999)
        c = np.clip(col + 1.0, 0.0, self.cols + 0.999)
        r0 = r.astype(np.intp)
        c0 = c.astype(np.intp)
        fr = r - r0
        fc = c - c0
        pad = self._padded
        z00 = pad[r0, c0]
        z01 = pad[r0, c0 + 1]
        z10 = pad[r0 + 1, c0]
        z11 = pad[r0 + 1, c0 + 1]
        top = z00 + (z01 - z00) * fc
        bottom = z10 + (z11 - z10) * fc
        result = top + (bottom - top) * fr
        outside = (row < -1) | (row > self.rows) | (col < -1) | (col > self.cols)
        if np.any(outside):
            result = np.where(outside, self.outside, result)
        return np.asarray(result, dtype=np.float64)

    def cover(self, lat: Any, lon: Any) -> npt.NDArray[np.int8]:
        """Nearest land-cover class (0 sea beyond the grid); derived from elevation without a cover grid."""
        if self.land_cover is None:
            water = self.elevation(lat, lon) <= WATER_LEVEL_M
            return np.where(water, COVER_SEA, COVER_VEGETATION).astype(np.int8)
        row, col = self._fractional(lat, lon)
        r = np.rint(row).astype(np.intp)
        c = np.rint(col).astype(np.intp)
        inside = (r >= 0) & (r < self.rows) & (c >= 0) & (c < self.cols)
        result = np.full(np.shape(r), COVER_SEA, dtype=np.int8)
        result[inside] = self.land_cover[r[inside], c[inside]]
        return result

    def is_water(self, lat: Any, lon: Any) -> npt.NDArray[np.bool_]:
        """Open water: land cover sea, or at/below 0.5 m without a land-cover grid."""
        return np.asarray(self.cover(lat, lon) == COVER_SEA)

    # ---- files

    def header(self) -> dict[str, Any]:
        """The JSON header describing this grid."""
        return {
            "format": FORMAT,
            "north": self.north,
            "west": self.west,
            "dlat": self.dlat,
            "dlon": self.dlon,
            "rows": self.rows,
            "cols": self.cols,
            "units": "m",
            "vertical_datum": "mean sea level",
            "nodata": -9999.0,
            "outside": self.outside,
        }

    def save(self, path: str | Path) -> Path:
        """Write `<path>.npy` and `<path>.json` (plus `<path>_cover.npy` with land cover). Blocking."""
        base = Path(path).with_suffix("")
        header = self.header()
        np.save(base.with_suffix(".npy"), self.data)
        if self.land_cover is not None:
            cover_path = base.parent / f"{base.name}_cover.npy"
            np.save(cover_path, self.land_cover)
            header["land_cover"] = cover_path.name
        base.with_suffix(".json").write_text(json.dumps(header, indent=2), encoding="utf-8")
        return base.with_suffix(".json")

    @classmethod
    def load(cls, path: str | Path) -> ElevationGrid:
        """Read a grid from its JSON header path (or the NPY path beside it). Blocking."""
        base = Path(path).with_suffix("")
        header_path = base.with_suffix(".json")
        try:
            header = json.loads(header_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise TerrainError(f"{header_path}: cannot read elevation header: {err}") from err
        if header.get("format") != FORMAT:
            raise TerrainError(f"{header_path}: 'format' must be {FORMAT!r}, got {header.get('format')!r}")
        try:
            data = np.load(base.with_suffix(".npy"), allow_pickle=False)
            cover = None
            if header.get("land_cover"):
                cover = np.load(header_path.parent / str(header["land_cover"]), allow_pickle=False)
        except (OSError, ValueError) as err:
            raise TerrainError(f"{base.with_suffix('.npy')}: cannot read elevation data: {err}") from err
        expected = (int(header.get("rows", data.shape[0])), int(header.get("cols", data.shape[-1])))
        if data.shape != expected:
            raise TerrainError(f"{header_path}: header says {expected} cells, the array is {data.shape}")
        try:
            return cls(
                data,
                north=float(header["north"]),
                west=float(header["west"]),
                dlat=float(header["dlat"]),
                dlon=float(header["dlon"]),
                nodata=header.get("nodata", -9999.0),
                outside=float(header.get("outside", 0.0)),
                land_cover=cover,
            )
        except KeyError as err:
            raise TerrainError(f"{header_path}: missing key {err}") from err

    def __repr__(self) -> str:
        return f"<ElevationGrid {self.rows}x{self.cols} N{self.north:.4f} W{self.west:.4f} {self.spacing_m:.0f} m>"


def load_terrain(path: str | Path | None) -> Terrain:
    """The grid at `path`, or flat sea-level terrain when no path is given. Blocking."""
    if path is None:
        return FlatTerrain()
    return ElevationGrid.load(path)
