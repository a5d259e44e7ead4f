"""`platform: event`: an event of a type, optionally with matching data and context (user, centre, parent)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Event, Hub, callback
from hub.helpers import config_validation as cv
from hub.helpers.template import Template, render_complex
from hub.helpers.validators import template_complex

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger", "data_matches"]

_CONTEXT_KEYS = ("user_id", "parent_id", "id", "centre")

TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "event",
    vol.Required("event_type"): vol.All(cv.ensure_list, [vol.Any(template_complex, cv.string)]),
    vol.Optional("event_data"): vol.All(dict, template_complex),
    vol.Optional("context"): vol.Schema({vol.Optional(key): vol.All(cv.ensure_list, [cv.string])
                                         for key in _CONTEXT_KEYS}),
})


def data_matches(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    """Whether every key of `expected` is in `actual` with an equal value (nested mappings: a subset)."""
    for key, value in expected.items():
        if key not in actual:
            return False
        other = actual[key]
        if isinstance(value, Mapping) and isinstance(other, Mapping):
            if not data_matches(value, other):
                return False
        elif value != other:
            return False
    return True


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Listen on the bus for each event type."""
    variables = trigger_info["variables"]
    trigger_data = trigger_info["trigger_data"]
    # Templates here may use the automation's trigger_variables only (rendered once, at attach).
    event_types = [str(render_complex(hub, item, variables, parse_result=False)) if isinstance(item, Template)
                   else item for item in config["event_type"]]
    event_data = render_complex(hub, config.get("event_data"), variables) if "event_data" in config else None
    context_match = {key: frozenset(values) for key, values in config.get("context", {}).items()}

    @callback
    def on_event(event: Event) -> None:
        if event_data and not data_matches(event_data, event.data):
            return
        if context_match:
            ctx = event.context
            for key, allowed in context_match.items():
                if getattr(ctx, key) not in allowed:
                    return
        action(
            {
                **trigger_data,
                "platform": "event",
                "event": event,
                "description": f"event '{event.event_type}'",
            },
            event.context,
        )

    removers = [hub.bus.async_listen(event_type, on_event) for event_type in event_types]

    @callback
    def remove() -> None:
        for remover in removers:
            remover()

    return remove
