"""Incident screens: the list (open one), an incident's timeline with its actions, and its PDF report.

Every change goes through the `incident.*` services with the viewer's context (permission hook and
audit); forms post with the session's CSRF token and come back to the page (303).
"""

from __future__ import annotations

import base64
import mimetypes
import re
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import voluptuous as vol
from aiohttp import web

from hub.exceptions import HubError, ServiceValidationError, Unauthorized
from hub.http.view import request_context

from .alarms import queue_alarms
from .cameras import wall_cameras
from .hidden import async_not_shared
from .view import FrontendView, Refused, Viewer, page

__all__ = ["IncidentDocumentView", "IncidentListView", "IncidentReportView", "IncidentView"]

_INCIDENT_ID = re.compile(r"[0-9a-f-]{36}")
# Form action -> (service, the form fields it takes).
ACTIONS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "note": ("add_note", ("text",)),
    "link_alarm": ("link_alarm", ("alarm_id",)),
    "link_read": ("link_plate_read", ("read_id", "plate")),
    "update": ("update", ("status", "owner", "shared")),
    "document": ("add_document", ("content_base64", "description")),
    "clip": ("add_clip", ("camera", "start", "end", "alarm_id", "text")),
    "remove_clip": ("remove_clip", ("item_id",)),
}
_LOCAL_TIMES: Final = ("start", "end")  # datetime-local fields, in the site's time zone

# An update item's text as the incident integration writes it ("status: closed, owner: op_2, shared: True"):
# the page shows each change by its label, a user by name, a boolean as a word.
_CHANGE: Final = re.compile(r"(status|owner|shared): (.*?)(?=, (?:status|owner|shared): |$)")


def legible_report(incident: dict[str, Any], names: Any, gettext: Any) -> dict[str, Any]:
    """The incident as the PDF report prints it: users and the centre by name, each update's changes in words
    ("Estado: en curso, Responsable: Op Local2, Compartido: sí"), like the incident page."""
    def user(user_id: Any) -> str:
        return names.user(str(user_id)) if names is not None and user_id else (user_id or "")

    labels = {"status": gettext("Status"), "owner": gettext("Owner"), "shared": gettext("Shared")}

    def change(key: str, value: str) -> str:
        if key == "owner":
            shown = user(value)
        elif key == "shared":
            shown = gettext("yes") if value == "True" else gettext("no")
        else:
            shown = gettext(value)
        return f"{labels[key]}: {shown}"

    timeline = []
    for item in incident.get("timeline") or ():
        text = item.get("text")
        if item.get("kind") == "update" and text:
            changes = _CHANGE.findall(text)
            text = ", ".join(change(key, value) for key, value in changes) if changes else text
        timeline.append({**item, "text": text, "user_id": user(item.get("user_id"))})
    centre = incident.get("centre")
    return {**incident, "timeline": timeline, "owner": user(incident.get("owner")) or None,
            "centre": (names.centre(str(centre)) if names is not None and centre else centre)}


def legible_timeline(incident: dict[str, Any]) -> dict[str, Any]:
    """The incident with each update item's changes as (field, value) pairs under "changes" (none for others)."""
    timeline = [{**item, "changes": _CHANGE.findall(item.get("text") or "") if item.get("kind") == "update" else []}
                for item in incident.get("timeline") or ()]
    return {**incident, "timeline": timeline}


def peer_incidents(view: FrontendView) -> dict[str, dict[str, Any]]:
    """The peers' shared incidents (other hubs, through federation) by id; every logged-in user reads them,
    as a peer shares them with this whole site."""
    try:
        from integrations.federation.manager import get_federation
    except ImportError:
        return {}
    manager = get_federation(view.frontend.hub)
    return {i["incident_id"]: i for i in manager.incidents.open_incidents()} if manager is not None else {}


def _incidents(view: FrontendView) -> Any:
    try:
        from integrations.incident import get_incidents
    except ImportError:
        return None
    return get_incidents(view.frontend.hub)


