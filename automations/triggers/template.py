"""`platform: template`: a template turns true (re-rendered when what it reads changes), optionally `for:`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Event, Hub, callback
from hub.exceptions import HubError
from hub.helpers.template import Template, is_true
from hub.helpers.template_tracker import TemplateTracker
from hub.helpers.validators import positive_period_or_template, template

from .pending import PendingTimers, resolve_for

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]

_LOGGER = logging.getLogger(__name__)

TRIGGER_SCHEMA = vol.Schema({
    vol.Required("platform"): "template",
    vol.Required("value_template"): template,
    vol.Optional("for"): positive_period_or_template,
})

_KEY = "template"


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Fire on each false -> true transition of the template."""
    value_template: Template = config["value_template"]
    for_value = config.get("for")
    trigger_data = trigger_info["trigger_data"]
    variables = trigger_info["variables"]
    name = trigger_info["name"]
    pending = PendingTimers(hub, trigger_info.get("for_store"), f"{trigger_data['idx']}:") \
        if for_value is not None else None
    state = {"last": True}  # the first render never fires: it needs a transition

    def payload_for(event: Event | None, period: Any) -> dict[str, Any]:
        data = event.data if event is not None else {}
        return {
            **trigger_data,
            "platform": "template",
            "entity_id": data.get("entity_id"),
            "from_state": data.get("old_state"),
            "to_state": data.get("new_state"),
            "for": period,
            "description": f"template {value_template.source}",
        }

    @callback
    def on_result(result: Any, error: Exception | None, event: Event | None) -> None:
        if error is not None:
            _LOGGER.warning("%s: template trigger: %s", name, error)
            result = False
        now_true = is_true(result)
        was_true, state["last"] = state["last"], now_true
        if not now_true:
            if pending is not None:
                pending.cancel(_KEY)
            return
        if was_true:
            return
        context = event.context if event is not None else None
        if pending is None:
            action(payload_for(event, None), context)
            return
        try:
            seconds = resolve_for(hub, for_value, {**variables, "trigger": payload_for(event, None)}) or 0.0
        except HubError as err:
            _LOGGER.error("%s: %s", name, err)
            return

        @callback
        def fire() -> None:
            action(payload_for(event, timedelta(seconds=seconds)), context)

        pending.start(_KEY, hub.clock.time() + seconds, fire)

    tracker = TemplateTracker(hub, value_template, variables, on_result)
    first, error = tracker.async_start()
    if error is not None:
        _LOGGER.warning("%s: template trigger: %s", name, error)
    state["last"] = error is None and is_true(first)
    if pending is not None:
        record = pending.restored(_KEY)
        if record is not None:
            if state["last"]:
                deadline = record[0]

                @callback
                def fire_restored() -> None:
                    action(payload_for(None, None), None)

                pending.start(_KEY, deadline, fire_restored)
            else:
                pending.forget_restored(_KEY)

    @callback
    def remove() -> None:
        tracker.async_stop()
        if pending is not None:
            pending.cancel_all()

    return remove
