"""Event markers on a camera's playback timeline: alarms, ANPR reads, fire detections and bollard moves.

A marker belongs to a camera when what raised it names the camera or where it stands:

* alarms (the alarm store): the camera's entity among the alarm's entities, or the camera's area;
* recorded events (the recorder's events table): `anpr_plate_read` / `anpr_hotlist_hit`,
  `thermal_fire_detected`, `bollard_command` (sent moves only), whose data names the camera's entity
  (`entity_id`/`entities`), its id (`camera`, a fire's `tower`) or its area (`area`/`area_id`).

Scoping is the hub's own: the caller holds the camera's playback grant (its centre, or a shared camera),
alarms pass the alarm integration's visibility (`viewer_for(...).sees`), events the read scope
(`read_scope(...).sees_event`). Plates appear only for roles that work with personal data
(PERSONAL_ROLES); a list that shows any is audited (`camera.markers`: who, which camera, which range,
how many plates).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from hub.audit import audit_record
from hub.auth.visibility import read_scope
from hub.core import Context, Event

from .alarms import alarm_manager
from .i18n import N_

if TYPE_CHECKING:
    from integrations.camera.config import CameraConfig

    from .app import Frontend
    from .view import Viewer

__all__ = ["MARKER_EVENTS", "MAX_MARKERS", "async_camera_markers", "relates_to_camera"]

KIND_ALARM: Final = "alarm"
KIND_ANPR: Final = "anpr"
KIND_FIRE: Final = "fire"
KIND_BOLLARD: Final = "bollard"
# recorded event type -> marker kind
MARKER_EVENTS: Final = {"anpr_plate_read": KIND_ANPR, "anpr_hotlist_hit": KIND_ANPR,
                        "thermal_fire_detected": KIND_FIRE, "bollard_command": KIND_BOLLARD}
MAX_MARKERS: Final = 2000
MAX_EVENTS: Final = 20000  # recorded events read per request (of every camera: the relation is in their data)
_BOLLARD_MOVED: Final = N_("Bollard moved")  # a constant: Babel does not see N_() inside another call
_BOLLARD_COMMANDS: Final = {"raise": N_("Bollard raised"), "lower": N_("Bollard lowered"),
                            "emergency_lower": N_("Bollard lowered (emergency)")}


def _data_of(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The flat data of a recorded event (a fire's GeoJSON feature: its properties)."""
    if event_type == "thermal_fire_detected" and isinstance(data.get("properties"), dict):
        return {**data["properties"], **{k: v for k, v in data.items() if k != "properties"}}
    return data


def relates_to_camera(data: dict[str, Any], camera: CameraConfig) -> bool:
    """Whether event data names the camera (its entity or id) or the camera's area."""
    entity_id = f"camera.{camera.id}"
    named = data.get("entity_id")
    entities = data.get("entities")
    if named == entity_id or (isinstance(entities, list | tuple) and entity_id in entities):
        return True
    if camera.id in (data.get("camera"), data.get("tower")):
        return True
    area = data.get("area_id", data.get("area"))
    return camera.area is not None and area == camera.area


async def async_camera_markers(frontend: Frontend, viewer: Viewer, camera: CameraConfig, start: float, end: float,
                               context: Context | None = None) -> list[dict[str, Any]]:
    """The markers of `camera` in [start, end) the viewer may see, oldest first:
    `{"ts", "kind", "label", "id"}` (an alarm's `url` too)."""
    hub = frontend.hub
    user = viewer.session.user()
    language = frontend.language(viewer.principal.user_id)
    markers: list[dict[str, Any]] = []
    alarms = alarm_manager(hub)
    if alarms is not None and alarms.store is not None:
        from integrations.alarm.access import viewer_for

        sees = viewer_for(hub, user).sees
        for alarm in await alarms.store.async_query(since=start, until=end, limit=1000):
            related = f"camera.{camera.id}" in alarm.entities or (
                camera.area is not None and alarm.area_id == camera.area)
            if related and sees(alarm):
                markers.append({"ts": alarm.raised_ts, "kind": KIND_ALARM, "id": alarm.id,
                                "label": language.gettext(N_("Alarm: %(title)s"), title=alarm.title),
                                "url": f"/c/{viewer.centre.id}/alarms/{alarm.id}"})
    scope = read_scope(hub, user)
    plates = 0
    from hub.recorder import get_recorder
    from hub.recorder.queries import get_events

    events = await get_recorder(hub).async_db_job(
        lambda session: get_events(session, list(MARKER_EVENTS), start, end, limit=MAX_EVENTS))
    for item in events:
        event_type = item["event_type"]
        data = _data_of(event_type, item["data"])
        if not relates_to_camera(data, camera):
            continue
        if not scope.sees_event(hub, Event(event_type, data, time_fired_ts=item["time_fired_ts"])):
            continue
        kind = MARKER_EVENTS[event_type]
        if kind == KIND_BOLLARD and data.get("status") != "sent":
            continue  # pending confirmations and refusals are not moves
        data = scope.redact(data)
        label = _label(language, event_type, data)
        if kind == KIND_ANPR and data.get("plate") not in (None, "withheld"):
            plates += 1
        markers.append({"ts": item["time_fired_ts"], "kind": kind, "label": label,
                        "id": f"{event_type}:{item['time_fired_ts']:.3f}"})
    markers.sort(key=lambda marker: marker["ts"])
    if plates:
        audit_record(hub, "camera.markers", context=context, target=f"camera.{camera.id}",
                     data={"camera": camera.id, "start": start, "end": end, "plates": plates})
    return markers[:MAX_MARKERS]


def _label(language: Any, event_type: str, data: dict[str, Any]) -> str:
    if event_type == "anpr_hotlist_hit":
        return str(language.gettext(N_("Hotlist hit: %(plate)s"), plate=_plate(language, data)))
    if event_type == "anpr_plate_read":
        return str(language.gettext(N_("Plate read: %(plate)s"), plate=_plate(language, data)))
    if event_type == "thermal_fire_detected":
        return str(language.gettext(N_("Fire detected (%(tower)s)"), tower=data.get("tower") or "?"))
    return str(language.gettext(_BOLLARD_COMMANDS.get(str(data.get("command")), _BOLLARD_MOVED)))


def _plate(language: Any, data: dict[str, Any]) -> str:
    plate = data.get("plate")
    if plate in (None, "withheld"):
        return str(language.gettext(N_("plate withheld")))
    return str(plate)
