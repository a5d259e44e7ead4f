"""Alarm screens: the centre's live queue, and one alarm with its SOP, timeline and actions."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .alarms import OPEN_STATES, alarm_sla, async_alarm, peer_alarms, queue_alarms
from .cameras import alarm_cameras
from .const import DEVICE_KINDS
from .evidence import async_alarm_evidence
from .hidden import async_not_shared
from .i18n import N_
from .view import FrontendView, Refused, Viewer, json_page, page

__all__ = ["AlarmDataView", "AlarmEvidenceImageView", "AlarmView", "QueueView"]

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
        return self.render(request, viewer, "queue.html", page="queue", title=N_("Alarms"),
                           not_shared=await async_not_shared(self.frontend, viewer, "alarms"),
                           not_shared_kinds="alarms",
                           page_data={"alarms": alarms, "open_states": list(OPEN_STATES),
                                      "peer_alarms": peers, "may_ask_peers": may_ask})


class _AlarmBase(FrontendView):
    async def _alarm(self, request: web.Request, viewer: Viewer, alarm_id: str) -> dict[str, Any]:
        alarm = await async_alarm(self.frontend.hub, viewer, alarm_id) if _ALARM_ID.fullmatch(alarm_id) else None
        if alarm is None:
            raise Refused(self.error_page(request, 404, N_("No such alarm"),
                                          N_("There is no alarm %(id)s you may see."), viewer.principal,
                                          id=repr(alarm_id[:40])))
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
        shown = [*(alarm.get("entities") or ()), alarm.get("source")]
        cameras = alarm_cameras(self.frontend, viewer, alarm)
        evidence = await async_alarm_evidence(self.frontend.hub, viewer, alarm)
        return self.render(request, viewer, "alarm.html", page="queue", title=alarm["title"], alarm=alarm,
                           cameras=cameras, evidence=evidence,
                           entity_names=[e for e in shown if isinstance(e, str) and "." in e],
                           page_data={"alarm": alarm, "may_handle": self._may_handle(viewer, alarm_id),
                                      "device_domains": list(DEVICE_KINDS),
                                      "cameras": cameras, "sla": alarm_sla(self.frontend.hub, alarm)})


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


class AlarmEvidenceImageView(_AlarmBase):
    """An ANPR alarm's plate crop or overview frame, for those who see the alarm and may read plates;
    each view is audited."""

    url = "/c/{centre}/alarms/{alarm_id}/evidence/{kind}"
    name = "frontend:alarm-evidence"

    @page
    async def get(self, request: web.Request, centre: str, alarm_id: str, kind: str) -> web.StreamResponse:
        """The JPEG (404 when there is none the viewer may see)."""
        from hub.audit import ACTION_VIEW_SENSITIVE, audit_record
        from hub.auth.visibility import PERSONAL_ROLES
        from hub.http.view import request_context

        from .evidence import async_hit_image

        viewer = self.viewer(request, centre)
        alarm = await self._alarm(request, viewer, alarm_id)
        path = await async_hit_image(self.frontend.hub, alarm, kind) if viewer.role in PERSONAL_ROLES else None
        if path is None:
            raise Refused(self.error_page(request, 404, "No such image",
                                          "This alarm has no such image you may see.", viewer.principal))
        audit_record(self.frontend.hub, ACTION_VIEW_SENSITIVE, context=request_context(request),
                     target=f"alarm:{alarm_id}", data={"evidence": kind})
        return web.FileResponse(path, headers={"Cache-Control": "no-store", "Content-Type": "image/jpeg"})
