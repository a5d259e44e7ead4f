"""Every frontend route, registered on the hub's HTTP server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .views_alarms import AlarmDataView, AlarmView, QueueView
from .views_audit import AuditView
from .views_auth import LoginView, LogoutView, RootView
from .views_automations import AutomationListView, AutomationTraceView
from .views_cameras import CameraWallView
from .views_devices import DeviceListView, DeviceView
from .views_map import MapDataView, MapView
from .websocket import CentreWebSocketView

if TYPE_CHECKING:
    from .app import Frontend

__all__ = ["VIEWS", "register_routes"]

VIEWS = (
    RootView,
    LoginView,
    LogoutView,
    QueueView,
    AlarmView,
    AlarmDataView,
    MapView,
    MapDataView,
    DeviceListView,
    DeviceView,
    CameraWallView,
    AutomationListView,
    AutomationTraceView,
    AuditView,
    CentreWebSocketView,
)


def register_routes(frontend: Frontend) -> None:
    """Add every view (the HTTP server has not started yet)."""
    for view in VIEWS:
        frontend.http.register_view(view(frontend))
