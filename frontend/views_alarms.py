"""Alarm screens: the centre's live queue, and one alarm with its SOP, timeline and actions."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .alarms import OPEN_STATES, async_alarm, peer_alarms, queue_alarms
from .cameras import alarm_cameras
from .view import FrontendView, Refused, Viewer, json_page, page

__all__ = ["AlarmDataView", "AlarmView", "QueueView"]

_ALARM_ID = re.compile(r"[0-9a-f]{32}")


class QueueView(FrontendView):
    """The centre's open alarms, most severe and newest first, pushed live over the websocket."""

    url = "/c/{centre}/"
    name = "frontend:queue"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The alarm queue."""
        viewer = self.viewer(request, centre)
        hub = self.frontend.hub
        alarms = queue_alarms(hub, viewer)
        peers = peer_alarms(hub)
        may_ask = peers is not None and self.frontend.policy.can_call(viewer.principal, "federation",
                                                                      "acknowledge_alarm", {})
        return self.render(request, viewer, "queue.html", page="queue", title="Alarms",
                           page_data={"alarms": alarms, "open_states": list(OPEN_STATES),
                                      "peer_alarms": peers, "may_ask_peers": may_ask})


class _AlarmBase(FrontendView):
    async def _alarm(self, request: web.Request, viewer: Viewer, alarm_id: str) -> dict[str, Any]:
        alarm = await async_alarm(self.frontend.hub, viewer, alarm_id) if _ALARM_ID.fullmatch(alarm_id) else None
        if alarm is None:
            raise Refused(self.error_page(request, 404, "No such alarm",
                                          f"There is no alarm {alarm_id[:40]!r} you may see.", viewer.principal))
        return alarm

    def _may_handle(self, viewer: Viewer, alarm_id: str) -> bool:
        return self.frontend.policy.can_call(viewer.principal, "alarm", "acknowledge", {"alarm_id": alarm_id})


class AlarmView(_AlarmBase):
    """One alarm: details, the SOP with one-click steps, the timeline, the actions its state allows."""

    url = "/c/{centre}/alarms/{alarm_id}"
    name = "frontend:alarm"

    @page
    async def get(self, request: web.Request, centre: str, alarm_id: str) -> web.StreamResponse:
        """The alarm page."""
        viewer = self.viewer(request, centre)
        alarm = await self._alarm(request, viewer, alarm_id)
        cameras = alarm_cameras(self.frontend, viewer, alarm)
        return self.render(request, viewer, "alarm.html", page="queue", title=alarm["title"], alarm=alarm,
                           cameras=cameras,
                           page_data={"alarm": alarm, "may_handle": self._may_handle(viewer, alarm_id),
                                      "cameras": cameras})


class AlarmDataView(_AlarmBase):
    """One alarm as JSON (the alarm page redraws itself from it)."""

    url = "/c/{centre}/api/alarms/{alarm_id}"
    name = "frontend:alarm-data"

    @json_page
    async def get(self, request: web.Request, centre: str, alarm_id: str) -> dict[str, Any]:
        """The alarm with its SOP and timeline, and whether the viewer may handle it."""
        viewer = self.viewer(request, centre)
        alarm = await self._alarm(request, viewer, alarm_id)
        return {"alarm": alarm, "may_handle": self._may_handle(viewer, alarm_id)}
