"""Plate search screen: a search with its stated purpose (audited before results), the reads with their
images, the journey of one plate across cameras; images served through a permission-checked, audited route."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.exceptions import HubError, ServiceValidationError, Unauthorized
from hub.http.access import ROLES_POLICE
from hub.http.view import request_context

from .hidden import not_shared_lines
from .view import FrontendView, Refused, Viewer, page

__all__ = ["PlateImageView", "PlateSearchView"]

_FORM_FIELDS = ("plate", "mode", "purpose", "camera", "start", "end")
_KINDS = re.compile(r"crop|frame")


def _anpr(view: FrontendView) -> Any:
    try:
        from integrations.anpr import DATA_KEY
    except ImportError:
        return None
    return view.frontend.hub.data.get(DATA_KEY)


class _PlateBase(FrontendView):
    roles = ROLES_POLICE  # plate search is not for engineers (anpr.plate_search is a watchlist service)

    def _searcher(self, request: web.Request, centre: str) -> tuple[Viewer, Any]:
        """The viewer, if their role may search plates, and the ANPR manager."""
        viewer = self.viewer(request, centre)
        if not self.frontend.policy.can_call(viewer.principal, "anpr", "plate_search", {}):
            raise Refused(self.error_page(request, 403, "Not allowed",
                                          "Plate search is for operators, supervisors and administrators.",
                                          viewer.principal))
        manager = _anpr(self)
        if manager is None:
            raise Refused(self.error_page(request, 404, "No plate recognition",
                                          "ANPR is not set up on this hub.", viewer.principal))
        return viewer, manager


def _local_ts(value: str, zone: Any) -> float | None:
    """A `datetime-local` form value in the site's time zone as an epoch."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ServiceValidationError(f"'start'/'end': {value!r} is not a date and time") from None
    if parsed.tzinfo is None and zone is not None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.timestamp()


def journey(reads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reads in time order, one step per camera visit, with the time since the previous step."""
    steps: list[dict[str, Any]] = []
    for read in sorted(reads, key=lambda r: r["ts"]):
        if steps and steps[-1]["camera"] == read["camera"] and read["ts"] - steps[-1]["last_ts"] < 300:
            steps[-1]["last_ts"] = read["ts"]
            steps[-1]["reads"] += 1
            continue
        gap = read["ts"] - steps[-1]["last_ts"] if steps else None
        steps.append({"camera": read["camera"], "camera_name": read["camera_name"], "first_ts": read["ts"],
                      "last_ts": read["ts"], "reads": 1, "gap_min": round(gap / 60, 1) if gap is not None else None,
                      "latitude": read["latitude"], "longitude": read["longitude"]})
    return steps


class PlateSearchView(_PlateBase):
    """GET: the form; with a plate, the search (refused without a purpose) and its results."""

    url = "/c/{centre}/plates"
    name = "frontend:plates"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The plate search."""
        viewer, manager = self._searcher(request, centre)
        form = {key: request.query.get(key, "").strip() for key in _FORM_FIELDS}
        return await self._async_page(request, viewer, manager, form)

    @page
    async def post(self, request: web.Request, centre: str) -> web.StreamResponse:
        """Export the search as evidence (supervisors, admins): searched again, purpose audited, then signed."""
        viewer, manager = self._searcher(request, centre)
        posted = await request.post()
        form = {key: str(posted.get(key, "")).strip() for key in _FORM_FIELDS}
        try:
            data = {**self._search_data(form), "case_reference": str(posted.get("case_reference", "")).strip()}
            exported = await self.frontend.hub.services.async_call(
                "anpr", "plate_search_export", data, context=request_context(request), return_response=True)
        except Unauthorized:
            raise Refused(self.error_page(request, 403, "Not allowed", "Evidence exports are for supervisors and "
                                          "administrators.", viewer.principal)) from None
        except (ServiceValidationError, vol.Invalid) as err:
            raise Refused(self.error_page(request, 400, "Not exported", str(err), viewer.principal)) from None
        # The export answered with the zip: the page shows it without searching (and auditing) a third time.
        return await self._async_page(request, viewer, manager, form, exported=exported)

    async def _async_page(self, request: web.Request, viewer: Viewer, manager: Any, form: dict[str, str],
                          exported: Any = None) -> web.StreamResponse:
        form["mode"] = form["mode"] or "exact"
        cameras = [{"id": cid, "name": cam.config.name} for cid, cam in sorted(manager.cameras.items())]
        context: dict[str, Any] = {"form": form, "cameras": cameras, "result": None, "error": None, "steps": [],
                                   "exported": exported, "not_shared": [],
                                   "may_export": self.frontend.policy.can_call(viewer.principal, "anpr",
                                                                               "plate_search_export", {})}
        status = 200
        if form["plate"] and exported is None:
            if len(form["purpose"]) < 10:
                context["error"] = "purpose"
                status = 400
            else:
                try:
                    context["result"] = await self._async_search(request, form)
                except ServiceValidationError as err:
                    context["error"], status = str(err), 400
                except Unauthorized:
                    raise Refused(self.error_page(request, 403, "Not allowed",
                                                  "This account may not search plates.", viewer.principal)) from None
                except HubError as err:
                    context["error"], status = str(err), 503
        if context["result"] is not None:
            context["not_shared"] = not_shared_lines(self.frontend, viewer, "reads",
                                                     context["result"].get("not_shared", {}))
        if context["result"] is not None and form["mode"] == "exact":
            context["steps"] = journey(context["result"]["reads"])
        return self.render(request, viewer, "plates.html", page="plates", title="Plate search", status=status,
                           page_data={"steps": context["steps"]}, **context)

    def _search_data(self, form: dict[str, str]) -> dict[str, Any]:
        zone = self.frontend.hub.config.tz if self.frontend.hub.config is not None else None
        return {"plate": form["plate"], "mode": form["mode"] or "exact", "purpose": form["purpose"],
                "start": _local_ts(form["start"], zone), "end": _local_ts(form["end"], zone),
                "camera": form["camera"] or None}

    async def _async_search(self, request: web.Request, form: dict[str, str]) -> dict[str, Any]:
        data = self._search_data(form)
        try:
            response = await self.frontend.hub.services.async_call(
                "anpr", "plate_search", data, context=request_context(request), return_response=True)
        except vol.Invalid as err:
            raise ServiceValidationError(str(err)) from None
        assert isinstance(response, dict)
        return response


class PlateImageView(_PlateBase):
    """One read's plate crop or overview frame, for a viewer who may search plates and see that camera."""

    url = "/c/{centre}/plates/reads/{read_id:[0-9]{1,12}}/{kind}"
    name = "frontend:plate-image"

    @page
    async def get(self, request: web.Request, centre: str, read_id: str, kind: str) -> web.StreamResponse:
        """The JPEG (404 when absent or not the viewer's to see)."""
        viewer, manager = self._searcher(request, centre)
        from integrations.anpr.search import async_read_image

        path = None
        if _KINDS.fullmatch(kind):
            path = await async_read_image(self.frontend.hub, manager, int(read_id), kind, request_context(request))
        if path is None:
            raise Refused(self.error_page(request, 404, "No such image",
                                          "There is no such image you may see.", viewer.principal))
        return web.FileResponse(path, headers={"Cache-Control": "no-store", "Content-Type": "image/jpeg"})
