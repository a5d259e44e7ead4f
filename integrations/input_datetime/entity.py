"""The input_datetime entity: a date, a time of day, or both, in the site's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import callback
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import CONF_HAS_DATE, CONF_HAS_TIME, CONF_INITIAL, DOMAIN

__all__ = ["ITEM_SCHEMA", "SERVICES", "InputDatetime", "parse_value"]


def parse_value(value: Any, has_date: bool, has_time: bool) -> dt.datetime:
    """'2024-05-01 07:30:00', '2024-05-01' or '07:30' -> a naive datetime (the missing half defaulted)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, dt.time):
        return dt.datetime.combine(dt.date(1970, 1, 1), value)
    text = str(value).strip()
    try:
        if has_date and has_time:
            return dt.datetime.fromisoformat(text).replace(tzinfo=None)
        if has_date:
            return dt.datetime.combine(dt.date.fromisoformat(text[:10]), dt.time())
        return dt.datetime.combine(dt.date(1970, 1, 1), cv.time(text))
    except (ValueError, vol.Invalid):
        kind = "date and time" if has_date and has_time else "date" if has_date else "time"
        raise vol.Invalid(f"expected a {kind}, got {text!r}") from None


def _check(config: dict[str, Any]) -> dict[str, Any]:
    if not config[CONF_HAS_DATE] and not config[CONF_HAS_TIME]:
        raise vol.Invalid("at least one of 'has_date' and 'has_time' must be true", path=[CONF_HAS_DATE])
    initial = config.get(CONF_INITIAL)
    if initial is not None:
        try:
            parse_value(initial, config[CONF_HAS_DATE], config[CONF_HAS_TIME])
        except vol.Invalid as err:
            raise vol.Invalid(str(err), path=[CONF_INITIAL]) from None
    return config


ITEM_SCHEMA = vol.All(vol.Schema({
    **BASE_HELPER_FIELDS,
    vol.Optional(CONF_HAS_DATE, default=False): cv.boolean,
    vol.Optional(CONF_HAS_TIME, default=False): cv.boolean,
    vol.Optional(CONF_INITIAL): vol.Any(dt.datetime, dt.date, dt.time, cv.string),
}), _check)

SERVICES: list[ServiceSpec] = [(
    "set_datetime",
    {
        vol.Exclusive("date", "value"): vol.Any(dt.date, cv.string),
        vol.Exclusive("time", "value"): vol.Any(dt.time, cv.string),
        vol.Exclusive("datetime", "value"): vol.Any(dt.datetime, cv.string),
        vol.Exclusive("timestamp", "value"): vol.Coerce(float),
    },
    "async_set_datetime",
)]


class InputDatetime(HelperEntity):
    """State '2024-05-01 07:30:00', '2024-05-01' or '07:30:00'; `initial` wins over the restored value."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        self._has_date: bool = config[CONF_HAS_DATE]
        self._has_time: bool = config[CONF_HAS_TIME]
        initial = config.get(CONF_INITIAL)
        self._value: dt.datetime | None = (
            None if initial is None else parse_value(initial, self._has_date, self._has_time))

    @property
    def state(self) -> str | None:
        if self._value is None:
            return None
        if self._has_date and self._has_time:
            return self._value.strftime("%Y-%m-%d %H:%M:%S")
        if self._has_date:
            return self._value.strftime("%Y-%m-%d")
        return self._value.strftime("%H:%M:%S")

    def helper_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"has_date": self._has_date, "has_time": self._has_time}
        value = self._value
        if value is None:
            return attrs
        if self._has_date:
            attrs.update(year=value.year, month=value.month, day=value.day)
        if self._has_time:
            attrs.update(hour=value.hour, minute=value.minute, second=value.second)
        if self._has_date:
            attrs["timestamp"] = value.replace(tzinfo=self._tz()).timestamp()
        else:
            attrs["timestamp"] = value.hour * 3600 + value.minute * 60 + value.second
        return attrs

    def _tz(self) -> dt.tzinfo:
        config = getattr(self.hub, "config", None)
        return config.tz if config is not None else dt.UTC

    async def async_added_to_hub(self) -> None:
        """Restore the last value unless `initial` is set."""
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        if self._config.get(CONF_INITIAL) is not None or last is None or last.state in ("unknown", "unavailable"):
            return
        try:
            self._value = parse_value(last.state, self._has_date, self._has_time)
        except vol.Invalid:
            return

    @callback
    def async_set_datetime(self, date: Any = None, time: Any = None, datetime: Any = None,
                                 timestamp: float | None = None) -> None:
        """Set from `date`, `time`, `datetime` or `timestamp` (the site's local time)."""
        try:
            if timestamp is not None:
                value = dt.datetime.fromtimestamp(timestamp, self._tz()).replace(tzinfo=None)
            elif datetime is not None:
                value = parse_value(datetime, True, True)
            elif date is not None:
                base = self._value or dt.datetime(1970, 1, 1)
                value = dt.datetime.combine(parse_value(date, True, False).date(), base.time())
            elif time is not None:
                base = self._value or dt.datetime(1970, 1, 1)
                value = dt.datetime.combine(base.date(), parse_value(time, False, True).time())
            else:
                raise ServiceValidationError(f"{self.entity_id}: give one of date, time, datetime, timestamp")
        except vol.Invalid as err:
            raise ServiceValidationError(f"{self.entity_id}: {err}") from None
        if not self._has_time:
            value = value.replace(hour=0, minute=0, second=0)
        self._value = value.replace(microsecond=0)
        self.async_write_state()
