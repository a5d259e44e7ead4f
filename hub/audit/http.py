"""REST views of the audit log: GET /api/audit (supervisors: their centre; admins: all), /api/audit/verify."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from ..auth.permissions import get_permissions
from ..core import Hub, callback
from ..http.access import ROLES_ADMIN, ROLES_AUDIT
from ..http.const import ERR_FORBIDDEN, ERR_INVALID_FORMAT, HUB_KEY, KEY_HUB, KEY_USER
from ..http.server import DATA_HTTP
from ..http.view import ApiError, HubView, request_context
from . import ACTION_VIEW_SENSITIVE, get_audit

__all__ = ["AuditListView", "AuditVerifyView", "async_register_views"]


def _principal(request: web.Request, roles: tuple[str, ...]) -> Any:

    policy = get_permissions(request[KEY_HUB])
    principal = policy.principal_for(request.get(KEY_USER)) if policy is not None else None
    if principal is None or principal.role.value not in roles:
        raise ApiError(403, ERR_FORBIDDEN, f"The audit log is for {' and '.join(roles)} users")
    return principal


def _number(request: web.Request, name: str, kind: type[int] | type[float]) -> Any:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ApiError(400, ERR_INVALID_FORMAT, f"Query parameter {name} must be a number, got {raw!r}") from None


class AuditListView(HubView):
    """The audit log, newest first."""

    url = "/api/audit"
    name = "api:audit"
    roles = ROLES_AUDIT
    openapi_tag = "audit"

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Audit entries newest first: filters action, user_id, centre (admins), since, until; page with
        before_seq; limit (default 100, at most 1000). Supervisors see their own centre's entries."""

        principal = _principal(request, ("admin", "supervisor"))
        hub: Hub = request[KEY_HUB]
        audit = get_audit(hub)
        if audit is None:
            raise ApiError(503, "audit_not_running", "The audit log is not running")
        centre = request.query.get("centre") if principal.role.value == "admin" else principal.centre
        limit = _number(request, "limit", int) or 100
        entries = await audit.async_query(
            action=request.query.get("action"), user_id=request.query.get("user_id"), centre=centre,
            since=_number(request, "since", float), until=_number(request, "until", float),
            before_seq=_number(request, "before_seq", int), limit=limit,
        )
        audit.record(ACTION_VIEW_SENSITIVE, context=request_context(request), target="audit_log",
                     data={"filters": dict(request.query), "entries": len(entries)})
        return {"entries": entries}


class AuditVerifyView(HubView):
    """Check the audit chain."""

    url = "/api/audit/verify"
    name = "api:audit:verify"
    roles = ROLES_ADMIN
    openapi_tag = "audit"

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Verify the whole hash chain (admins); names the first broken entry."""

        _principal(request, ("admin",))
        audit = get_audit(request[KEY_HUB])
        if audit is None:
            raise ApiError(503, "audit_not_running", "The audit log is not running")
        result = await audit.async_verify()
        return result.as_dict()


@callback
def async_register_views(hub: Hub) -> bool:
    """Add the views when the HTTP server is set up and not started; whether they were added."""

    http = hub.data.get(DATA_HTTP)
    if http is None or http.is_running:
        return False
    http.register_view(AuditListView)
    http.register_view(AuditVerifyView)
    http.app.middlewares.append(audit_written_middleware)
    return True


@web.middleware
async def audit_written_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request that recorded audit entries (a login, an export, a view of sensitive data) is answered
    only once they are committed."""
    from . import get_audit

    response = await handler(request)
    audit = get_audit(request.app[HUB_KEY])
    if audit is not None:
        await audit.async_wait_recorded_here()
    return response
