"""Entities: `geo_location.fire_<n>` per fire, the fire-weather-index sensor, a status sensor per camera."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.helpers.entity import Entity

from .const import DOMAIN, FIRE_OBJECT_PREFIX, GEO_LOCATION_DOMAIN
from .fires import Fire
from .worker import WorkerStats

__all__ = ["CameraStatusSensor", "FireEntity", "FireWeatherSensor"]


class FireEntity(Entity):
    """A located fire for the map and automations: state is the distance (km) from the nearest tower."""

    domain = GEO_LOCATION_DOMAIN
    _attr_unit_of_measurement = "km"
    _attr_icon = "mdi:fire"

    def __init__(self, fire: Fire, distance_km: float, name: str) -> None:
        self.fire = fire
        self._attr_suggested_object_id = f"{FIRE_OBJECT_PREFIX}{fire.number}"
        self._attr_name = name
        self._distance_km = distance_km
        self._extra: dict[str, Any] = {}

    def set_details(self, distance_km: float, extra: Mapping[str, Any]) -> None:
        """Refresh what the entity shows (memory only; call async_write_state after)."""
        self._distance_km = distance_km
        self._extra = dict(extra)

    @property
    def state(self) -> Any:
        return round(self._distance_km, 2)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        fix = self.fire.fix
        attrs: dict[str, Any] = {
            "source": DOMAIN,
            "fire_id": self.fire.fire_id,
            "status": self.fire.status,
            "towers": self.fire.towers,
        }
        if fix is not None:
            attrs.update(
                {
                    "latitude": round(fix.lat, 6),
                    "longitude": round(fix.lon, 6),
                    "altitude_m": round(fix.altitude_m, 1),
                    "uncertainty_m": round(fix.uncertainty_m, 1),
                    "bearings": {k: round(v, 3) for k, v in fix.bearings.items()},
                    "polygon": [[round(p[0], 6), round(p[1], 6)] for p in fix.polygon],
                }
            )
        attrs.update(self._extra)
        return attrs


class FireWeatherSensor(Entity):
    """Fosberg Fire Weather Index from the weather station entities (see weather.py)."""

    domain = "sensor"
    _attr_icon = "mdi:fire-alert"

    def __init__(self, name: str) -> None:
        self._attr_name = name
        self._attr_suggested_object_id = "fire_weather_index"
        self._attr_unique_id = f"{DOMAIN}_fire_weather_index"
        self._value: float | None = None
        self._details: dict[str, Any] = {}

    def set_value(self, value: float | None, details: Mapping[str, Any]) -> None:
        """New index value (None when an input is missing) and its inputs."""
        self._value = value
        self._details = dict(details)

    @property
    def state(self) -> Any:
        return self._value

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        return {"index": "fosberg_ffwi", **self._details}


class CameraStatusSensor(Entity):
    """What a tower camera is doing: scanning, starting or error, with queue and frame counters."""

    domain = "sensor"
    _attr_icon = "mdi:cctv"

    def __init__(self, tower: dict[str, Any], name: str) -> None:
        self.tower_id = tower["id"]
        self._attr_name = name
        self._attr_suggested_object_id = f"{tower['id']}_thermal_camera"
        self._attr_unique_id = f"{DOMAIN}_{tower['id']}_camera"
        self._state = "starting"
        self._details: dict[str, Any] = {}

    def set_status(self, state: str, stats: WorkerStats, details: Mapping[str, Any]) -> None:
        """Refresh from the scanner and the worker counters."""
        self._state = state
        self._details = {
            "frames_submitted": stats.submitted,
            "frames_processed": stats.processed,
            "frames_dropped": stats.dropped,
            "worker_errors": stats.errors,
            "last_processing_ms": round(stats.last_ms, 2),
            **details,
        }

    @property
    def state(self) -> Any:
        return self._state

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        return self._details
