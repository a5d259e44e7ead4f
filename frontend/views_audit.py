"""The audit log screen (supervisors: their centre's entries; admins: every centre, and the chain check)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.auth.users import Role
from hub.http.view import request_context

from .i18n import N_
from .view import FrontendView, Refused, page

__all__ = ["AuditView"]

PAGE_SIZE = 100


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


class AuditView(FrontendView):
    """Audit entries newest first, filtered by action and user; viewing it is itself audited."""

    url = "/c/{centre}/audit"
    name = "frontend:audit"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The audit log."""
        viewer = self.viewer(request, centre)
        if not viewer.may_audit:
            raise Refused(self.error_page(request, 403, N_("Not allowed"),
                                          N_("The audit log is for supervisors and administrators."),
                                          viewer.principal))
        from hub.audit import ACTION_VIEW_SENSITIVE, get_audit

        audit = get_audit(self.frontend.hub)
        if audit is None:
            raise Refused(self.error_page(request, 503, N_("Audit log not running"),
                                          N_("The audit log is not set up on this hub."), viewer.principal))
        admin = viewer.role is Role.ADMIN
        filters = {
            "action": request.query.get("action") or None,
            "user_id": request.query.get("user_id") or None,
            # Supervisors read their own centre's entries only, whichever centre they are viewing.
            "centre": (request.query.get("centre") or None) if admin else viewer.principal.centre,
        }
        before = _int(request.query.get("before_seq"))
        entries = await audit.async_query(action=filters["action"], user_id=filters["user_id"],
                                          centre=filters["centre"], before_seq=before, limit=PAGE_SIZE)
        audit.record(ACTION_VIEW_SENSITIVE, context=request_context(request), target="audit_log",
                     data={"filters": {k: v for k, v in filters.items() if v}, "entries": len(entries)})
        verify: dict[str, Any] | None = None
        if admin and request.query.get("verify"):
            verify = (await audit.async_verify()).as_dict()
        older = entries[-1]["seq"] if len(entries) == PAGE_SIZE else None
        return self.render(request, viewer, "audit.html", page="audit", title=N_("Audit log"), entries=entries,
                           filters=filters, admin=admin, verify=verify, older=older)
