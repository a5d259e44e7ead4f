"""A tower's scan loop on the event loop: preset, dwell (grab, hand to the worker), move, next preset.

Only I/O and hand-over happen here: grabbing awaits the source (executor or network), and
`FrameWorker.submit` never blocks. Time comes from `hub.clock`, so tests drive the scan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from hub.core import Hub
from hub.exceptions import DeviceUnavailable
from hub.helpers.tasks import async_cancel_task

from .const import CAMERA_ERROR, CAMERA_SCANNING, CAMERA_STARTING
from .source import FrameSource, frames_per_dwell
from .worker import FrameWorker

__all__ = ["TowerScanner"]

_LOGGER = logging.getLogger(__name__)


class TowerScanner:
    """Drives one tower's camera through its presets and feeds its worker."""

    def __init__(
        self, hub: Hub, tower: dict[str, Any], source: FrameSource, worker: FrameWorker, on_status: Callable[[], None]
    ) -> None:
        self.hub = hub
        self.tower = tower
        self.source = source
        self.worker = worker
        self._on_status = on_status
        self.state = CAMERA_STARTING
        self.preset = 0
        self.grabbed = 0
        self.last_error: str | None = None
        self.ready = False
        self.idle = asyncio.Event()  # set while the loop waits for its next frame time
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the scan loop runs."""
        return self._task is not None and not self._task.done()

    def details(self) -> dict[str, Any]:
        """Attributes for the camera status sensor."""
        preset = self.tower["presets"][self.preset]
        return {
            "tower": self.tower["id"],
            "preset": preset["name"],
            "pan": preset["pan"],
            "tilt": preset["tilt"],
            "frames_grabbed": self.grabbed,
            "source": self.tower["camera"]["source"],
            "last_error": self.last_error,
            "worker_ready": self.ready,
        }

    async def async_start(self) -> None:
        """Start the source and the scan loop."""
        try:
            await self.source.async_start()
        except DeviceUnavailable as err:
            self._error(str(err))
            raise
        self._task = self.hub.async_create_background_task(self._run(), f"thermal_fire scan {self.tower['id']}")

    async def async_stop(self) -> None:
        """Stop scanning and release the source."""
        await async_cancel_task(self._task)
        self._task = None
        await self.source.async_stop()

    def _error(self, message: str) -> None:
        if self.last_error != message:
            _LOGGER.warning("Tower %s camera: %s", self.tower["id"], message)
        self.last_error = message
        self.state = CAMERA_ERROR
        self._on_status()

    async def _sleep(self, seconds: float) -> None:
        self.idle.set()
        try:
            await self.hub.clock.sleep(seconds)
        finally:
            self.idle.clear()

    async def _run(self) -> None:
        presets = self.tower["presets"]
        camera = self.tower["camera"]
        interval = float(camera["frame_interval_s"])
        clock = self.hub.clock
        index = 0
        self.idle.clear()
        while True:
            self.preset = index
            try:
                await self.source.async_goto(index)
            except DeviceUnavailable as err:
                self._error(str(err))
                await self._sleep(interval)
                continue
            for _ in range(frames_per_dwell(presets[index], camera)):
                try:
                    frame = await self.source.async_grab(clock.time())
                except DeviceUnavailable as err:
                    self._error(str(err))
                else:
                    self.worker.submit(frame.data, frame.timestamp, frame.preset, frame.pan, frame.tilt)
                    self.grabbed += 1
                    self.last_error = None
                    self.state = CAMERA_SCANNING if self.ready else CAMERA_STARTING
                    self._on_status()
                await self._sleep(interval)
            if len(presets) > 1 and float(camera["move_s"]) > 0:
                await self._sleep(float(camera["move_s"]))
            index = (index + 1) % len(presets)
