"""The camera wall: live tiles of every camera the viewer may watch, in layouts of 1, 4, 9 or 16."""

from __future__ import annotations

from aiohttp import web

from .cameras import wall_cameras
from .const import WALL_LAYOUTS
from .hidden import async_not_shared
from .i18n import N_
from .view import FrontendView, page

__all__ = ["CameraWallView"]


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
