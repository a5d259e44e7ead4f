"""`platform: zone`: something with coordinates enters or leaves a zone (a hot-listed car enters the port)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Event, Hub, State, callback
from hub.helpers import config_validation as cv
from hub.helpers.area_registry import in_zone
from hub.helpers.event import async_track_state_change_event

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger", "state_in_zone"]

EVENT_ENTER = "enter"
EVENT_LEAVE = "leave"

TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "zone",
    vol.Required("entity_id"): cv.entity_ids,
    vol.Required("zone"): cv.entity_domain("zone"),
    vol.Optional("event", default=EVENT_ENTER): vol.In([EVENT_ENTER, EVENT_LEAVE]),
})


def state_in_zone(zone: State | None, state: State | None) -> bool:
    """Whether `state` has coordinates inside `zone` (its polygon or circle, widened by gps_accuracy)."""
    if zone is None or state is None:
        return False
    attrs = state.attributes
    try:
        latitude = float(attrs["latitude"])
        longitude = float(attrs["longitude"])
        accuracy = float(attrs.get("gps_accuracy", 0) or 0)
    except (KeyError, TypeError, ValueError):
        return False
    return in_zone(zone, latitude, longitude, accuracy)


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Compare the old and new position of each entity with the zone."""
    zone_id: str = config["zone"]
    kind: str = config["event"]
    trigger_data = trigger_info["trigger_data"]

    @callback
    def on_change(event: Event) -> None:
        from_s, to_s = event.data["old_state"], event.data["new_state"]
        if to_s is None:
            return
        zone = hub.states.get(zone_id)
        if zone is None:
            return
        was_in = state_in_zone(zone, from_s)
        now_in = state_in_zone(zone, to_s)
        if (kind == EVENT_ENTER and not was_in and now_in) or (kind == EVENT_LEAVE and was_in and not now_in):
            entity_id = event.data["entity_id"]
            action(
                {
                    **trigger_data,
                    "platform": "zone",
                    "entity_id": entity_id,
                    "from_state": from_s,
                    "to_state": to_s,
                    "zone": zone,
                    "event": kind,
                    "description": f"{entity_id} {kind} {zone_id}",
                },
                event.context,
            )

    return async_track_state_change_event(hub, config["entity_id"], on_change)
