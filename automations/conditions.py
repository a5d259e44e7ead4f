"""Conditions: and/or/not, state, numeric_state, template (and the string shorthand), time, trigger, zone.

Each condition is validated by `validate_condition` and compiled once by `compile_condition` into a
callable `check(variables, trace) -> bool`. A condition that cannot be evaluated (an unknown
entity, a non-numeric value, a template error) is false, and the trace says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from datetime import time as time_sys
from typing import Any

import voluptuous as vol

from hub.core import Hub, State
from hub.exceptions import HubError
from hub.helpers import config_validation as cv
from hub.helpers.dt import hub_tz
from hub.helpers.template import Template, is_template_string, is_true
from hub.helpers.validators import (
    has_at_least_one_key,
    number_or_entity,
    positive_period_or_template,
    state_values,
    template,
    time_or_entity,
    weekdays,
)
from hub.helpers.validators import time_period as sun_offset

from .sun import SUN_EVENTS, sun_event_on
from .trace import RunTrace
from .triggers.numeric_state import numeric_value, within
from .triggers.time import entity_time
from .triggers.zone import state_in_zone

__all__ = [
    "CONDITION_TYPES",
    "ConditionCheck",
    "compile_condition",
    "compile_conditions",
    "validate_condition",
]

_LOGGER = logging.getLogger(__name__)

ConditionCheck = Callable[[Mapping[str, Any], RunTrace | None], bool]

_BASE: dict[Any, Any] = {
    vol.Optional("alias"): cv.string,
    vol.Optional("enabled", default=True): cv.boolean,
}


def _conditions_list(value: Any) -> list[dict[str, Any]]:
    return cv.list_of(validate_condition)(value)


_SCHEMAS: dict[str, Any] = {
    "and": vol.Schema({**_BASE, vol.Required("condition"): "and",
                       vol.Required("conditions"): _conditions_list}),
    "or": vol.Schema({**_BASE, vol.Required("condition"): "or",
                      vol.Required("conditions"): _conditions_list}),
    "not": vol.Schema({**_BASE, vol.Required("condition"): "not",
                       vol.Required("conditions"): _conditions_list}),
    "state": vol.Schema({
        **_BASE,
        vol.Required("condition"): "state",
        vol.Required("entity_id"): cv.entity_ids,
        vol.Required("state"): vol.All(state_values, vol.Length(min=1)),
        vol.Optional("attribute"): cv.string,
        vol.Optional("for"): positive_period_or_template,
        vol.Optional("match", default="all"): vol.In(["all", "any"]),
    }),
    "numeric_state": vol.All(vol.Schema({
        **_BASE,
        vol.Required("condition"): "numeric_state",
        vol.Required("entity_id"): cv.entity_ids,
        vol.Optional("above"): number_or_entity,
        vol.Optional("below"): number_or_entity,
        vol.Optional("value_template"): template,
        vol.Optional("attribute"): cv.string,
    }), has_at_least_one_key("above", "below")),
    "template": vol.Schema({**_BASE, vol.Required("condition"): "template",
                            vol.Required("value_template"): template}),
    "time": vol.All(vol.Schema({
        **_BASE,
        vol.Required("condition"): "time",
        vol.Optional("after"): time_or_entity,
        vol.Optional("before"): time_or_entity,
        vol.Optional("weekday"): weekdays,
    }), has_at_least_one_key("after", "before", "weekday")),
    "trigger": vol.Schema({**_BASE, vol.Required("condition"): "trigger",
                           vol.Required("id"): vol.All(cv.ensure_list, [cv.string])}),
    "sun": vol.All(vol.Schema({
        **_BASE,
        vol.Required("condition"): "sun",
        vol.Optional("before"): vol.All(str, vol.Lower, vol.In(SUN_EVENTS)),
        vol.Optional("after"): vol.All(str, vol.Lower, vol.In(SUN_EVENTS)),
        vol.Optional("before_offset", default=timedelta(0)): sun_offset,
        vol.Optional("after_offset", default=timedelta(0)): sun_offset,
    }), has_at_least_one_key("before", "after")),
    "zone": vol.Schema({
        **_BASE,
        vol.Required("condition"): "zone",
        vol.Required("entity_id"): cv.entity_ids,
        vol.Required("zone"): vol.All(cv.ensure_list, [cv.entity_domain("zone")]),
    }),
}
CONDITION_TYPES = tuple(_SCHEMAS)


def validate_condition(value: Any) -> dict[str, Any]:
    """One condition: a mapping with `condition:`, a shorthand (`and:`/`or:`/`not:`) or a template string."""
    if isinstance(value, str):
        if not is_template_string(value):
            raise vol.Invalid("a condition given as a string must be a template with {{ }}")
        return {"condition": "template", "value_template": template(value), "enabled": True}
    if not isinstance(value, dict):
        raise vol.Invalid("expected a condition (a mapping with 'condition:', or a template string)")
    if "condition" not in value:
        for key in ("and", "or", "not"):
            if key in value:
                rest = {k: v for k, v in value.items() if k != key}
                return _SCHEMAS[key]({**rest, "condition": key, "conditions": value[key]})
        raise vol.Invalid("missing required key 'condition' (one of " + ", ".join(CONDITION_TYPES) + ")")
    kind = value["condition"]
    if isinstance(kind, str) and is_template_string(kind):  # `condition: "{{ ... }}"`
        rest = {k: v for k, v in value.items() if k != "condition"}
        return _SCHEMAS["template"]({**rest, "condition": "template", "value_template": kind})
    schema = _SCHEMAS.get(str(kind))
    if schema is None:
        raise vol.Invalid(f"unknown condition {kind!r} (expected one of {', '.join(CONDITION_TYPES)})",
                          path=["condition"])
    return schema(value)


def _fail(trace: RunTrace | None, path: str, reason: str) -> bool:
    if trace is not None:
        trace.add(path, False).error = reason
    return False


def _ok(trace: RunTrace | None, path: str, result: bool) -> bool:
    if trace is not None:
        trace.add(path, result)
    return result


def compile_conditions(hub: Hub, configs: list[dict[str, Any]], path: str) -> ConditionCheck | None:
    """All of `configs` must hold (checked in order, stopping at the first false); None when empty."""
    checks = [compile_condition(hub, config, f"{path}/{index}")
              for index, config in enumerate(configs) if config.get("enabled", True)]
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks

        def check_two(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
            return first(variables, trace) and second(variables, trace)

        return check_two

    def check_all(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        return all(check(variables, trace) for check in checks)

    return check_all


def compile_condition(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    """Compile one validated condition."""
    factory = _FACTORIES[config["condition"]]
    return factory(hub, config, path)


def _group(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    kind = config["condition"]
    checks = [compile_condition(hub, sub, f"{path}/conditions/{index}")
              for index, sub in enumerate(config["conditions"]) if sub.get("enabled", True)]

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        element = trace.add(path) if trace is not None else None
        if kind == "and":
            result = all(sub(variables, trace) for sub in checks)
        elif kind == "or":
            result = any(sub(variables, trace) for sub in checks)
        else:
            result = not any(sub(variables, trace) for sub in checks)
        if element is not None:
            element.result = result
        return result

    return check


def _period_seconds(hub: Hub, value: Any, variables: Mapping[str, Any]) -> float:
    from .triggers.pending import resolve_for

    return resolve_for(hub, value, variables) or 0.0


def _state(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    entity_ids: list[str] = config["entity_id"]
    wanted = frozenset(config["state"])
    attribute = config.get("attribute")
    period = config.get("for")
    any_match = config["match"] == "any"
    get = hub.states.get

    def one(entity_id: str, variables: Mapping[str, Any]) -> str | None:
        state = get(entity_id)
        if state is None:
            return f"unknown entity {entity_id}"
        value = state.state if attribute is None else state.attributes.get(attribute)
        if isinstance(value, bool):
            value = "on" if value else "off"
        if value is None or str(value) not in wanted:
            return f"{entity_id} is {value!r}"
        if period is not None:
            held = hub.clock.time() - state.last_changed_ts
            needed = _period_seconds(hub, period, variables)
            if held < needed:
                return f"{entity_id} has been {value!r} for {held:.0f} s, not {needed:.0f} s"
        return None

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        reasons = []
        for entity_id in entity_ids:
            try:
                reason = one(entity_id, variables)
            except HubError as err:
                return _fail(trace, path, str(err))
            if reason is None and any_match:
                return _ok(trace, path, True)
            if reason is not None:
                reasons.append(reason)
                if not any_match:
                    break
        if reasons:
            return _fail(trace, path, "; ".join(reasons))
        return _ok(trace, path, True)

    return check


def _numeric_state(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    entity_ids: list[str] = config["entity_id"]
    above, below = config.get("above"), config.get("below")
    attribute = config.get("attribute")
    value_template: Template | None = config.get("value_template")
    get = hub.states.get
    if value_template is None and attribute is None and len(entity_ids) == 1 \
            and not isinstance(above, str) and not isinstance(below, str):
        # The common case, kept to a handful of operations: one entity, fixed limits.
        (entity_id,) = entity_ids

        def check_simple(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
            state = get(entity_id)
            if state is None:
                return _fail(trace, path, f"unknown entity {entity_id}")
            try:
                number = float(state.state)
            except ValueError:
                return _fail(trace, path, f"{entity_id} is {state.state!r}, not a number")
            if (above is not None and number <= above) or (below is not None and number >= below):
                return _ok(trace, path, False)
            return _ok(trace, path, True)

        return check_simple

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        for entity_id in entity_ids:
            state: State | None = get(entity_id)
            if state is None:
                return _fail(trace, path, f"unknown entity {entity_id}")
            try:
                number = numeric_value(hub, state, attribute, value_template, dict(variables))
            except HubError as err:
                return _fail(trace, path, str(err))
            if number is None:
                return _fail(trace, path, f"{entity_id} has no numeric value")
            if not within(hub, number, above, below):
                return _ok(trace, path, False)
        return _ok(trace, path, True)

    return check


def _template(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    value_template: Template = config["value_template"]
    render = value_template.async_render

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        try:
            result = render(hub, variables)
        except HubError as err:
            return _fail(trace, path, str(err))
        return _ok(trace, path, result if result is True or result is False else is_true(result))

    return check


def _time_value(hub: Hub, value: time_sys | str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, time_sys):
        return datetime.combine(now.date(), value, tzinfo=now.tzinfo)
    state = hub.states.get(value)
    if state is None:
        raise HubError(f"unknown entity {value}")
    parsed = entity_time(state.state, now.tzinfo)  # type: ignore[arg-type]
    if parsed is None:
        raise HubError(f"{value} is {state.state!r}, not a time")
    if isinstance(parsed, time_sys):
        return datetime.combine(now.date(), parsed, tzinfo=now.tzinfo)
    return parsed.astimezone(now.tzinfo)


def _time(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    after, before, days = config.get("after"), config.get("before"), config.get("weekday")

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        now = hub.clock.now().astimezone(hub_tz(hub))
        try:
            start = _time_value(hub, after, now)
            end = _time_value(hub, before, now)
        except HubError as err:
            return _fail(trace, path, str(err))
        if start is None:
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if end is None:
            end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        if end <= start:  # a window across midnight: 22:00 -> 06:00
            result = now >= start or now < end
        else:
            result = start <= now < end
        if result and days is not None:
            result = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()] in days
        return _ok(trace, path, result)

    return check


def _sun(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    """As Home Assistant: today's (local) events; `after: sunset` with `before: sunrise` means either."""
    before, after = config.get("before"), config.get("after")
    before_offset: timedelta = config["before_offset"]
    after_offset: timedelta = config["after_offset"]

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        now = hub.clock.now().astimezone(hub_tz(hub))
        try:
            wanted_before = _sun_time(hub, before, now, before_offset)
            wanted_after = _sun_time(hub, after, now, after_offset)
        except HubError as err:
            return _fail(trace, path, str(err))
        if before == "sunrise" and after == "sunset":
            if wanted_before is None or wanted_after is None:
                return _fail(trace, path, "no sunrise or sunset today")
            return _ok(trace, path, now < wanted_before or now > wanted_after)
        if before is not None and (wanted_before is None or now >= wanted_before):
            return _ok(trace, path, False)
        if after is not None and (wanted_after is None or now <= wanted_after):
            return _ok(trace, path, False)
        return _ok(trace, path, True)

    return check


