"""ANPR entities: a camera status entity, count sensors, journey time/speed and congestion sensors,
hotlist sizes and hit acceptance. Properties read the manager's memory only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.helpers.entity import Entity
from hub.helpers.translation import localized_name

from .const import DOMAIN, ENTITY_NAMES

if TYPE_CHECKING:
    from .manager import AnprManager, CameraState

__all__ = [
    "AcceptanceSensor",
    "CameraEntity",
    "CongestionSensor",
    "CountSensor",
    "HotlistSizeSensor",
    "JourneySpeedSensor",
    "JourneyTimeSensor",
]


class _AnprEntity(Entity):

    def __init__(self, manager: AnprManager) -> None:
        self.manager = manager


class CameraEntity(_AnprEntity):
    """A plate camera: `streaming` while frames come in; its counters as attributes."""

    domain = "camera"

    def __init__(self, manager: AnprManager, camera: CameraState) -> None:
        super().__init__(manager)
        self.camera = camera
        cfg = camera.config
        self._attr_name = cfg.name
        self._attr_unique_id = f"{DOMAIN}_{cfg.id}"
        self._attr_suggested_object_id = f"anpr_{cfg.id}"
        self._attr_area_id = cfg.area
        self._attr_icon = "mdi:cctv"

    @property
    def available(self) -> bool:
        return self.camera.available

    @property
    def state(self) -> str:
        return "streaming"

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        cam = self.camera
        cfg = cam.config
        attrs: dict[str, Any] = {
            "camera_id": cfg.id, "source_type": cfg.type, "fps_limit": cfg.fps, "fps": cam.fps,
            "frames": cam.frames, "processed_frames": cam.processed, "dropped_frames": cam.dropped,
            "queue": cam.queue, "passes": cam.passes, "hits": cam.hits, "lane": cfg.lane,
            "direction": cfg.direction, "worker_restarts": cam.restarts,
        }
        if cfg.latitude is not None and cfg.longitude is not None:
            attrs["latitude"] = cfg.latitude
            attrs["longitude"] = cfg.longitude
        if cam.last_pass_ts is not None:
            attrs["last_pass"] = cam.last_pass_ts
        return attrs


class CountSensor(_AnprEntity):
    """Vehicles past one camera (one lane) in the last minute or 15 minutes."""

    def __init__(self, manager: AnprManager, camera: CameraState, window: int) -> None:
        super().__init__(manager)
        self.camera = camera
        self.window = window
        cfg = camera.config
        self._attr_name = localized_name(manager.hub, ENTITY_NAMES, "vehicles", camera=cfg.name,
                                         minutes=window // 60)
        self._attr_unique_id = f"{DOMAIN}_{cfg.id}_count_{window}"
        self._attr_suggested_object_id = f"anpr_{cfg.id}_count_{window // 60}m"
        self._attr_unit_of_measurement = "vehicles"
        self._attr_area_id = cfg.area
        self._attr_icon = "mdi:car-multiple"

    @property
    def state(self) -> int:
        return self.camera.counters[self.window].count(self.manager.now())

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        counter = self.camera.counters[self.window]
        return {"camera_id": self.camera.config.id, "lane": self.camera.config.lane,
                "window_seconds": self.window, "flow_per_hour": counter.per_hour(self.manager.now()),
                "total": counter.total}


class _JourneyEntity(_AnprEntity):
    def __init__(self, manager: AnprManager, journey_id: str, suffix: str) -> None:
        super().__init__(manager)
        self.journey_id = journey_id
        cfg = manager.journeys[journey_id].config
        self._attr_name = localized_name(manager.hub, ENTITY_NAMES, suffix, journey=cfg.name)
        self._attr_unique_id = f"{DOMAIN}_journey_{journey_id}_{suffix}"
        self._attr_suggested_object_id = f"anpr_{journey_id}_{suffix}"

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        cfg = self.manager.journeys[self.journey_id].config
        stats = self.manager.journey_stats(self.journey_id)
        return {"from": cfg.origin, "to": cfg.destination, "distance_m": cfg.distance_m,
                "free_flow_kmh": cfg.free_flow_kmh, "samples": stats.samples,
                "window_seconds": cfg.window_seconds}


class JourneyTimeSensor(_JourneyEntity):
    """Median journey time between two cameras (seconds)."""

    _attr_unit_of_measurement = "s"
    _attr_device_class = "duration"

    def __init__(self, manager: AnprManager, journey_id: str) -> None:
        super().__init__(manager, journey_id, "journey_time")

    @property
    def state(self) -> float | None:
        return self.manager.journey_stats(self.journey_id).median_seconds


class JourneySpeedSensor(_JourneyEntity):
    """Average speed over the section (km/h), from the median journey time."""

    _attr_unit_of_measurement = "km/h"
    _attr_device_class = "speed"

    def __init__(self, manager: AnprManager, journey_id: str) -> None:
        super().__init__(manager, journey_id, "speed")

    @property
    def state(self) -> float | None:
        return self.manager.journey_stats(self.journey_id).speed_kmh


class CongestionSensor(_JourneyEntity):
    """Congestion of the road section: free, heavy, congested or unknown."""

    _attr_device_class = "enum"
    _attr_icon = "mdi:traffic-light"

    def __init__(self, manager: AnprManager, journey_id: str) -> None:
        super().__init__(manager, journey_id, "congestion")

    @property
    def state(self) -> str:
        return self.manager.journey_stats(self.journey_id).congestion


class HotlistSizeSensor(_AnprEntity):
    """How many entries a hotlist has (no plates in attributes)."""

    _attr_unit_of_measurement = "entries"
    _attr_icon = "mdi:format-list-bulleted"

    def __init__(self, manager: AnprManager, list_id: str) -> None:
        super().__init__(manager)
        self.list_id = list_id
        lst = manager.hotlists.lists[list_id]
        self._attr_name = localized_name(manager.hub, ENTITY_NAMES, "hotlist", list=lst.name)
        self._attr_unique_id = f"{DOMAIN}_hotlist_{list_id}"
        self._attr_suggested_object_id = f"anpr_hotlist_{list_id}"

    @property
    def state(self) -> int:
        return self.manager.hotlists.counts().get(self.list_id, 0)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        lst = self.manager.hotlists.lists[self.list_id]
        return {"list_id": lst.id, "kind": lst.kind, "priority": lst.priority}


class AcceptanceSensor(_AnprEntity):
    """Share of reviewed hits that operators accepted (%), with the figures per camera and list."""

    _attr_unit_of_measurement = "%"
    _attr_icon = "mdi:check-decagram"
    _attr_unique_id = f"{DOMAIN}_hit_acceptance"
    _attr_suggested_object_id = "anpr_hit_acceptance"

    def __init__(self, manager: AnprManager) -> None:
        super().__init__(manager)
        self._attr_name = localized_name(manager.hub, ENTITY_NAMES, "hit_acceptance")

    @property
    def state(self) -> float | None:
        tallies = self.manager.hit_log.by_list.values()
        accepted = sum(t.accepted for t in tallies)
        reviewed = accepted + sum(t.rejected for t in tallies)
        return round(100.0 * accepted / reviewed, 1) if reviewed else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        return self.manager.hit_log.stats()
