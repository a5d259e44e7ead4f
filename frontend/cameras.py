"""Cameras as the screens show them: which the viewer may watch live or play back (the camera integration's
VIDEO_GRANTS and centre rules decide), the wall's tiles, an alarm's linked cameras."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hub.auth.permissions import entity_centre
from hub.core import split_entity_id

from .const import ALARM_PRE_ROLL, DEFAULT_WALL_LAYOUT, WALL_LAYOUTS
from .i18n import N_

if TYPE_CHECKING:
    from .app import Frontend
    from .view import Viewer

__all__ = ["CameraGrants", "alarm_cameras", "camera_grants", "wall_arrangement", "wall_cameras"]

CAMERA_DOMAIN = "camera"
MAX_TILES = max(WALL_LAYOUTS)


@dataclass(frozen=True, slots=True)
class CameraGrants:
    """What the viewer may do with one camera (None: no such camera)."""

    camera_id: str
    view: bool
    playback: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON for the page's scripts (URLs of the camera REST API included)."""
        base = f"/api/camera/{self.camera_id}"
        return {"camera": self.camera_id, "may_view": self.view, "may_playback": self.playback,
                "live_url": f"{base}/live", "snapshot_url": f"{base}/snapshot",
                "recordings_url": f"{base}/recordings", "segments_url": f"{base}/segments"}


def camera_grants(frontend: Frontend, viewer: Viewer, entity_id: str) -> CameraGrants | None:
    """The viewer's grants on `camera.<id>`; None when the camera integration has no such camera."""
    from integrations.camera import DATA_KEY
    from integrations.camera.access import VideoDenied, check_video_access
    from integrations.camera.const import GRANT_PLAYBACK, GRANT_VIEW

    manager = frontend.hub.data.get(DATA_KEY)
    domain, camera_id = split_entity_id(entity_id)
    camera = manager.cameras.get(camera_id) if manager is not None and domain == CAMERA_DOMAIN else None
    if camera is None:
        return None
    user = viewer.session.user()
    allowed = {}
    for grant in (GRANT_VIEW, GRANT_PLAYBACK):
        try:
            check_video_access(frontend.hub, user, camera, grant)
        except VideoDenied:
            allowed[grant] = False
        else:
            allowed[grant] = True
    return CameraGrants(camera_id, allowed[GRANT_VIEW], allowed[GRANT_PLAYBACK])


def wall_cameras(frontend: Frontend, viewer: Viewer) -> list[dict[str, Any]]:
    """Every camera the viewer may watch live, the viewed centre's first, by name."""
    hub = frontend.hub
    found = []
    for state in hub.states.async_all(CAMERA_DOMAIN):
        grants = camera_grants(frontend, viewer, state.entity_id)
        if grants is None or not grants.view:
            continue
        owner = entity_centre(hub, state.entity_id)
        found.append({**grants.as_dict(), "entity_id": state.entity_id,
                      "name": str(state.attributes.get("friendly_name") or grants.camera_id),
                      "owner": owner, "available": state.state != "unavailable",
                      "url": f"/c/{viewer.centre.id}/devices/{state.entity_id}"})
    centre = viewer.centre.id
    return sorted(found, key=lambda c: (c["owner"] != centre, c["name"].lower()))


def wall_arrangement(layout: int | None, saved: Iterable[str], cameras: list[dict[str, Any]]) -> dict[str, Any]:
    """The operator's wall as the page shows it: the saved layout (the default when none) and the camera id of
    each tile, up to the largest layout. A saved camera the viewer may not watch (any more) is dropped
    silently; its tile, like one never chosen, takes the next camera of the wall's order not shown elsewhere."""
    watchable = {camera["camera"] for camera in cameras}
    tiles: list[str | None] = []
    for camera_id in list(saved)[:MAX_TILES]:
        tiles.append(camera_id if camera_id in watchable and camera_id not in tiles else None)
    unused = iter([camera["camera"] for camera in cameras if camera["camera"] not in tiles])
    tiles = [camera_id or next(unused, None) for camera_id in tiles]
    tiles.extend(unused)
    while tiles and tiles[-1] is None:
        tiles.pop()
    return {"layout": layout if layout in WALL_LAYOUTS else DEFAULT_WALL_LAYOUT, "tiles": tiles[:MAX_TILES]}


def alarm_cameras(frontend: Frontend, viewer: Viewer, alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The cameras an alarm names that the viewer may watch, with the playback link at its time less
    the pre-roll (when the viewer may play back)."""
    found = []
    language = frontend.language(viewer.principal.user_id)
    purpose = language.gettext(N_("Alarm %(name)s"), name=alarm.get("title") or alarm.get("alarm_id") or "")
    for entity_id in alarm.get("entities") or []:
        grants = camera_grants(frontend, viewer, str(entity_id))
        if grants is None or not grants.view:
            continue
        start = float(alarm.get("raised_ts") or 0) - ALARM_PRE_ROLL
        page = f"/c/{viewer.centre.id}/devices/{entity_id}"
        playback = f"{page}?t={start:.3f}&purpose={quote(purpose)}"
        found.append({**grants.as_dict(), "entity_id": entity_id,
                      "playback_url": playback if grants.playback else None, "url": page})
    return found
