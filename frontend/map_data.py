"""What the map shows, read from memory: its base layers, the areas, and the markers of each overlay (devices,
cameras, panels, fires with their bearings, open alarms)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from hub.helpers.area_registry import DATA_REGISTRY as AREAS

from .cameras import camera_grants
from .const import OUTLINE_FILE, STATIC_URL
from .data import FIRE_DOMAIN, device_for, state_location, state_name, to_float
from .map_layers import TYPE_OFFLINE

if TYPE_CHECKING:
    from .app import Frontend
    from .i18n import Language
    from .view import Viewer

__all__ = ["GROUPS", "map_areas", "map_features", "map_layers"]

# The overlays of the layer control, in its order: a feature's `group` names one.
GROUPS: Final = ("areas", "devices", "cameras", "panels", "alarms", "fires")
_GROUP_OF_KIND: Final = {"camera": "cameras", "panel": "panels", "fire": "fires"}


def map_layers(frontend: Frontend, language: Language) -> list[dict[str, Any]]:
    """The configured base layers for the page's script (the offline one with its GeoJSON's URL), named in
    the reader's language when the name is a catalogue message (the default layer's)."""
    url = f"{STATIC_URL}/{OUTLINE_FILE}"
    layers = []
    for layer in frontend.map_layers:
        shown = {**layer, "name": language.gettext(layer["name"])}
        if layer["type"] == TYPE_OFFLINE:
            shown["url"] = url
        layers.append(shown)
    return layers


def map_areas(frontend: Frontend) -> list[dict[str, Any]]:
    """The areas of the city (circle or polygon) with their names, for the areas overlay."""
    registry = frontend.hub.data.get(AREAS)
    if registry is None:
        return []
    return [{"id": area.id, "name": area.name, "lat": area.latitude, "lon": area.longitude,
             "radius_m": area.radius_m, "parent": area.parent,
             "polygon": [list(p) for p in area.polygon] if area.polygon else None}
            for area in sorted(registry.async_list_areas(), key=lambda a: -a.radius_m)]


def _bearings(value: Any) -> list[dict[str, Any]]:
    """A fire's bearings ({tower: degrees}) as a list for the bearings overlay."""
    if not isinstance(value, dict):
        return []
    return [{"tower": str(tower), "bearing": bearing} for tower, raw in value.items()
            if (bearing := to_float(raw)) is not None]


def map_features(frontend: Frontend, viewer: Viewer,
                 alarms: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Markers for the map: devices, cameras (with the viewer's live-view grants), panels, fires (with their
    bearings) and the open alarms given, each with a position and its overlay `group`."""
    hub = frontend.hub
    features: list[dict[str, Any]] = []
    for state in hub.states.async_all():
        if state.entity_id.startswith(f"{FIRE_DOMAIN}."):
            where = state_location(hub, state)
            if where is not None:
                features.append({
                    "kind": "fire", "group": "fires", "lat": where[0], "lon": where[1], "name": state_name(state),
                    "detail": str(state.attributes.get("status") or state.state), "entity_id": state.entity_id,
                    "url": f"/c/{viewer.centre.id}/devices/{state.entity_id}",
                    "bearings": _bearings(state.attributes.get("bearings")),
                })
            continue
        device = device_for(frontend, viewer, state)
        if device is None:
            continue
        where = state_location(hub, state)
        if where is None:
            continue
        feature: dict[str, Any] = {
            "kind": "device" if device.owner == viewer.centre.id else "other",
            "group": _GROUP_OF_KIND.get(device.kind, "devices"),
            "lat": where[0], "lon": where[1], "name": device.name,
            "detail": f"{device.kind}: {device.state}", "entity_id": device.entity_id, "url": device.url,
        }
        if device.kind == "camera":
            grants = camera_grants(frontend, viewer, device.entity_id)
            if grants is not None and grants.view:
                feature["camera"] = grants.as_dict()
        features.append(feature)
    for alarm in alarms:
        lat, lon = to_float(alarm.get("latitude")), to_float(alarm.get("longitude"))
        if lat is None or lon is None:
            continue
        features.append({
            "kind": "alarm", "group": "alarms", "lat": lat, "lon": lon,
            "name": str(alarm.get("title") or alarm.get("type")),
            "detail": f"{alarm.get('severity')} - {alarm.get('state')}", "entity_id": None,
            "alarm_id": alarm.get("alarm_id"), "url": alarm.get("url"),
        })
    return features
