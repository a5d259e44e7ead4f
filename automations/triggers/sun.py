"""`platform: sun`: at sunrise or sunset, with an `offset` ('-00:45:00' is 45 minutes before)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.exceptions import HubError
from hub.helpers.dt import hub_tz
from hub.helpers.validators import time_period as offset

from ..sun import SUN_EVENTS, next_sun_event, observer

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]


TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "sun",
    vol.Required("event"): vol.All(str, vol.Lower, vol.In(SUN_EVENTS)),
    vol.Optional("offset", default=timedelta(0)): offset,
})


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Schedule the next event on the hub clock; after it fires, the one after."""
    observer(hub)  # no coordinates: a clear error now, not a silent trigger
    trigger_data = trigger_info["trigger_data"]
    event: str = config["event"]
    shift: timedelta = config["offset"]
    handle: list[Any] = []

    def schedule(after: float) -> None:
        when = next_sun_event(hub, event, after, shift)
        if when is None:
            raise HubError(f"no {event} within a year at this site")
        handle[:] = [hub.clock.call_at(when, lambda: fire(when))]

    def fire(when: float) -> None:
        schedule(when)
        payload = {**trigger_data, "platform": "sun", "event": event, "offset": shift,
                   "now": hub.clock.now().astimezone(hub_tz(hub)),
                   "description": f"{event} with offset {shift}"}
        action(payload, Context())

    schedule(hub.clock.time())

    @callback
    def remove() -> None:
        for timer in handle:
            timer.cancel()
        handle.clear()

    return remove
