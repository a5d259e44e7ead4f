"""The camera entity: `recording` or `streaming` while packets arrive, unavailable when they stop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.core import callback
from hub.helpers.entity import Entity

from .config import redact_url
from .const import DOMAIN, MODE_OFF

if TYPE_CHECKING:
    from .recorder import CameraStream

__all__ = ["CameraEntity"]


class CameraEntity(Entity):
    """One camera; its stream URLs (without credentials), mode, presets and recorder counters."""

    domain = DOMAIN
    _attr_should_poll = False

    def __init__(self, camera: CameraStream) -> None:
        self.camera = camera
        cfg = camera.config
        self._attr_name = cfg.name
        self._attr_unique_id = f"{DOMAIN}_{cfg.id}"
        self._attr_suggested_object_id = cfg.id
        self._attr_area_id = cfg.area
        self._attr_icon = "mdi:cctv"
        self.preset: str | None = None

    async def async_added_to_hub(self) -> None:
        self.camera.on_change = self._changed

    async def async_will_remove_from_hub(self) -> None:
        self.camera.on_change = None

    @callback
    def _changed(self) -> None:
        self.async_write_state()

    @property
    def available(self) -> bool:
        return self.camera.available

    @property
    def state(self) -> str:
        return "streaming" if self.camera.config.mode == MODE_OFF else "recording"

    def _presets(self) -> list[str]:
        """The ONVIF device's presets once read (none while unread), else the configured ones."""
        ptz = self.camera.manager.ptz.get(self.camera.config.id)
        if ptz is None:
            return list(self.camera.config.presets)
        return list(ptz.presets or ())

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        cfg = self.camera.config
        attrs: dict[str, Any] = {
            "camera_id": cfg.id, "main": redact_url(cfg.main), "mode": cfg.mode,
            "retention_days": cfg.retention_days, "shared": cfg.shared, "presets": self._presets(),
            **self.camera.as_dict(),
        }
        if cfg.sub:
            attrs["sub"] = redact_url(cfg.sub)
        if cfg.snapshot_url:
            attrs["snapshot_url"] = redact_url(cfg.snapshot_url)
        if self.preset is not None:
            attrs["preset"] = self.preset
        if cfg.latitude is not None and cfg.longitude is not None:
            attrs["latitude"] = cfg.latitude
            attrs["longitude"] = cfg.longitude
        return attrs