class _IncidentBase(FrontendView):
    def _manager(self, request: web.Request, viewer: Viewer) -> Any:
        manager = _incidents(self)
        if manager is None:
            raise Refused(self.error_page(request, 404, "No incidents",
                                          "Incidents are not set up on this hub.", viewer.principal))
        return manager

    async def _incident(self, request: web.Request, viewer: Viewer, incident_id: str) -> dict[str, Any]:
        manager = self._manager(request, viewer)
        incident = await manager.async_get(incident_id) if _INCIDENT_ID.fullmatch(incident_id) else None
        if incident is None or not manager.reader(viewer.principal.user_id).sees(incident):
            raise Refused(self.error_page(request, 404, "No such incident",
                                          "There is no such incident you may see.", viewer.principal))
        return incident

    async def _call(self, request: web.Request, viewer: Viewer, service: str, data: dict[str, Any]) -> Any:
        """Call an incident service for the viewer; a refusal or bad input becomes an error page."""
        try:
            return await self.frontend.hub.services.async_call("incident", service, data,
                                                               context=request_context(request),
                                                               return_response=True)
        except Unauthorized as err:
            raise Refused(self.error_page(request, 403, "Not allowed", str(err), viewer.principal)) from None
        except (ServiceValidationError, vol.Invalid) as err:
            raise Refused(self.error_page(request, 400, "Not done", str(err), viewer.principal)) from None


class IncidentListView(_IncidentBase):
    """GET: the incidents the viewer reads; POST: open a new one."""

    url = "/c/{centre}/incidents"
    name = "frontend:incidents"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The incident list with the form to open one."""
        viewer = self.viewer(request, centre)
        manager = self._manager(request, viewer)
        incidents = await manager.async_list(manager.reader(viewer.principal.user_id))
        may_create = self.frontend.policy.can_call(viewer.principal, "incident", "create", {})
        return self.render(request, viewer, "incidents.html", page="incidents", title="Incidents",
                           incidents=incidents, may_create=may_create,
                           peer_incidents=list(peer_incidents(self).values()),
                           not_shared=await async_not_shared(self.frontend, viewer, "incidents"))

    @page
    async def post(self, request: web.Request, centre: str) -> web.StreamResponse:
        """Open an incident and go to it."""
        viewer = self.viewer(request, centre)
        form = await request.post()
        data: dict[str, Any] = {"title": str(form.get("title", "")), "shared": form.get("shared") == "on"}
        if form.get("alarm_id"):
            data["alarm_id"] = str(form["alarm_id"])
        created = await self._call(request, viewer, "create", data)
        raise web.HTTPSeeOther(f"/c/{viewer.centre.id}/incidents/{created['incident_id']}")


class IncidentView(_IncidentBase):
    """GET: an incident with its timeline and images; POST: one action (note, link, status...)."""

    url = "/c/{centre}/incidents/{incident_id}"
    name = "frontend:incident"

    @page
    async def get(self, request: web.Request, centre: str, incident_id: str) -> web.StreamResponse:
        """The incident page."""
        viewer = self.viewer(request, centre)
        remote = peer_incidents(self).get(incident_id)
        if remote is not None:  # a peer's: read only
            return self.render(request, viewer, "incident.html", page="incidents", title=remote["title"],
                               incident=legible_timeline(remote), may_edit=False, alarms=[], remote=True)
        incident = await self._incident(request, viewer, incident_id)
        may_edit = self.frontend.policy.can_call(viewer.principal, "incident", "add_note",
                                                 {"incident_id": incident_id})
        alarms = [a for a in queue_alarms(self.frontend.hub, viewer)]
        cameras = [c for c in wall_cameras(self.frontend, viewer) if c["may_playback"]]
        return self.render(request, viewer, "incident.html", page="incidents", title=incident["title"],
                           incident=legible_timeline(incident), may_edit=may_edit, alarms=alarms, remote=False,
                           clip_cameras=cameras, camera_names={c["camera"]: c["name"] for c in cameras})

    @page
    async def post(self, request: web.Request, centre: str, incident_id: str) -> web.StreamResponse:
        """Run the form's action through its service, then back to the page."""
        viewer = self.viewer(request, centre)
        await self._incident(request, viewer, incident_id)
        form = await request.post()
        action = ACTIONS.get(str(form.get("action", "")))
        if action is None:
            raise Refused(self.error_page(request, 400, "Not done", "Unknown action.", viewer.principal))
        service, fields = action
        data: dict[str, Any] = {"incident_id": incident_id}
        for key in fields:
            value = form.get(key)
            if isinstance(value, web.FileField):  # an attached document: its bytes travel as base64
                data["filename"] = value.filename
                data[key] = base64.b64encode(value.file.read()).decode("ascii")
            elif value is not None and str(value).strip() and key in _LOCAL_TIMES:
                data[key] = self._timestamp(request, viewer, key, str(value).strip())
            elif value is not None and str(value).strip():
                data[key] = str(value).strip() if key != "shared" else str(value).strip() == "yes"
        await self._call(request, viewer, service, data)
        raise web.HTTPSeeOther(f"/c/{viewer.centre.id}/incidents/{incident_id}")

    def _timestamp(self, request: web.Request, viewer: Viewer, key: str, value: str) -> float:
        """A datetime-local field (site's time zone) or Unix seconds, as Unix seconds."""
        try:
            return float(value)
        except ValueError:
            pass
        config = self.frontend.hub.config
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Refused(self.error_page(request, 400, "Not done", f"{key}: not a date and time.",
                                          viewer.principal)) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=config.tz if config is not None else ZoneInfo("Europe/Madrid"))
        return moment.timestamp()


