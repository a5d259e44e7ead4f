"""The map of Ceuta: the page, and the markers as JSON (devices, fires, open alarms)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.core import split_entity_id

from .alarms import map_alarms
from .const import DEVICE_KINDS
from .hidden import async_not_shared
from .i18n import N_
from .map_data import GROUPS, map_areas, map_features, map_layers
from .view import FrontendView, json_page, page

__all__ = ["MapDataView", "MapView"]


class MapView(FrontendView):
    """Devices, cameras, panels, alarms and fires over the configured base layers (the offline base map of the
    city by default), each kind an overlay of the layer control."""

    url = "/c/{centre}/map"
    name = "frontend:map"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The map page."""
        viewer = self.viewer(request, centre)
        frontend = self.frontend
        features = map_features(frontend, viewer, map_alarms(frontend.hub, viewer))
        data: dict[str, Any] = {
            "layers": map_layers(frontend, frontend.language(viewer.principal.user_id)),
            "areas": map_areas(frontend),
            "groups": list(GROUPS),
            "features": features,
            "entity_ids": [s.entity_id for s in frontend.hub.states.async_all()
                           if split_entity_id(s.entity_id)[0] in DEVICE_KINDS],
        }
        return self.render(request, viewer, "map.html", page="map", title=N_("Map"), page_data=data,
                           not_shared=await async_not_shared(frontend, viewer, "alarms"), not_shared_kinds="alarms")


class MapDataView(FrontendView):
    """The map's markers as JSON (the page refreshes them when alarms or states change)."""

    url = "/c/{centre}/api/map"
    name = "frontend:map-data"

    @json_page
    async def get(self, request: web.Request, centre: str) -> dict[str, Any]:
        """Markers: devices, fires and open alarms with positions."""
        viewer = self.viewer(request, centre)
        return {"features": map_features(self.frontend, viewer, map_alarms(self.frontend.hub, viewer)),
                "not_shared": await async_not_shared(self.frontend, viewer, "alarms")}
