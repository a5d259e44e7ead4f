"""The camera wall: live tiles of every camera the viewer may watch, in layouts of 1, 4, 9 or 16."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from hub.http.const import ERR_VALIDATION
from hub.http.view import ApiError, async_read_json_object, request_context

from .camera_markers import async_camera_markers
from .cameras import MAX_TILES, camera_grants, wall_arrangement, wall_cameras
from .const import ALARM_PRE_ROLL, WALL_LAYOUTS
from .hidden import async_not_shared
from .i18n import N_
from .view import FrontendView, Refused, Viewer, json_page, page
from .views_devices import _start_time

if TYPE_CHECKING:
    from integrations.camera.config import CameraConfig

__all__ = ["CameraMarkersView", "CameraWallView", "SyncPlaybackView", "WallArrangementView"]

MAX_MARKER_RANGE: Final = 31 * 86400
MAX_SYNC: Final = 4  # players one timeline drives


def _saved_wall(view: FrontendView, viewer: Viewer, cameras: list[dict[str, Any]]) -> dict[str, Any]:
    """The viewer's saved wall (the user store keeps it, beside their language) among `cameras`."""
    user = view.frontend.sessions.users.get(viewer.principal.user_id)
    if user is None:
        return wall_arrangement(None, (), cameras)
    return wall_arrangement(user.wall_layout, user.wall_tiles, cameras)


class CameraWallView(FrontendView):
    """`/c/{centre}/cameras`: sub streams in the grid, the main stream when a tile is enlarged. The layout
    and the camera of each tile are kept per operator on the server (WallArrangementView)."""

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
                                      "wall": _saved_wall(self, viewer, cameras),
                                      "wall_url": f"/c/{viewer.centre.id}/api/wall",
                                      "own_centre": viewer.principal.centre})


def _wall_payload(data: dict[str, Any], watchable: set[str]) -> tuple[int, list[str]]:
    """(layout, tiles) of a wall sent to be saved; ApiError(400) naming the field that is wrong."""
    layout = data.get("layout")
    if not isinstance(layout, int) or isinstance(layout, bool) or layout not in WALL_LAYOUTS:
        raise ApiError(400, ERR_VALIDATION,
                       f"layout: expected one of {', '.join(map(str, WALL_LAYOUTS))}, got {layout!r}"[:200])
    tiles = data.get("tiles", [])
    if not isinstance(tiles, list):
        raise ApiError(400, ERR_VALIDATION, f"tiles: expected a list of camera ids, got {type(tiles).__name__}")
    if len(tiles) > MAX_TILES:
        raise ApiError(400, ERR_VALIDATION, f"tiles: at most {MAX_TILES} tiles, got {len(tiles)}")
    for index, camera_id in enumerate(tiles):
        if camera_id is None or camera_id == "":
            continue
        if not isinstance(camera_id, str):
            raise ApiError(400, ERR_VALIDATION,
                           f"tiles[{index}]: expected a camera id or null, got {type(camera_id).__name__}")
        if camera_id not in watchable:
            raise ApiError(400, ERR_VALIDATION, f"tiles[{index}]: {camera_id[:64]!r} is not a camera you may watch")
    return layout, [camera_id or "" for camera_id in tiles]


class WallArrangementView(FrontendView):
    """`/c/{centre}/api/wall`: the viewer's camera wall (layout and each tile's camera), saved per operator
    in the user store so that the same wall comes up on any browser."""

    url = "/c/{centre}/api/wall"
    name = "frontend:wall"

    @json_page
    async def get(self, request: web.Request, centre: str) -> dict[str, Any]:
        """The viewer's wall among the cameras they may watch."""
        viewer = self.viewer(request, centre)
        return _saved_wall(self, viewer, wall_cameras(self.frontend, viewer))

    @json_page
    async def post(self, request: web.Request, centre: str) -> dict[str, Any]:
        """Save the viewer's wall: `{"layout": 1|4|9|16, "tiles": [camera id or null, ...]}` (at most 16)."""
        viewer = self.viewer(request, centre)
        cameras = wall_cameras(self.frontend, viewer)
        layout, tiles = _wall_payload(await async_read_json_object(request, "The wall"),
                                      {camera["camera"] for camera in cameras})
        await self.frontend.sessions.users.async_set_wall(viewer.principal.user_id, layout, tiles)
        return _saved_wall(self, viewer, cameras)


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
                                      "pre_roll": ALARM_PRE_ROLL,
                                      "purpose": request.query.get("purpose", "")[:500]})
