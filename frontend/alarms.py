"""Alarms as the screens show them, read from the alarm integration when it is set up.

Peer centres' alarms (other hubs, through federation) come from the federation integration.
Visibility is the integration's own rule (integrations.alarm.access): admins see every alarm,
everyone else their own centre's and those another centre shares, whichever centre's screens
they have open. So a supervisor looking at another centre sees that centre's devices and map,
and only the alarms it shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from hub.core import Hub

if TYPE_CHECKING:
    from integrations.alarm.manager import AlarmManager

    from .view import Viewer

__all__ = ["OPEN_STATES", "alarm_manager", "alarm_sla", "async_alarm", "map_alarms", "peer_alarms", "queue_alarms"]

OPEN_STATES: Final = ("raised", "acknowledged", "in_progress")


def alarm_manager(hub: Hub) -> AlarmManager | None:
    """The alarm manager, or None when the alarm integration is not set up."""
    try:
        from integrations.alarm.manager import get_manager
    except ImportError:
        return None
    return get_manager(hub)


def _sees(hub: Hub, viewer: Viewer) -> Any:
    from integrations.alarm.access import viewer_for

    return viewer_for(hub, viewer.session.user()).sees


def peer_alarms(hub: Hub) -> list[dict[str, Any]] | None:
    """Open alarms that peer centres (other hubs, through federation) share, newest first; None without
    federation. Every logged-in user sees them: a peer shares them with this whole site."""
    try:
        from integrations.federation.manager import get_federation
        from integrations.federation.websocket import remote_alarms
    except ImportError:
        return None
    manager = get_federation(hub)
    return remote_alarms(manager) if manager is not None else None


def queue_alarms(hub: Hub, viewer: Viewer) -> list[dict[str, Any]]:
    """The active alarms the viewer may see (the page splits the centre's own from the shared)."""
    manager = alarm_manager(hub)
    if manager is None:
        return []
    sees = _sees(hub, viewer)
    return [alarm.as_dict() for alarm in manager.active() if sees(alarm)]


async def async_alarm(hub: Hub, viewer: Viewer, alarm_id: str) -> dict[str, Any] | None:
    """One alarm with its SOP and timeline, if it exists and the viewer may see it."""
    manager = alarm_manager(hub)
    if manager is None:
        return None
    alarm = await manager.async_get(alarm_id)
    if alarm is None or not _sees(hub, viewer)(alarm):
        return None
    return alarm.as_dict(full=True)


def alarm_sla(hub: Hub, alarm: dict[str, Any]) -> dict[str, float] | None:
    """When the alarm's type wants it acknowledged and resolved (its SLA from the raise), for the countdown."""
    manager = alarm_manager(hub)
    kind = manager.types.get(str(alarm.get("type"))) if manager is not None else None
    raised = alarm.get("raised_ts")
    if kind is None or not isinstance(raised, int | float):
        return None
    return {"ack_due_ts": raised + kind.sla_ack, "resolve_due_ts": raised + kind.sla_resolve}


def map_alarms(hub: Hub, viewer: Viewer) -> list[dict[str, Any]]:
    """Open alarms with a position, for the map (each with its page's URL)."""
    found = []
    for alarm in queue_alarms(hub, viewer):
        if alarm.get("latitude") is None or alarm.get("state") not in OPEN_STATES:
            continue
        found.append({**alarm, "url": f"/c/{viewer.centre.id}/alarms/{alarm['alarm_id']}"})
    return found
