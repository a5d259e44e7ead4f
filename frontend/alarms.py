"""Alarms as the screens show them: read from the alarm integration when it is set up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from hub.core import Hub

if TYPE_CHECKING:
    from .view import Viewer

__all__ = ["OPEN_STATES", "map_alarms", "queue_alarms"]

OPEN_STATES: Final = ("raised", "acknowledged", "in_progress")


def queue_alarms(hub: Hub, viewer: Viewer) -> list[dict[str, Any]]:
    """The open alarms the viewed centre sees: its own and those other centres share."""
    return []


def map_alarms(hub: Hub, viewer: Viewer) -> list[dict[str, Any]]:
    """Open alarms with a position, for the map."""
    return []