def _sun_time(hub: Hub, event: str | None, now: datetime, offset: timedelta) -> datetime | None:
    if event is None:
        return None
    when = sun_event_on(hub, event, now.date())
    return None if when is None else when + offset


def _trigger(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    ids = frozenset(config["id"])

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        trigger = variables.get("trigger")
        trigger_id = trigger.get("id") if isinstance(trigger, Mapping) else None
        return _ok(trace, path, trigger_id in ids)

    return check


def _zone(hub: Hub, config: dict[str, Any], path: str) -> ConditionCheck:
    entity_ids: list[str] = config["entity_id"]
    zones: list[str] = config["zone"]

    def check(variables: Mapping[str, Any], trace: RunTrace | None) -> bool:
        for entity_id in entity_ids:
            state = hub.states.get(entity_id)
            if state is None:
                return _fail(trace, path, f"unknown entity {entity_id}")
            if not any(state_in_zone(hub.states.get(zone), state) for zone in zones):
                return _ok(trace, path, False)
        return _ok(trace, path, True)

    return check


_FACTORIES: dict[str, Callable[[Hub, dict[str, Any], str], ConditionCheck]] = {
    "and": _group,
    "or": _group,
    "not": _group,
    "state": _state,
    "numeric_state": _numeric_state,
    "template": _template,
    "time": _time,
    "trigger": _trigger,
    "sun": _sun,
    "zone": _zone,
}
