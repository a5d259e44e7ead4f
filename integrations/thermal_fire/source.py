"""Radiometric frame sources: a small plugin interface, the simulator, NPY/TIFF files, HTTP snapshots.

A source moves the camera to a preset and grabs frames of temperatures in kelvin. Sources are
chosen by the camera's `source:` key; third parties add one with `@register_source("name")`.
Blocking work (rendering, file reads) runs in the executor; network I/O uses aiohttp.
"""

from __future__ import annotations

import abc
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hub.core import Hub
from hub.exceptions import DeviceUnavailable

from .const import SOURCE_FILES, SOURCE_SIMULATOR, SOURCE_SNAPSHOT
from .imaging import ImageError, decode_tiff, read_tiff
from .worker import RenderRequest

__all__ = [
    "FileSequenceSource",
    "Frame",
    "FrameSource",
    "SimulatedIgnitions",
    "SimulatorSource",
    "SnapshotSource",
    "create_source",
    "register_source",
    "to_kelvin",
]

_LOGGER = logging.getLogger(__name__)

SOURCES: dict[str, type[FrameSource]] = {}


@dataclass(slots=True)
class Frame:
    """One radiometric frame: kelvin per pixel (or, for a simulated camera, the request the worker renders it
    from), when, which preset, the head's reported pose."""

    data: npt.NDArray[np.float32] | RenderRequest
    timestamp: float
    preset: int
    pan: float | None = None
    tilt: float | None = None


def register_source(name: str) -> Callable[[type[FrameSource]], type[FrameSource]]:
    """Class decorator: make a FrameSource available as `source: <name>`."""

    def decorate(cls: type[FrameSource]) -> type[FrameSource]:
        SOURCES[name] = cls
        return cls

    return decorate


def to_kelvin(raw: npt.NDArray[Any], camera: dict[str, Any]) -> npt.NDArray[np.float32]:
    """Convert raw pixel values with the camera's `units`, then `scale` and `offset`."""
    data = raw.astype(np.float32)
    units = camera.get("units", "kelvin")
    if units == "celsius":
        data = data + np.float32(273.15)
    elif units == "centikelvin":
        data = data * np.float32(0.01)
    elif units == "decikelvin":
        data = data * np.float32(0.1)
    scale, offset = float(camera.get("scale", 1.0)), float(camera.get("offset", 0.0))
    if scale != 1.0 or offset != 0.0:
        data = data * np.float32(scale) + np.float32(offset)
    return data


class FrameSource(abc.ABC):
    """A radiometric camera on a pan/tilt head."""

    def __init__(self, hub: Hub, tower: dict[str, Any], world: Any = None) -> None:
        self.hub = hub
        self.tower = tower
        self.world = world  # the shared simulated world, for sources that need it
        self.camera: dict[str, Any] = tower["camera"]
        self.preset = 0

    async def async_start(self) -> None:  # noqa: B027 - optional hook
        """Prepare (open connections, load data)."""

    async def async_stop(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    async def async_goto(self, preset: int) -> None:
        """Move to a preset (index into the tower's presets)."""
        self.preset = preset

    @abc.abstractmethod
    async def async_grab(self, timestamp: float) -> Frame:
        """Take a frame now (`timestamp` from hub.clock). Raises DeviceUnavailable on failure."""

    def _check(self, data: npt.NDArray[Any], where: str) -> npt.NDArray[np.float32]:
        expected = (self.camera["height"], self.camera["width"])
        if data.ndim != 2 or data.shape != expected:
            raise DeviceUnavailable(f"{where}: frame is {data.shape}, camera {self.tower['id']} expects {expected}")
        return to_kelvin(data, self.camera)


class SimulatedIgnitions:
    """The hub's side of the simulated world: the fires started at run time (`simulate_ignition`). The scene
    itself is rendered in each simulated tower's worker process, which gets these with every render request."""

    def __init__(self) -> None:
        self.started: tuple[tuple[float, float, float, float], ...] = ()

    def ignite(self, lat: float, lon: float, ts: float, spread_ms: float = 0.01) -> tuple[float, float, float]:
        """Start a fire in the simulated world; (lat, lon, start_ts)."""
        self.started = (*self.started, (float(lat), float(lon), float(ts), float(spread_ms)))
        _LOGGER.info("Simulated ignition at %.5f, %.5f", lat, lon)
        return float(lat), float(lon), float(ts)


@register_source(SOURCE_SIMULATOR)
class SimulatorSource(FrameSource):
    """The simulated tower camera of `simulator.py`. Its frames are rendered by the tower's worker process:
    the hub only queues render requests (which visit of the head, which fires were started)."""

    def __init__(self, hub: Hub, tower: dict[str, Any], world: Any = None) -> None:
        super().__init__(hub, tower, world)
        self.visit = 0

    async def async_start(self) -> None:
        if not isinstance(self.world, SimulatedIgnitions):
            raise DeviceUnavailable(f"tower {self.tower['id']}: the simulator source needs the simulated world")

    async def async_goto(self, preset: int) -> None:
        self.preset = preset
        self.visit += 1  # the head settles with a new pointing offset on each visit

    async def async_grab(self, timestamp: float) -> Frame:
        preset = self.tower["presets"][self.preset]
        request = RenderRequest(self.visit, self.world.started)
        return Frame(request, timestamp, self.preset, preset["pan"], preset["tilt"])


@register_source(SOURCE_FILES)
class FileSequenceSource(FrameSource):
    """Frames from a folder: `pattern` per preset (`{preset}` is the preset name), NPY or TIFF, in name order."""

    def __init__(self, hub: Hub, tower: dict[str, Any], world: Any = None) -> None:
        super().__init__(hub, tower, world)
        self._files: dict[int, list[Path]] = {}
        self._next: dict[int, int] = {}

    async def async_start(self) -> None:
        self._files = await self.hub.async_add_executor_job(self._list)
        if not any(self._files.values()):
            raise DeviceUnavailable(
                f"tower {self.tower['id']}: no frames in {self.camera['path']} matching {self.camera['pattern']!r}"
            )

    def _list(self) -> dict[int, list[Path]]:
        root = Path(self.camera["path"])
        files = {}
        for index, preset in enumerate(self.tower["presets"]):
            pattern = self.camera["pattern"].format(preset=preset["name"], index=index)
            files[index] = sorted(p for p in root.glob(pattern) if p.suffix.lower() in (".npy", ".tif", ".tiff"))
        return files

    async def async_grab(self, timestamp: float) -> Frame:
        files = self._files.get(self.preset) or []
        position = self._next.get(self.preset, 0)
        if position >= len(files):
            if not files or not self.camera.get("loop", True):
                raise DeviceUnavailable(f"tower {self.tower['id']}: no more frames for preset {self.preset}")
            position = 0
        self._next[self.preset] = position + 1
        path = files[position]
        raw = await self.hub.async_add_executor_job(_read_frame, path)
        preset = self.tower["presets"][self.preset]
        return Frame(self._check(raw, str(path)), timestamp, self.preset, preset["pan"], preset["tilt"])


def _read_frame(path: Path) -> npt.NDArray[Any]:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False)
        return read_tiff(path)
    except (OSError, ValueError, ImageError) as err:
        raise DeviceUnavailable(f"{path}: cannot read frame: {err}") from err


