"""The camera wall: live tiles of every camera the viewer may watch, in layouts of 1, 4, 9 or 16."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from hub.http.view import request_context

from .camera_markers import async_camera_markers
from .cameras import camera_grants, wall_cameras
from .const import ALARM_PRE_ROLL, WALL_LAYOUTS
from .hidden import async_not_shared
from .i18n import N_
from .view import FrontendView, Refused, Viewer, json_page, page
from .views_devices import _start_time

if TYPE_CHECKING:
    from integrations.camera.config import CameraConfig

__all__ = ["CameraMarkersView", "CameraWallView", "SyncPlaybackView"]

MAX_MARKER_RANGE: Final = 31 * 86400
MAX_SYNC: Final = 4  # players one timeline drives


class CameraWallView(FrontendView):
    """`/c/{centre}/cameras`: sub streams in the grid, the main stream when a tile is enlarged. The layout
    and the cameras in it are kept per operator in the browser's storage (localStorage)."""

    url = "/c/{centre}/cameras"
    name = "frontend:cameras"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The camera wall."""
        viewer = self.viewer(request, centre)
        cameras = wall_cameras(self.frontend, viewer)
        return self.render(request, viewer, "cameras.html", page="cameras", title=N_("Camera wall"),
                           cameras=cameras, layouts=WALL_LAYOUTS,
                           not_shared=await async_not_shared(self.frontend, viewer, "cameras"),
                           not_shared_kinds="cameras",
                           page_data={"cameras": cameras, "layouts": list(WALL_LAYOUTS),
                                      "user": viewer.principal.user_id,
                                      "own_centre": viewer.principal.centre})


def _camera_for_playback(view: FrontendView, viewer: Viewer, camera_id: str) -> CameraConfig:
    """The camera's config when the viewer holds its playback grant; Refused(404/403) otherwise."""
    from integrations.camera import DATA_KEY

    grants = camera_grants(view.frontend, viewer, f"camera.{camera_id}")
    if grants is None:
        raise Refused(web.Response(status=404, reason="No such camera"))
    if not grants.playback:
        raise Refused(web.Response(status=403, reason="Playback of this camera is not allowed"))
    manager = view.frontend.hub.data[DATA_KEY]
    config: CameraConfig = manager.cameras[camera_id].config
    return config


def _float_param(request: web.Request, name: str) -> float:
    try:
        return float(request.query[name])
    except (KeyError, ValueError):
        raise Refused(web.Response(status=400, reason=f"{name}: expected Unix seconds")) from None


class CameraMarkersView(FrontendView):
    """`/c/{centre}/api/cameras/{camera_id}/markers?start=&end=`: the timeline's event markers (alarms,
    ANPR reads, fire detections, bollard moves) as JSON, for a viewer with the camera's playback grant."""

    url = "/c/{centre}/api/cameras/{camera_id}/markers"
    name = "frontend:camera-markers"

    @json_page
    async def get(self, request: web.Request, centre: str, camera_id: str) -> dict[str, Any]:
        """The markers between start and end (at most 31 days)."""
        viewer = self.viewer(request, centre)
        camera = _camera_for_playback(self, viewer, camera_id)
        start, end = _float_param(request, "start"), _float_param(request, "end")
        if not 0 < end - start <= MAX_MARKER_RANGE:
            raise Refused(web.Response(status=400, reason="end must be after start, by at most 31 days"))
        markers = await async_camera_markers(self.frontend, viewer, camera, start, end,
                                             context=request_context(request))
        return {"camera": camera_id, "start": start, "end": end, "markers": markers}


class SyncPlaybackView(FrontendView):
    """`/c/{centre}/playback?cameras=a,b&t=<unix>`: two to four cameras played back in sync from one
    timeline (the cameras the viewer may play back are offered to choose from)."""

    url = "/c/{centre}/playback"
    name = "frontend:playback"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The synchronised playback page."""
        viewer = self.viewer(request, centre)
        available = [camera for camera in wall_cameras(self.frontend, viewer) if camera["may_playback"]]
        wanted = [c for c in request.query.get("cameras", "").split(",") if c] + request.query.getall("camera", [])
        by_id = {camera["camera"]: camera for camera in available}
        chosen = [by_id[c] for c in dict.fromkeys(wanted) if c in by_id][:MAX_SYNC]
        base = f"/c/{viewer.centre.id}/api/cameras"
        players = [{**camera, "markers_url": f"{base}/{camera['camera']}/markers"} for camera in chosen]
        return self.render(request, viewer, "playback.html", page="cameras", title=N_("Synchronised playback"),
                           available=available, chosen={c["camera"] for c in chosen}, max_sync=MAX_SYNC,
                           page_data={"players": players, "start": _start_time(request.query.get("t")),
                                      "pre_roll": ALARM_PRE_ROLL})
