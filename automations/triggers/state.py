"""`platform: state`: an entity (or an attribute) changes from/to given values, optionally `for:` a while."""

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

from ..validators import at_most_one_of, positive_period_or_template, state_values
from .pending import PendingTimers, resolve_for

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]

_LOGGER = logging.getLogger(__name__)

_UNDEFINED: Any = object()

TRIGGER_SCHEMA = vol.All(
    vol.Schema({
        vol.Required("platform"): "state",
        vol.Required("entity_id"): cv.entity_ids,
        vol.Optional("attribute"): cv.string,
        vol.Optional("from"): state_values,
        vol.Optional("to"): state_values,
        vol.Optional("not_from"): state_values,
        vol.Optional("not_to"): state_values,
        vol.Optional("for"): positive_period_or_template,
    }),
    at_most_one_of("from", "not_from"),
    at_most_one_of("to", "not_to"),
)


def _value(state: State | None, attribute: str | None) -> Any:
    if state is None:
        return None
    if attribute is None:
        return state.state
    return state.attributes.get(attribute, _UNDEFINED)


def _matcher(config: dict[str, Any], key: str, not_key: str) -> Callable[[Any], bool] | None:
    """A test for old/new values, or None when anything matches."""
    if config.get(key) is not None:
        allowed = frozenset(config[key])
        if len(allowed) == 1:
            (only,) = allowed
            return lambda value: value == only
        return lambda value: value in allowed
    if config.get(not_key) is not None:
        refused = frozenset(config[not_key])
        return lambda value: value not in refused
    return None


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Listen to the entities' state changes (through the per-entity index)."""
    entity_ids: list[str] = config["entity_id"]
    attribute: str | None = config.get("attribute")
    match_from = _matcher(config, "from", "not_from")
    match_to = _matcher(config, "to", "not_to")
    match_all = attribute is None and not any(k in config for k in ("from", "to", "not_from", "not_to"))
    for_value = config.get("for")
    trigger_data = trigger_info["trigger_data"]
    variables = trigger_info["variables"]
    descriptions = {entity_id: f"state of {entity_id}" for entity_id in entity_ids}
    pending = PendingTimers(hub, trigger_info.get("for_store"), f"{trigger_data['idx']}:") \
        if for_value is not None else None

    def payload_for(entity_id: str, from_s: State | None, to_s: State | None, period: Any) -> dict[str, Any]:
        return {
            **trigger_data,
            "platform": "state",
            "entity_id": entity_id,
            "from_state": from_s,
            "to_state": to_s,
            "for": period,
            "attribute": attribute,
            "description": descriptions[entity_id],
        }

    @callback
    def on_change(event: Event) -> None:
        data = event.data
        entity_id = data["entity_id"]
        from_s = data["old_state"]
        to_s = data["new_state"]
        if attribute is None:
            old_value = from_s.state if from_s is not None else None
            new_value = to_s.state if to_s is not None else None
        else:
            old_value = _value(from_s, attribute)
            new_value = _value(to_s, attribute)
            if old_value == new_value:
                return
        matched = (
            (match_to is None or match_to(new_value))
            and (match_from is None or match_from(old_value))
            and (match_all or old_value != new_value)
        )
        if pending is not None and entity_id in pending and not matched:
            # A pending `for:` survives changes that keep the value it waits on.
            if (not match_to(new_value)) if match_to is not None else old_value != new_value:
                pending.cancel(entity_id)
        if not matched:
            return
        if pending is None:
            action(payload_for(entity_id, from_s, to_s, None), event.context)
            return
        start_pending(entity_id, from_s, to_s, event)

    def start_pending(entity_id: str, from_s: State | None, to_s: State | None, event: Event | None,
                      deadline: float | None = None) -> None:
        assert pending is not None
        context = event.context if event is not None else None
        if deadline is None:
            scope = {**variables, "trigger": payload_for(entity_id, from_s, to_s, None)}
            try:
                seconds = resolve_for(hub, for_value, scope)
            except HubError as err:
                _LOGGER.error("%s: %s", trigger_info["name"], err)
                return
            deadline = hub.clock.time() + (seconds or 0.0)
        else:
            seconds = max(0.0, deadline - hub.clock.time())

        @callback
        def fire() -> None:
            action(payload_for(entity_id, from_s, hub.states.get(entity_id) or to_s,
                               timedelta(seconds=seconds or 0.0)), context)

        record = {"entity_id": entity_id, "value": _plain(_value(to_s, attribute))}
        pending.start(entity_id, deadline, fire, record)

    if pending is not None:
        # Resume `for:` timers that were pending when the hub stopped, if the value still holds.
        for entity_id in entity_ids:
            record = pending.restored(entity_id)
            if record is None:
                continue
            deadline, data = record
            current = hub.states.get(entity_id)
            value = _plain(_value(current, attribute))
            if current is not None and value == data.get("value") and (match_to is None or match_to(value)):
                start_pending(entity_id, None, current, None, deadline)
            else:
                pending.forget_restored(entity_id)

    unsub = async_track_state_change_event(hub, entity_ids, on_change)

    @callback
    def remove() -> None:
        unsub()
        if pending is not None:
            pending.cancel_all()

    return remove


def _plain(value: Any) -> Any:
    return None if value is _UNDEFINED else value
