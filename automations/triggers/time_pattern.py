"""`platform: time_pattern`: every time the clock matches hours/minutes/seconds ('*', a number, '/N')."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.helpers.dt import hub_tz
from hub.helpers.event import TimePattern, async_track_time_pattern
from hub.helpers.validators import has_at_least_one_key

__all__ = ["TRIGGER_SCHEMA", "async_attach_trigger"]


def _pattern_part(maximum: int) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        text = str(value).strip()
        if text == "*":
            return text
        number = text[1:] if text.startswith("/") else text
        every = text.startswith("/")
        if not number.isdigit() or not 0 <= int(number) <= maximum or (every and not int(number)):
            raise vol.Invalid(f"expected '*', a number 0..{maximum} or '/N'")
        return text

    return validate


def _check(value: dict[str, Any]) -> dict[str, Any]:
    try:
        TimePattern(value.get("hours"), value.get("minutes"), value.get("seconds"))
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
    return value


TRIGGER_SCHEMA = vol.All(
    vol.Schema({
        vol.Required("platform"): "time_pattern",
        vol.Optional("hours"): _pattern_part(23),
        vol.Optional("minutes"): _pattern_part(59),
        vol.Optional("seconds"): _pattern_part(59),
    }),
    has_at_least_one_key("hours", "minutes", "seconds"),
    _check,
)


def async_attach_trigger(hub: Hub, config: dict[str, Any], action: Callable[..., None],
                         trigger_info: dict[str, Any]) -> CALLBACK_TYPE:
    """Schedule on the hub clock, in the hub's time zone."""
    pattern = TimePattern(config.get("hours"), config.get("minutes"), config.get("seconds"))
    trigger_data = trigger_info["trigger_data"]

    @callback
    def fire(now: datetime) -> None:
        action(
            {**trigger_data, "platform": "time_pattern", "now": now.astimezone(hub_tz(hub)),
             "description": "time pattern"},
            Context(),
        )

    return async_track_time_pattern(hub, fire, pattern, hub_tz(hub))
