"""What an alarm page shows as evidence: an ANPR hit's plate crop, overview frame, read and list entry; a
thermal fire's frame with the hotspot outlined, its bearings and located point; a small map of the place.

Images on disk are served by `AlarmEvidenceImageView` (views_evidence.py), checked and audited; the thermal
snapshot travels in the alarm's data as a small base64 PNG and is shown inline (CSP allows `data:` images).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from hub.auth.visibility import PERSONAL_ROLES
from hub.core import Hub

from .const import OUTLINE_FILE

if TYPE_CHECKING:
    from .view import Viewer

__all__ = ["IMAGE_KINDS", "MAP_SIZE", "async_alarm_evidence", "async_hit_image", "mini_map"]

IMAGE_KINDS: Final = ("crop", "frame")
MAP_SIZE: Final = (320, 200)
MAP_SPAN_M: Final = 1600.0  # metres across the small map
_OUTLINE: Final = Path(__file__).parent / "static" / OUTLINE_FILE


def _anpr(hub: Hub) -> Any:
    try:
        from integrations.anpr import DATA_KEY
    except ImportError:
        return None
    return hub.data.get(DATA_KEY)


async def _async_hit(hub: Hub, alarm: dict[str, Any]) -> tuple[Any, Any] | None:
    """The ANPR manager and the hit an alarm names (its data's `hit_id`), or None."""
    hit_id = (alarm.get("data") or {}).get("hit_id")
    manager = _anpr(hub)
    if not isinstance(hit_id, str) or manager is None:
        return None
    hit = await manager.hit_log.async_get(hit_id)
    return (manager, hit) if hit is not None else None


def _existing(config_dir: Path, hit: Any) -> dict[str, Path]:
    """The hit's images that are on disk (blocking)."""
    found = {}
    for kind, rel in (("crop", hit.crop_path), ("frame", hit.frame_path)):
        if rel:
            path = (config_dir / rel).resolve()
            if config_dir.resolve() in path.parents and path.is_file():
                found[kind] = path
    return found


async def async_hit_image(hub: Hub, alarm: dict[str, Any], kind: str) -> Path | None:
    """The file of an ANPR alarm's crop or frame, if it exists."""
    found = await _async_hit(hub, alarm)
    if found is None or kind not in IMAGE_KINDS:
        return None
    images = await hub.async_add_executor_job(_existing, hub.config_dir, found[1])
    return images.get(kind)


async def _async_anpr(hub: Hub, viewer: Viewer, alarm: dict[str, Any]) -> dict[str, Any] | None:
    found = await _async_hit(hub, alarm)
    if found is None or viewer.role not in PERSONAL_ROLES:
        return None
    manager, hit = found
    images = await hub.async_add_executor_job(_existing, hub.config_dir, hit)
    camera = manager.cameras.get(hit.camera)
    listed = manager.hotlists.lists.get(hit.list_id)
    entry = manager.hotlists.get(hit.list_id, hit.entry_plate)
    base = f"/c/{viewer.centre.id}/alarms/{alarm['alarm_id']}/evidence"
    return {
        "hit_id": hit.hit_id, "plate": hit.plate, "confidence": hit.confidence, "ts": hit.ts, "status": hit.status,
        "camera": hit.camera, "camera_name": camera.config.name if camera is not None else hit.camera,
        "list": hit.list_id, "list_name": listed.name if listed is not None else hit.list_id,
        "entry_plate": hit.entry_plate, "distance": hit.distance,
        "entry": {"priority": entry.priority, "reason": entry.reason, "source": entry.source,
                  "expires_ts": entry.expires_ts} if entry is not None else None,
        "images": {kind: f"{base}/{kind}" for kind in IMAGE_KINDS if kind in images},
    }


def _tower_names(hub: Hub) -> dict[str, str]:
    """The thermal towers' names by id (empty without the thermal_fire integration)."""
    try:
        from integrations.thermal_fire import DATA_KEY
    except ImportError:
        return {}
    manager = hub.data.get(DATA_KEY)
    towers = getattr(manager, "towers", None) or {}
    return {str(tid): str(tower.get("name") or tid) for tid, tower in towers.items() if isinstance(tower, dict)}


def _thermal(alarm: dict[str, Any], towers: dict[str, str]) -> dict[str, Any] | None:
    """A fire alarm's snapshot (the thermal crop around the hotspot), bearings (towers by name, id kept for the
    tooltip) and located point."""
    data = alarm.get("data") or {}
    snapshot = data.get("snapshot")
    bearings = data.get("bearings")
    if not isinstance(snapshot, dict) and not bearings:
        return None
    shown: dict[str, Any] = {"bearings": [], "image": None, "temperature_c": data.get("temperature_c"),
                             "latitude": alarm.get("latitude"), "longitude": alarm.get("longitude")}
    for bearing in bearings if isinstance(bearings, list) else []:
        if isinstance(bearing, dict):
            tower = bearing.get("tower")
            shown["bearings"].append({"tower": towers.get(str(tower), tower) if tower else None, "tower_id": tower,
                                      "bearing": bearing.get("bearing_deg", bearing.get("bearing"))})
        elif isinstance(bearing, int | float):
            shown["bearings"].append({"tower": None, "bearing": bearing})
    if isinstance(snapshot, dict) and snapshot.get("format") == "png" and isinstance(snapshot.get("data"), str):
        width, height = int(snapshot.get("width") or 48), int(snapshot.get("height") or 48)
        # The thumbnail is a crop centred on the hotspot (clamped at the frame's edges): outline its middle.
        box = max(4, min(width, height) // 4)
        shown["image"] = {"src": f"data:image/png;base64,{snapshot['data']}", "width": width, "height": height,
                          "box": [width // 2 - box // 2, height // 2 - box // 2, box, box],
                          "t_min_c": _celsius(snapshot.get("t_min_k")), "t_max_c": _celsius(snapshot.get("t_max_k"))}
    return shown


def _celsius(kelvin: Any) -> float | None:
    return round(float(kelvin) - 273.15, 1) if isinstance(kelvin, int | float) else None


@lru_cache(maxsize=1)
def _outline() -> list[list[tuple[float, float]]]:
    """The offline outline's rings as (lon, lat) (read once; blocking)."""
    data = json.loads(_OUTLINE.read_text(encoding="utf-8"))
    rings: list[list[tuple[float, float]]] = []
    for feature in data.get("features", []):
        geometry = feature.get("geometry") or {}
        polygons = [geometry.get("coordinates", [])] if geometry.get("type") == "Polygon" else \
            geometry.get("coordinates", []) if geometry.get("type") == "MultiPolygon" else []
        for polygon in polygons:
            rings.extend([[(float(x), float(y)) for x, y, *_ in ring] for ring in polygon])
    return rings


def mini_map(latitude: float, longitude: float, areas: list[dict[str, Any]]) -> dict[str, Any]:
    """A small SVG map centred on a point: the outline of the city, area circles and the point (blocking once)."""
    width, height = MAP_SIZE
    scale = width / MAP_SPAN_M  # pixels per metre
    m_lat = 111_320.0
    m_lon = m_lat * math.cos(math.radians(latitude))

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (round(width / 2 + (lon - longitude) * m_lon * scale, 1),
                round(height / 2 - (lat - latitude) * m_lat * scale, 1))

    paths = []
    for ring in _outline():
        points = [xy(lon, lat) for lon, lat in ring]
        paths.append("M" + " L".join(f"{x},{y}" for x, y in points) + " Z")
    circles = []
    for area in areas:
        x, y = xy(area["longitude"], area["latitude"])
        circles.append({"x": x, "y": y, "r": round(area["radius_m"] * scale, 1), "name": area["name"]})
    return {"width": width, "height": height, "paths": paths, "areas": circles,
            "point": {"x": width / 2, "y": height / 2}, "scale_m": 500, "scale_px": round(500 * scale, 1)}


def _areas(hub: Hub, area_id: Any) -> list[dict[str, Any]]:
    from hub.helpers import area_registry

    try:
        area = area_registry.async_get(hub).async_get_area(area_id) if isinstance(area_id, str) else None
    except LookupError:  # no area registry on this hub
        area = None
    if area is None:
        return []
    return [{"name": area.name, "latitude": area.latitude, "longitude": area.longitude, "radius_m": area.radius_m}]


async def async_alarm_evidence(hub: Hub, viewer: Viewer, alarm: dict[str, Any]) -> dict[str, Any]:
    """The alarm page's evidence panel: `anpr`, `thermal` and `map` (each None when the alarm has none)."""
    latitude, longitude = alarm.get("latitude"), alarm.get("longitude")
    areas = _areas(hub, alarm.get("area_id"))
    if not isinstance(latitude, int | float) and areas:  # no position of its own: its area's centre
        latitude, longitude = areas[0]["latitude"], areas[0]["longitude"]
    small_map = None
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        small_map = await hub.async_add_executor_job(mini_map, float(latitude), float(longitude), areas)
    return {"anpr": await _async_anpr(hub, viewer, alarm), "thermal": _thermal(alarm, _tower_names(hub)),
            "map": small_map}