class IncidentReportView(_IncidentBase):
    """The incident's printable PDF report (its download is audited as an export)."""

    url = "/c/{centre}/incidents/{incident_id}/report.pdf"
    name = "frontend:incident-report"

    @page
    async def get(self, request: web.Request, centre: str, incident_id: str) -> web.StreamResponse:
        """The PDF."""
        viewer = self.viewer(request, centre)
        incident = await self._incident(request, viewer, incident_id)
        from hub.audit import ACTION_EXPORT, audit_record
        from integrations.incident.clips import async_clip_evidence
        from integrations.incident.report import build_report

        hub = self.frontend.hub
        when, labels = self._formatting(viewer)
        shown = legible_report(incident, getattr(getattr(when, "__self__", None), "names", None),
                               lambda text: labels.get(text) or text)
        try:
            clips = await async_clip_evidence(hub, incident)
            pdf = await hub.async_add_executor_job(
                lambda: build_report(shown, hub.config_dir, when=when, labels=labels, site=self.frontend.title,
                                     generated_by=viewer.principal.name or viewer.principal.user_id, clips=clips))
        except (OSError, HubError) as err:
            raise Refused(self.error_page(request, 500, "Report failed", str(err), viewer.principal)) from None
        audit_record(hub, ACTION_EXPORT, context=request_context(request), target=f"incident:{incident_id}",
                     data={"format": "pdf", "items": len(incident["timeline"]), "clips": len(clips)})
        return web.Response(body=pdf, content_type="application/pdf", headers={
            "Cache-Control": "no-store", "Content-Disposition": f'inline; filename="incident_{incident_id[-8:]}.pdf"'})

    def _formatting(self, viewer: Viewer) -> tuple[Any, _Labels]:
        """The report's date format and labels in the viewer's language: the message catalogue's when the
        frontend has one (per-user language), else the templates' single environment."""
        templates: Any = self.frontend.templates
        language_of = getattr(self.frontend, "language", None)
        if callable(language_of):
            language = language_of(viewer.principal.user_id)
            return templates.formatters[language.code].when, _Labels(language.gettext)
        return templates.env.filters["when"], _Labels(templates.env.globals.get("_"))


class IncidentDocumentView(_IncidentBase):
    """One document attached to an incident, for those who read the incident (each download audited)."""

    url = "/c/{centre}/incidents/{incident_id}/documents/{item_id:[0-9]{1,12}}"
    name = "frontend:incident-document"

    @page
    async def get(self, request: web.Request, centre: str, incident_id: str, item_id: str) -> web.StreamResponse:
        """The file, as an attachment."""
        from hub.audit import ACTION_VIEW_SENSITIVE, audit_record

        viewer = self.viewer(request, centre)
        incident = await self._incident(request, viewer, incident_id)
        item = next((i for i in incident["timeline"] if i["item_id"] == int(item_id) and i["kind"] == "document"
                     and i["files"]), None)
        path = self.frontend.hub.config_dir / item["files"][0] if item is not None else None
        if path is None or not await self.frontend.hub.async_add_executor_job(path.is_file):
            raise Refused(self.error_page(request, 404, "No such document",
                                          "This incident has no such document.", viewer.principal))
        audit_record(self.frontend.hub, ACTION_VIEW_SENSITIVE, context=request_context(request),
                     target=f"incident:{incident_id}", data={"document": item["ref"] if item else None})
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return web.FileResponse(path, headers={"Cache-Control": "no-store", "Content-Type": media_type,
                                               "Content-Disposition": f'attachment; filename="{path.name}"'})


class _Labels(dict[str, str]):
    """The report's labels through the templates' `_()` (the message catalogue once installed)."""

    def __init__(self, translate: Any) -> None:
        super().__init__()
        self._translate = translate

    def get(self, key: str, default: Any = None) -> Any:
        return str(self._translate(key)) if callable(self._translate) else default
