"""REST views: GET /api/alarms, /api/alarms/{alarm_id}, /api/alarms/stats, /api/alarm_types."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from hub.core import Hub, callback
from hub.http.access import ROLES_STAFF
from hub.http.const import ERR_INVALID_FORMAT, ERR_NOT_FOUND, KEY_HUB, KEY_USER
from hub.http.server import async_register_views as register_views
from hub.http.view import ApiError, HubView

from .access import viewer_for
from .const import AlarmState

if TYPE_CHECKING:
    from .manager import AlarmManager

__all__ = ["async_register_views"]

_TRUE = ("1", "true", "yes")


def _float(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise ApiError(400, ERR_INVALID_FORMAT, f"Query parameter {name} must be a number, got {raw!r}") from None


def _manager(request: web.Request) -> AlarmManager:
    from .manager import DATA_MANAGER

    manager = request[KEY_HUB].data.get(DATA_MANAGER)
    if manager is None:
        raise ApiError(503, "alarm_not_running", "The alarm integration is not running")
    return manager


class _AlarmView(HubView):
    """Views find the manager at request time, so a reloaded integration serves the same routes."""

    openapi_tag: ClassVar[str] = "alarms"
    roles = ROLES_STAFF  # what each sees is the alarm viewer's business


class AlarmListView(_AlarmView):
    """The alarm queue."""

    url = "/api/alarms"
    name = "api:alarms"

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Active alarms the caller may see, most severe then newest first (filters: centre, state).
        With history=true: stored alarms of any state, newest first (since, until, limit)."""
        manager = _manager(request)
        viewer = viewer_for(manager.hub, request.get(KEY_USER))
        centre = request.query.get("centre") or None
        state = request.query.get("state") or None
        if state is not None and state not in {s.value for s in AlarmState}:
            raise ApiError(400, ERR_INVALID_FORMAT, f"Unknown state {state!r}")
        if request.query.get("history", "").lower() in _TRUE:
            limit = _float(request, "limit")
            alarms = await manager.store.async_query(
                centre=centre, state=state, since=_float(request, "since"), until=_float(request, "until"),
                limit=int(limit) if limit is not None else 100,
            ) if manager.store is not None else []
        else:
            alarms = [a for a in manager.active([centre] if centre else None)
                      if state is None or a.state.value == state]
        return {"alarms": [viewer.show(a) for a in alarms if viewer.sees(a)]}


class AlarmDetailView(_AlarmView):
    """One alarm with its SOP and timeline."""

    url = "/api/alarms/{alarm_id:[0-9a-f]{32}}"
    name = "api:alarm"

    async def get(self, request: web.Request, alarm_id: str) -> dict[str, Any]:
        """The alarm, its SOP progress and its timeline (active or closed)."""
        manager = _manager(request)
        alarm = await manager.async_get(alarm_id)
        viewer = viewer_for(manager.hub, request.get(KEY_USER))
        if alarm is None or not viewer.sees(alarm):
            raise ApiError(404, ERR_NOT_FOUND, f"No alarm {alarm_id}")
        return viewer.show(alarm, full=True)


class AlarmStatsView(_AlarmView):
    """Response and resolution times."""

    url = "/api/alarms/stats"
    name = "api:alarms:stats"

    async def get(self, request: web.Request) -> dict[str, Any]:
        """Response and resolution times per alarm type (filters: type, centre, since)."""
        return {"types": await _manager(request).async_stats(request.query.get("type") or None,
                                                        request.query.get("centre") or None,
                                                        _float(request, "since"))}


class AlarmTypesView(_AlarmView):
    """The configured alarm types and their SOPs."""

    url = "/api/alarm_types"
    name = "api:alarm_types"

    async def get(self, request: web.Request) -> list[dict[str, Any]]:
        """Every configured alarm type with its SLAs and SOP steps."""
        return [kind.as_dict() for kind in _manager(request).types.values()]


@callback
def async_register_views(hub: Hub) -> bool:
    """Serve the alarm API (once per hub; the server may already listen); False without an HTTP API."""
    return register_views(hub, (AlarmStatsView, AlarmListView, AlarmDetailView, AlarmTypesView), "Alarm API")
