"""Alarm screens: the centre's live queue, and one alarm with its SOP, timeline and actions."""

from __future__ import annotations

from aiohttp import web

from .alarms import OPEN_STATES, queue_alarms
from .view import FrontendView, page

__all__ = ["QueueView"]


class QueueView(FrontendView):
    """The centre's open alarms, most severe and newest first, pushed live over the websocket."""

    url = "/c/{centre}/"
    name = "frontend:queue"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The alarm queue."""
        viewer = self.viewer(request, centre)
        alarms = queue_alarms(self.frontend.hub, viewer)
        return self.render(request, viewer, "queue.html", page="queue", title="Alarms",
                           page_data={"alarms": alarms, "open_states": list(OPEN_STATES)})
