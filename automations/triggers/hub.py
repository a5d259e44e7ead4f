"""`platform: hub`: the hub has started (`event: start`) or is shutting down (`event: shutdown`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.const import EVENT_HUB_STARTED, EVENT_HUB_STOP
from hub.core import CALLBACK_TYPE, Event, Hub, HubState, callback

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]

TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): vol.In(["hub", "homeassistant"]),  # Home Assistant's name for it
    vol.Required("event"): vol.In(["start", "shutdown"]),
})


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Start fires once when the hub finishes starting (not on a reload); shutdown when it stops."""
    trigger_data = trigger_info["trigger_data"]
    kind = config["event"]

    @callback
    def fire(event: Event) -> None:
        payload = {**trigger_data, "platform": config["platform"], "event": kind, "description": f"hub {kind}"}
        action(payload, event.context)

    if kind == "shutdown":
        return hub.bus.async_listen_once(EVENT_HUB_STOP, fire)
    if hub.state is HubState.running:
        return lambda: None  # loaded after start (a reload): the hub is not starting now
    return hub.bus.async_listen_once(EVENT_HUB_STARTED, fire)
