"""`platform: numeric_state`: a value crosses into a range (above/below), optionally `for:` a while."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Event, Hub, State, callback
from hub.exceptions import HubError
from hub.helpers import config_validation as cv
from hub.helpers.event import async_track_state_change_event
from hub.helpers.template import Template
from hub.helpers.validators import has_at_least_one_key, number_or_entity, positive_period_or_template, template

from .pending import PendingTimers, resolve_for

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger", "numeric_value", "within"]

_LOGGER = logging.getLogger(__name__)

TRIGGER_SCHEMA = vol.All(
    vol.Schema({
        vol.Required("platform"): "numeric_state",
        vol.Required("entity_id"): cv.entity_ids,
        vol.Optional("above"): number_or_entity,
        vol.Optional("below"): number_or_entity,
        vol.Optional("value_template"): template,
        vol.Optional("attribute"): cv.string,
        vol.Optional("for"): positive_period_or_template,
    }),
    has_at_least_one_key("above", "below"),
)


def numeric_value(hub: Hub, state: State | None, attribute: str | None, value_template: Template | None,
                  variables: dict[str, Any] | None = None) -> float | None:
    """The number a numeric_state trigger or condition compares; None when there is none."""
    if state is None:
        return None
    if value_template is not None:
        raw = value_template.async_render(hub, {**(variables or {}), "state": state})
    elif attribute is not None:
        raw = state.attributes.get(attribute)
    else:
        raw = state.state
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _limit(hub: Hub, value: float | str | None) -> float | None:
    if value is None or isinstance(value, float):
        return value
    state = hub.states.get(value)
    try:
        return float(state.state) if state is not None else None
    except ValueError:
        return None


def within(hub: Hub, number: float | None, above: float | str | None, below: float | str | None) -> bool:
    """Whether `number` is strictly above `above` and below `below` (limits may be entity ids)."""
    if number is None:
        return False
    if above is not None:
        limit = _limit(hub, above)
        if limit is None or number <= limit:
            return False
    if below is not None:
        limit = _limit(hub, below)
        if limit is None or number >= limit:
            return False
    return True


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Fire when a value enters the range; re-arm when it leaves."""
    entity_ids: list[str] = config["entity_id"]
    above, below = config.get("above"), config.get("below")
    attribute = config.get("attribute")
    value_template: Template | None = config.get("value_template")
    for_value = config.get("for")
    trigger_data = trigger_info["trigger_data"]
    variables = trigger_info["variables"]
    pending = PendingTimers(hub, trigger_info.get("for_store"), f"{trigger_data['idx']}:") \
        if for_value is not None else None

    def matches(state: State | None) -> bool:
        try:
            number = numeric_value(hub, state, attribute, value_template, variables)
        except HubError as err:
            _LOGGER.warning("%s: %s", trigger_info["name"], err)
            return False
        return within(hub, number, above, below)

    armed: set[str] = {entity_id for entity_id in entity_ids if not matches(hub.states.get(entity_id))}

    def payload_for(entity_id: str, from_s: State | None, to_s: State | None, period: Any) -> dict[str, Any]:
        return {
            **trigger_data,
            "platform": "numeric_state",
            "entity_id": entity_id,
            "below": below,
            "above": above,
            "from_state": from_s,
            "to_state": to_s,
            "for": period,
            "description": f"numeric state of {entity_id}",
        }

    @callback
    def on_change(event: Event) -> None:
        entity_id = event.data["entity_id"]
        from_s, to_s = event.data["old_state"], event.data["new_state"]
        if not matches(to_s):
            armed.add(entity_id)
            if pending is not None:
                pending.cancel(entity_id)
            return
        if entity_id not in armed:
            return
        armed.discard(entity_id)
        if pending is None:
            action(payload_for(entity_id, from_s, to_s, None), event.context)
            return
        scope = {**variables, "trigger": payload_for(entity_id, from_s, to_s, None)}
        try:
            seconds = resolve_for(hub, for_value, scope) or 0.0
        except HubError as err:
            _LOGGER.error("%s: %s", trigger_info["name"], err)
            return
        context = event.context

        @callback
        def fire() -> None:
            action(payload_for(entity_id, from_s, hub.states.get(entity_id) or to_s,
                               timedelta(seconds=seconds)), context)

        pending.start(entity_id, hub.clock.time() + seconds, fire, {"entity_id": entity_id})

    if pending is not None:
        for entity_id in entity_ids:
            record = pending.restored(entity_id)
            if record is None:
                continue
            current = hub.states.get(entity_id)
            if not matches(current):
                pending.forget_restored(entity_id)
                continue
            deadline = record[0]

            @callback
            def fire_restored(entity_id: str = entity_id, current: State | None = current,
                              deadline: float = deadline) -> None:
                action(payload_for(entity_id, None, hub.states.get(entity_id) or current, None), None)

            pending.start(entity_id, deadline, fire_restored, {"entity_id": entity_id})

    unsub = async_track_state_change_event(hub, entity_ids, on_change)

    @callback
    def remove() -> None:
        unsub()
        if pending is not None:
            pending.cancel_all()

    return remove
