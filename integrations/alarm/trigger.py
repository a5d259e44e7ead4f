"""`platform: alarm` automation trigger: an alarm was raised, acknowledged, escalated, resolved...

    trigger:
      - platform: alarm
        event: [raised, escalated]        # default: raised
        alarm_type: [fire, intrusion]     # optional filters
        severity: [critical]
        centre: [local_police]

The trigger variable holds `event` (the kind), `alarm_id`, `alarm` (the alarm summary with what
the event adds, e.g. `reason` of an escalation) and the event's context, so the automation's
actions act for whoever caused it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Event, Hub, callback
from hub.helpers import config_validation as cv

from .const import EVENT_KINDS, Severity

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]

_KINDS = sorted(EVENT_KINDS)
_SEVERITIES = [s.value for s in Severity]

TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "alarm",
    vol.Optional("event", default=["raised"]): vol.All(cv.ensure_list, [vol.In(
        _KINDS, msg=f"expected one of {', '.join(_KINDS)}")]),
    vol.Optional("alarm_type"): vol.All(cv.ensure_list, [cv.slug]),
    vol.Optional("severity"): vol.All(cv.ensure_list, [vol.In(_SEVERITIES,
                                                              msg=f"expected one of {', '.join(_SEVERITIES)}")]),
    vol.Optional("centre"): vol.All(cv.ensure_list, [cv.slug]),
})


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Listen for the alarm events of the chosen kinds; filter by type, severity and centre."""
    trigger_data = trigger_info["trigger_data"]
    filters = {key: frozenset(config[key]) for key in ("alarm_type", "severity", "centre") if key in config}
    field = {"alarm_type": "type", "severity": "severity", "centre": "centre"}
    kinds = {EVENT_KINDS[kind]: kind for kind in config["event"]}

    @callback
    def on_event(event: Event) -> None:
        data = event.data
        for key, allowed in filters.items():
            if data.get(field[key]) not in allowed:
                return
        kind = kinds[event.event_type]
        action({
            **trigger_data,
            "platform": "alarm",
            "event": kind,
            "alarm_id": data.get("alarm_id"),
            "alarm": dict(data),
            "description": f"alarm {data.get('type')} {kind}",
        }, event.context)

    removers = [hub.bus.async_listen(event_type, on_event) for event_type in kinds]

    @callback
    def remove() -> None:
        for remover in removers:
            remover()

    return remove
