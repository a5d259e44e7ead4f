"""ONVIF PTZ for a camera with an `onvif:` block, through onvif-zeep-async (the library Home Assistant uses).

Reads the device's presets (name -> token of the first media profile) and moves it with GotoPreset. Library and
network errors stop here: they become DeviceUnavailable (device unreachable, wrong answer or refused credentials)
with a message naming the camera, never an exception from zeep or httpx.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hub.exceptions import DeviceUnavailable

__all__ = ["OnvifPtz"]

_LOGGER = logging.getLogger(__name__)


class OnvifPtz:
    """One camera's ONVIF connection; `presets` is None until read from the device."""

    def __init__(self, camera_id: str, conf: dict[str, Any]) -> None:
        self.camera_id = camera_id
        self.host: str = conf["host"]
        self.port: int = conf["port"]
        self.timeout: float = conf["timeout"]
        self._username: str | None = conf.get("username")
        self._password: str | None = conf.get("password")
        self.presets: dict[str, str] | None = None  # preset name -> token
        self._profile: str | None = None
        self._device: Any = None
        self._ptz: Any = None
        self._lock = asyncio.Lock()

    def _error(self, what: str, err: BaseException) -> DeviceUnavailable:
        reason = "no answer in time" if isinstance(err, TimeoutError) else (str(err) or type(err).__name__)
        return DeviceUnavailable(f"camera {self.camera_id}: ONVIF device {self.host}:{self.port} {what}: {reason}")

    async def async_connect(self) -> dict[str, str]:
        """Connect (once) and read the presets of the first media profile; raises DeviceUnavailable."""
        async with self._lock:
            if self.presets is not None:
                return self.presets
            from onvif import ONVIFCamera  # the library is only imported when a camera has an `onvif:` block

            device = ONVIFCamera(self.host, self.port, self._username, self._password)
            try:
                async with asyncio.timeout(self.timeout):
                    await device.update_xaddrs()
                    media = await device.create_media_service()
                    profiles = await media.GetProfiles()
                    if not profiles:
                        raise DeviceUnavailable(f"camera {self.camera_id}: ONVIF device {self.host}:{self.port} "
                                                "has no media profile")
                    ptz = await device.create_ptz_service()
                    profile = profiles[0].token
                    answer = await ptz.GetPresets({"ProfileToken": profile})
            except DeviceUnavailable:
                await self._close(device)
                raise
            except Exception as err:
                await self._close(device)
                raise self._error("could not be read", err) from err
            self._device, self._ptz, self._profile = device, ptz, profile
            self.presets = {(item.Name or item.token): item.token for item in answer or []}
            _LOGGER.info("camera %s: ONVIF presets %s", self.camera_id, ", ".join(self.presets) or "none")
            return self.presets

    async def async_goto(self, preset: str) -> str:
        """Move to a preset named as the device names it (or by its token); returns the token."""
        presets = await self.async_connect()
        token = presets.get(preset) or (preset if preset in presets.values() else None)
        if token is None:
            raise KeyError(preset)
        try:
            async with asyncio.timeout(self.timeout):
                await self._ptz.GotoPreset({"ProfileToken": self._profile, "PresetToken": token})
        except Exception as err:
            await self.async_close()  # reconnect (and re-read the presets) on the next call
            raise self._error(f"did not go to preset {preset!r}", err) from err
        return token

    async def async_close(self) -> None:
        device, self._device, self._ptz, self.presets = self._device, None, None, None
        if device is not None:
            await self._close(device)

    async def _close(self, device: Any) -> None:
        try:
            await device.close()
        except Exception as err:
            _LOGGER.debug("camera %s: closing ONVIF transport: %s", self.camera_id, err)
