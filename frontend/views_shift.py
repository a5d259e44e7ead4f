"""The shift log screen: the centre's log, the hand-over waiting for the incoming operator (with its summary),
and forms to write a note, hand over and acknowledge, each through a `shift_log.*` service (audited)."""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from hub.exceptions import ServiceValidationError, Unauthorized
from hub.http.view import request_context

from .view import FrontendView, Refused, page

__all__ = ["ShiftLogView"]

ACTIONS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "note": ("add_note", ("text",)),
    "hand_over": ("hand_over", ("note",)),
    "acknowledge": ("acknowledge", ("entry_id",)),
}


class ShiftLogView(FrontendView):
    """GET: the viewed centre's shift log; POST: one action on the viewer's own centre's log."""

    url = "/c/{centre}/shift"
    name = "frontend:shift"

    def _log(self, request: web.Request, principal: Any) -> Any:
        try:
            from integrations.shift_log import get_shift_log
        except ImportError:
            get_shift_log = None  # type: ignore[assignment]
        log = get_shift_log(self.frontend.hub) if get_shift_log is not None else None
        if log is None:
            raise Refused(self.error_page(request, 404, "No shift log", "The shift log is not set up on this hub.",
                                          principal))
        return log

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The shift log, newest first, with the pending hand-over on top."""
        viewer = self.viewer(request, centre)
        log = self._log(request, viewer.principal)
        entries = await log.async_entries(viewer.centre.id)
        pending = log.pending_handover(entries)
        may_write = viewer.own_centre and self.frontend.policy.can_call(viewer.principal, "shift_log", "add_note", {})
        return self.render(request, viewer, "shift.html", page="shift", title="Shift log", entries=entries,
                           by_id={e["entry_id"]: e for e in entries if e.get("kind") == "handover"},
                           pending=pending, may_write=may_write, shift=log.shift_of(self.frontend.hub.clock.time()))

    @page
    async def post(self, request: web.Request, centre: str) -> web.StreamResponse:
        """Run the form's action, then back to the log."""
        viewer = self.viewer(request, centre)
        self._log(request, viewer.principal)
        form = await request.post()
        action = ACTIONS.get(str(form.get("action", "")))
        if action is None or not viewer.own_centre:
            raise Refused(self.error_page(request, 400, "Not done", "Write in your own centre's shift log.",
                                          viewer.principal))
        service, fields = action
        data = {key: str(form[key]).strip() for key in fields if str(form.get(key, "")).strip()}
        try:
            await self.frontend.hub.services.async_call("shift_log", service, data, context=request_context(request),
                                                        return_response=True)
        except Unauthorized as err:
            raise Refused(self.error_page(request, 403, "Not allowed", str(err), viewer.principal)) from None
        except (ServiceValidationError, vol.Invalid) as err:
            raise Refused(self.error_page(request, 400, "Not done", str(err), viewer.principal)) from None
        raise web.HTTPSeeOther(f"/c/{viewer.centre.id}/shift")
