"""REST: GET /api/evidence (the exports) and GET /api/evidence/{name} (download one), for supervisors and admins."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiohttp import web

from ..audit import ACTION_EXPORT, audit_record
from ..auth.permissions import get_permissions
from ..core import Context, Hub, callback
from ..exceptions import Unauthorized
from ..http.access import ROLES_DELIVERY
from ..http.const import ERR_NOT_FOUND, KEY_HUB, KEY_USER
from ..http.server import DATA_HTTP
from ..http.view import ApiError, HubView, request_context
from .const import AUDIT_TARGET_PREFIX, EXPORT_DIR, EXPORT_ROLES, NAME_PATTERN

__all__ = ["EvidenceDownloadView", "EvidenceListView", "async_register_views", "check_exporter"]


@callback
def check_exporter(hub: Hub, user_id: str | None) -> None:
    """Raise Unauthorized unless `user_id` may export evidence (admins, supervisors; the hub itself may).

    Without users defined (a test bench) roles are not enforced, as for every other permission.
    """

    policy = get_permissions(hub)
    if user_id is None or policy is None or not policy.enforced:
        return
    principal = policy.principal(user_id)
    if principal is None or principal.role.value not in EXPORT_ROLES:
        raise Unauthorized(f"Evidence exports are for {' and '.join(sorted(EXPORT_ROLES))} users",
                           user_id=user_id, permission="evidence")


def _listing(folder: Path) -> list[dict[str, Any]]:
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir(), reverse=True):
        if NAME_PATTERN.match(entry.name) and entry.is_file():
            stat = entry.stat()
            found.append({"name": entry.name, "size": stat.st_size, "modified_ts": stat.st_mtime,
                          "url": f"/api/evidence/{entry.name}"})
    return found


class EvidenceListView(HubView):
    """The evidence exports kept on this hub."""

    url = "/api/evidence"
    name = "api:evidence"
    roles = ROLES_DELIVERY
    openapi_tag = "evidence"

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Every export, newest first (name, size, download url)."""
        hub: Hub = request[KEY_HUB]
        user = request.get(KEY_USER)
        check_exporter(hub, user.id if user is not None else None)
        return {"exports": await hub.async_add_executor_job(_listing, hub.path(EXPORT_DIR))}


class EvidenceDownloadView(HubView):
    """One evidence zip."""

    url = "/api/evidence/{name}"
    name = "api:evidence:download"
    roles = ROLES_DELIVERY
    openapi_tag = "evidence"

    async def get(self, request: web.Request, name: str) -> web.StreamResponse:
        """Download an export (application/zip); every download is audited."""

        hub: Hub = request[KEY_HUB]
        user = request.get(KEY_USER)
        context: Context = request_context(request)
        check_exporter(hub, user.id if user is not None else None)
        path = hub.path(EXPORT_DIR, name)
        if not NAME_PATTERN.match(name) or not await hub.async_add_executor_job(os.path.isfile, path):
            raise ApiError(404, ERR_NOT_FOUND, f"No evidence export {name[:80]!r}")
        audit_record(hub, ACTION_EXPORT, context=context, target=f"{AUDIT_TARGET_PREFIX}{name}",
                     data={"download": True})
        return web.FileResponse(path, headers={
            "Content-Type": "application/zip", "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})


@callback
def async_register_views(hub: Hub) -> bool:
    """Add the views if the HTTP server is set up and not started; whether they were added."""

    http = hub.data.get(DATA_HTTP)
    if http is None or http.is_running:
        return False
    http.register_view(EvidenceListView)
    http.register_view(EvidenceDownloadView)
    return True