@register_source(SOURCE_SNAPSHOT)
class SnapshotSource(FrameSource):
    """A real camera over HTTP: GET `url` returns a radiometric TIFF or NPY, GET `ptz_url` moves the head.

    Both URLs may use {preset} (name), {index}, {pan} and {tilt}. Vendor drivers (ONVIF PTZ, FLIR,
    Hikvision radiometric APIs) fit behind this same interface.
    """

    def __init__(self, hub: Hub, tower: dict[str, Any], world: Any = None) -> None:
        super().__init__(hub, tower, world)
        self._session: Any = None

    async def async_start(self) -> None:
        import aiohttp

        auth = None
        if self.camera.get("username"):
            auth = aiohttp.BasicAuth(self.camera["username"], self.camera.get("password", ""))
        self._session = aiohttp.ClientSession(
            auth=auth, timeout=aiohttp.ClientTimeout(total=float(self.camera["timeout_s"]))
        )

    async def async_stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, template: str) -> str:
        preset = self.tower["presets"][self.preset]
        return template.format(preset=preset["name"], index=self.preset, pan=preset["pan"], tilt=preset["tilt"])

    async def async_goto(self, preset: int) -> None:
        self.preset = preset
        if self.camera.get("ptz_url"):
            await self._get(self._url(self.camera["ptz_url"]))

    async def _get(self, url: str) -> bytes:
        import aiohttp

        if self._session is None:
            raise DeviceUnavailable(f"tower {self.tower['id']}: snapshot source not started")
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    raise DeviceUnavailable(f"{url}: HTTP {response.status}")
                return bytes(await response.read())
        except (TimeoutError, aiohttp.ClientError) as err:
            raise DeviceUnavailable(f"{url}: {type(err).__name__}: {err}") from err

    async def async_grab(self, timestamp: float) -> Frame:
        url = self._url(self.camera["url"])
        body = await self._get(url)
        raw = await self.hub.async_add_executor_job(_decode, body, self.camera["format"], url)
        preset = self.tower["presets"][self.preset]
        return Frame(self._check(raw, url), timestamp, self.preset, preset["pan"], preset["tilt"])


def _decode(body: bytes, fmt: str, where: str) -> npt.NDArray[Any]:
    try:
        if fmt == "npy":
            return np.load(io.BytesIO(body), allow_pickle=False)
        return decode_tiff(body)
    except (ValueError, ImageError, OSError) as err:
        raise DeviceUnavailable(f"{where}: not a radiometric {fmt}: {err}") from err


def create_source(hub: Hub, tower: dict[str, Any], world: Any = None) -> FrameSource:
    """The source named by the tower's camera `source:`."""
    name = tower["camera"]["source"]
    cls = SOURCES.get(name)
    if cls is None:
        raise DeviceUnavailable(f"tower {tower['id']}: unknown source {name!r} (known: {sorted(SOURCES)})")
    return cls(hub, tower, world)


def frames_per_dwell(preset: dict[str, Any], camera: dict[str, Any]) -> int:
    """How many frames a preset visit takes."""
    return max(1, math.floor(float(preset["dwell_s"]) / float(camera["frame_interval_s"]) + 1e-9))
