"""What the screens show, read from memory: devices with their owning centre, positions for the map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.auth.permissions import entity_centre
from hub.const import ATTR_FRIENDLY_NAME, ATTR_LATITUDE, ATTR_LONGITUDE
from hub.core import Hub, State, split_entity_id
from hub.helpers.area_registry import DATA_REGISTRY as AREAS

from .const import DEVICE_KINDS

if TYPE_CHECKING:
    from .app import Frontend
    from .view import Viewer

__all__ = ["FIRE_DOMAIN", "Device", "device_for", "devices", "state_location", "state_name", "to_float"]

FIRE_DOMAIN = "geo_location"


def state_name(state: State) -> str:
    """The friendly name of a state, else its object id."""
    name = state.attributes.get(ATTR_FRIENDLY_NAME)
    return str(name) if name else split_entity_id(state.entity_id)[1].replace("_", " ")


def to_float(value: Any) -> float | None:
    """A finite number, or None (not a number, NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no position


def state_location(hub: Hub, state: State) -> tuple[float, float] | None:
    """(latitude, longitude) of an entity: its own attributes, else the centre of its area."""
    lat = to_float(state.attributes.get(ATTR_LATITUDE))
    lon = to_float(state.attributes.get(ATTR_LONGITUDE))
    if lat is not None and lon is not None:
        return lat, lon
    area_id = state.attributes.get("area_id")
    registry = hub.data.get(AREAS)
    if isinstance(area_id, str) and registry is not None:
        area = registry.async_get_area(area_id)
        if area is not None:
            return area.latitude, area.longitude
    return None


@dataclass(frozen=True, slots=True)
class Device:
    """A device entity as a screen shows it."""

    entity_id: str
    kind: str
    name: str
    state: str
    area: str | None
    owner: str | None
    own: bool
    can_act: bool
    url: str
    unit: str | None = None
    last_seen: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"entity_id": self.entity_id, "kind": self.kind, "name": self.name, "state": self.state,
                "area": self.area, "owner": self.owner, "own": self.own, "can_act": self.can_act,
                "url": self.url, "unit": self.unit, "last_seen": self.last_seen}


def device_for(frontend: Frontend, viewer: Viewer, state: State) -> Device | None:
    """The device view of a state, or None when its domain is not a device kind."""
    kind = DEVICE_KINDS.get(split_entity_id(state.entity_id)[0])
    if kind is None:
        return None
    hub = frontend.hub
    owner = entity_centre(hub, state.entity_id)
    area = state.attributes.get("area_id") or state.attributes.get("area")
    unit = state.attributes.get("unit_of_measurement")
    return Device(
        entity_id=state.entity_id,
        kind=kind,
        name=state_name(state),
        state=state.state,
        area=area if isinstance(area, str) else None,
        owner=owner,
        own=owner == viewer.principal.centre,
        can_act=kind in ("bollard", "panel") and frontend.policy.can_actuate(viewer.principal, state.entity_id),
        url=f"/c/{viewer.centre.id}/devices/{state.entity_id}",
        unit=str(unit) if unit else None,
        last_seen=state.last_updated_ts,
    )


def devices(frontend: Frontend, viewer: Viewer) -> list[Device]:
    """Every device, the viewed centre's first, then by kind and name."""
    found = [device for state in frontend.hub.states.async_all()
             if (device := device_for(frontend, viewer, state)) is not None]
    centre = viewer.centre.id
    return sorted(found, key=lambda d: (d.owner != centre, d.kind, d.name.lower()))
