"""The simulator's cameras: a real RTSP server process (GStreamer's rtsp-server) looping pre-encoded clips.

    simulator:
      cameras:
        port: 8554                    # rtsp://127.0.0.1:8554/<id>
        clip_dir: storage/sim_clips   # clips encoded once by ffmpeg, then reused
        streams:
          - {id: tarajal_lane1, label: "Tarajal carril 1", pattern: testsrc2}

Clips are encoded once (camera_clips.py, in an executor) and then served without re-encoding; the
server runs under Debian's python3 (python3-gi, gir1.2-gst-rtsp-server-1.0) as a supervised child
(restart with Backoff, killed with the hub). `async_start` returns once it listens.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub.core import Hub, callback
from hub.helpers import config_validation as cv
from hub.helpers.backoff import Backoff
from integrations.camera.const import DATA_SIM_STREAMS
from integrations.camera.process import SupervisedProcess

from .camera_clips import PATTERNS, SCENES, ClipSpec, ensure_clips_in_worker, ffmpeg_available

__all__ = ["CAMERAS_SCHEMA", "SYSTEM_PYTHON", "SimulatedCameras", "clip_specs", "rtsp_server_available"]

_LOGGER = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-gi lives
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server_gst.py")
_PROBE = ("import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer")

STREAM_SCHEMA = vol.Schema({
    vol.Required("id"): vol.All(cv.string, vol.Match(r"^[a-z0-9_]+$", msg="expected lower-case letters, digits, _")),
    vol.Optional("label"): cv.string,
    vol.Optional("pattern"): vol.In(PATTERNS),
    # a rendered scene instead of a pattern: `face` (a known face in a square), `plates` (vehicles with plates)
    vol.Optional("scene"): vol.In(SCENES),
    vol.Optional("plates", default=list): [vol.All(cv.string, vol.Match(r"^[A-Z0-9]{4,10}$"))],
    vol.Optional("seed", default=0): vol.Coerce(int),
    vol.Optional("width", default=640): vol.All(vol.Coerce(int), vol.Range(min=64, max=3840)),
    vol.Optional("height", default=360): vol.All(vol.Coerce(int), vol.Range(min=64, max=2160)),
    vol.Optional("bitrate_kbps", default=800): vol.All(vol.Coerce(int), vol.Range(min=50, max=20000)),
})
CAMERAS_SCHEMA = vol.Schema({
    vol.Optional("host", default="127.0.0.1"): cv.string,
    vol.Optional("port", default=8554): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
    vol.Optional("clip_dir", default="storage/sim_clips"): cv.string,
    vol.Optional("clip_seconds", default=20): vol.All(vol.Coerce(int), vol.Range(min=2, max=600)),
    vol.Optional("fps", default=25): vol.All(vol.Coerce(int), vol.Range(min=1, max=60)),
    vol.Optional("streams", default=list): [STREAM_SCHEMA],
}, extra=vol.PREVENT_EXTRA)


def rtsp_server_available() -> bool:
    """Whether ffmpeg and GStreamer's RTSP server (through Debian's python3-gi) are installed (blocking)."""
    if not ffmpeg_available() or shutil.which(SYSTEM_PYTHON) is None:
        return False
    result = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, timeout=30, check=False)
    return result.returncode == 0


def clip_specs(config: dict[str, Any]) -> list[ClipSpec]:
    """The clip of each stream of a validated `cameras:` section."""
    return [ClipSpec(name=s["id"], label=s.get("label") or s["id"],
                     pattern=s.get("pattern") or PATTERNS[i % len(PATTERNS)], width=s["width"], height=s["height"],
                     fps=config["fps"], seconds=config["clip_seconds"], bitrate_kbps=s["bitrate_kbps"],
                     scene=s.get("scene") or "", plates=tuple(s["plates"]), seed=s["seed"])
            for i, s in enumerate(config["streams"])]


class SimulatedCameras:
    """The RTSP server process and its clips."""

    def __init__(self, hub: Hub, config: dict[str, Any]) -> None:
        self.hub = hub
        self.config = config
        clip_dir = Path(config["clip_dir"])
        self.clip_dir = clip_dir if clip_dir.is_absolute() else hub.path(str(clip_dir))
        self.specs = clip_specs(config)
        self.clips: dict[str, Path] = {}
        self.process: SupervisedProcess | None = None
        self._ready: asyncio.Event = asyncio.Event()

    def url(self, stream_id: str) -> str:
        """The RTSP URL of one simulated camera."""
        return f"rtsp://{self.config['host']}:{self.config['port']}/{stream_id}"

    async def async_start(self, timeout: float = 30.0) -> bool:
        """Encode missing clips, start the server, wait until it listens; False when it cannot run here."""
        if not self.specs:
            return False
        if not await self.hub.async_add_executor_job(rtsp_server_available):
            _LOGGER.warning("Simulated cameras not started: ffmpeg or GStreamer's RTSP server is missing "
                            "(scripts/setup-video.sh installs them)")
            return False
        self._ready.clear()  # started again after a stop: wait for the new server
        self.clips = await self.hub.async_add_executor_job(ensure_clips_in_worker, self.clip_dir, self.specs)
        self.process = SupervisedProcess(self.hub, "simulated RTSP server", self._command,
                                         on_stdout=self._on_line, on_stderr=self._on_error,
                                         backoff=Backoff(initial=0.5, maximum=30.0))
        self.process.start()
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            _LOGGER.error("Simulated RTSP server did not start within %.0f s: %s", timeout,
                          self.process.last_error or "no message")
            return False
        self.hub.data[DATA_SIM_STREAMS] = self.url
        _LOGGER.info("Simulated cameras on rtsp://%s:%s/ (%s)", self.config["host"], self.config["port"],
                     ", ".join(self.clips))
        return True

    def _command(self) -> list[str]:
        mounts = [arg for name, path in self.clips.items() for arg in ("--mount", f"{name}={path}")]
        return [SYSTEM_PYTHON if Path(SYSTEM_PYTHON).exists() else sys.executable, str(SERVER_SCRIPT),
                "--host", self.config["host"], "--port", str(self.config["port"]),
                "--fps", str(self.config["fps"]), *mounts]

    @callback
    def _on_line(self, line: str) -> None:
        if line.startswith("ready"):
            assert self.process is not None
            self.process.mark_healthy()
            self._ready.set()

    @callback
    def _on_error(self, line: str) -> None:
        if line.strip():
            _LOGGER.debug("RTSP server: %s", line)

    async def async_stop(self) -> None:
        """Stop the server."""
        if self.hub.data.get(DATA_SIM_STREAMS) == self.url:
            del self.hub.data[DATA_SIM_STREAMS]
        if self.process is not None:
            await self.process.async_stop()
            self.process = None
