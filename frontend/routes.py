"""Every frontend route, registered on the hub's HTTP server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .hidden import NotSharedView
from .views_alarms import AlarmDataView, AlarmEvidenceImageView, AlarmView, QueueView
from .views_audit import AuditView
from .views_auth import LanguageView, LoginView, LogoutView, RootView
from .views_automations import AutomationListView, AutomationTraceView
from .views_cameras import CameraMarkersView, CameraWallView, SyncPlaybackView, WallArrangementView
from .views_devices import DeviceListView, DeviceView
from .views_incidents import IncidentDocumentView, IncidentListView, IncidentReportView, IncidentView
from .views_map import MapDataView, MapView
from .views_plates import PlateImageView, PlateSearchView
from .views_shift import ShiftLogView
from .websocket import CentreWebSocketView

if TYPE_CHECKING:
    from .app import Frontend

__all__ = ["VIEWS", "register_routes"]

VIEWS = (
    RootView,
    LoginView,
    LogoutView,
    LanguageView,
    QueueView,
    AlarmView,
    AlarmDataView,
    AlarmEvidenceImageView,
    MapView,
    MapDataView,
    NotSharedView,
    DeviceListView,
    DeviceView,
    CameraWallView,
    WallArrangementView,
    CameraMarkersView,
    SyncPlaybackView,
    AutomationListView,
    AutomationTraceView,
    AuditView,
    PlateSearchView,
    PlateImageView,
    IncidentListView,
    IncidentView,
    IncidentReportView,
    IncidentDocumentView,
    ShiftLogView,
    CentreWebSocketView,
)


def register_routes(frontend: Frontend) -> None:
    """Add every view (the HTTP server has not started yet)."""
    for view in VIEWS:
        frontend.http.register_view(view(frontend))
