"""`platform: state`: an entity (or an attribute) changes from/to given values, optionally `for:` a while."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Event, Hub, State, callback
from hub.exceptions import HubError
from hub.helpers import config_validation as cv
from hub.helpers.event import async_track_state_change_event
from hub.helpers.validators import at_most_one_of, positive_period_or_template, state_values

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


def _plain(value: Any) -> Any:
    return None if value is _UNDEFINED else value


class _Values:
    """A test for old/new values: in a set (`to`), or not in a set (`not_to`)."""

    __slots__ = ("invert", "values")

    def __init__(self, values: frozenset[str], invert: bool) -> None:
        self.values = values
        self.invert = invert

    def __call__(self, value: Any) -> bool:
        return (value in self.values) is not self.invert


def _matcher(config: Mapping[str, Any], key: str, not_key: str) -> _Values | None:
    if config.get(key) is not None:
        return _Values(frozenset(config[key]), False)
    if config.get(not_key) is not None:
        return _Values(frozenset(config[not_key]), True)
    return None


class _StateTrigger:
    """One attached state trigger (a small object: an automation server holds thousands)."""

    __slots__ = ("action", "attribute", "for_value", "hub", "match_all", "match_from", "match_to", "name",
                 "pending", "trigger_data", "unsub", "variables")

    def __init__(self, hub: Hub, config: Mapping[str, Any], action: Callable[..., None],
                 trigger_info: Mapping[str, Any]) -> None:
        self.hub = hub
        self.action = action
        self.attribute: str | None = config.get("attribute")
        self.match_from = _matcher(config, "from", "not_from")
        self.match_to = _matcher(config, "to", "not_to")
        self.match_all = self.attribute is None and not any(
            key in config for key in ("from", "to", "not_from", "not_to"))
        self.for_value = config.get("for")
        self.trigger_data: Mapping[str, Any] = trigger_info["trigger_data"]
        self.variables: Mapping[str, Any] = trigger_info["variables"]
        self.name: str = trigger_info["name"]
        self.pending = PendingTimers(hub, trigger_info.get("for_store"), f"{self.trigger_data['idx']}:") \
            if self.for_value is not None else None
        self.unsub: CALLBACK_TYPE | None = None

    def payload(self, entity_id: str, from_s: State | None, to_s: State | None, period: Any) -> dict[str, Any]:
        return {
            **self.trigger_data,
            "platform": "state",
            "entity_id": entity_id,
            "from_state": from_s,
            "to_state": to_s,
            "for": period,
            "attribute": self.attribute,
            "description": f"state of {entity_id}",
        }

    @callback
    def on_change(self, event: Event) -> None:
        data = event.data
        from_s = data["old_state"]
        to_s = data["new_state"]
        attribute = self.attribute
        if attribute is None:
            old_value = from_s.state if from_s is not None else None
            new_value = to_s.state if to_s is not None else None
        else:
            old_value = _value(from_s, attribute)
            new_value = _value(to_s, attribute)
            if old_value == new_value:
                return
        match_to = self.match_to
        match_from = self.match_from
        matched = (
            (match_to is None or match_to(new_value))
            and (match_from is None or match_from(old_value))
            and (self.match_all or old_value != new_value)
        )
        pending = self.pending
        if pending is None:
            if matched:
                self.action(self.payload(data["entity_id"], from_s, to_s, None), event.context)
            return
        entity_id = data["entity_id"]
        if not matched and entity_id in pending:
            # A pending `for:` survives changes that keep the value it waits on.
            if (not match_to(new_value)) if match_to is not None else old_value != new_value:
                pending.cancel(entity_id)
        if matched:
            self.start_pending(entity_id, from_s, to_s, event)

    def start_pending(self, entity_id: str, from_s: State | None, to_s: State | None, event: Event | None,
                      deadline: float | None = None) -> None:
        assert self.pending is not None
        hub = self.hub
        context = event.context if event is not None else None
        if deadline is None:
            scope = {**self.variables, "trigger": self.payload(entity_id, from_s, to_s, None)}
            try:
                seconds = resolve_for(hub, self.for_value, scope) or 0.0
            except HubError as err:
                _LOGGER.error("%s: %s", self.name, err)
                return
            deadline = hub.clock.time() + seconds
        else:
            seconds = max(0.0, deadline - hub.clock.time())

        @callback
        def fire() -> None:
            self.action(self.payload(entity_id, from_s, hub.states.get(entity_id) or to_s,
                                     timedelta(seconds=seconds)), context)

        record = {"entity_id": entity_id, "value": _plain(_value(to_s, self.attribute))}
        self.pending.start(entity_id, deadline, fire, record)

    def restore_pending(self, entity_ids: list[str]) -> None:
        """Resume `for:` timers that were pending when the hub stopped, if the value still holds."""
        assert self.pending is not None
        for entity_id in entity_ids:
            record = self.pending.restored(entity_id)
            if record is None:
                continue
            deadline, data = record
            current = self.hub.states.get(entity_id)
            value = _plain(_value(current, self.attribute))
            if current is not None and value == data.get("value") and (self.match_to is None
                                                                        or self.match_to(value)):
                self.start_pending(entity_id, None, current, None, deadline)
            else:
                self.pending.forget_restored(entity_id)

    @callback
    def remove(self) -> None:
        if self.unsub is not None:
            self.unsub()
            self.unsub = None
        if self.pending is not None:
            self.pending.cancel_all()


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Listen to the entities' state changes (through the per-entity index)."""
    trigger = _StateTrigger(hub, config, action, trigger_info)
    if trigger.pending is not None:
        trigger.restore_pending(config["entity_id"])
    trigger.unsub = async_track_state_change_event(hub, config["entity_id"], trigger.on_change)
    return trigger.remove
