"""The counter entity: a whole number counted up and down within optional bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import callback
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import CONF_INITIAL, CONF_MAXIMUM, CONF_MINIMUM, CONF_RESTORE, CONF_STEP, DOMAIN

__all__ = ["ITEM_SCHEMA", "SERVICES", "Counter"]

ITEM_SCHEMA = vol.Schema({
    **BASE_HELPER_FIELDS,
    vol.Optional(CONF_INITIAL, default=0): vol.Coerce(int),
    vol.Optional(CONF_STEP, default=1): cv.positive_int,
    vol.Optional(CONF_MINIMUM): vol.Any(None, vol.Coerce(int)),
    vol.Optional(CONF_MAXIMUM): vol.Any(None, vol.Coerce(int)),
    vol.Optional(CONF_RESTORE, default=True): cv.boolean,
})

SERVICES: list[ServiceSpec] = [
    ("increment", {}, "async_increment"),
    ("decrement", {}, "async_decrement"),
    ("reset", {}, "async_reset"),
    ("set_value", {vol.Required("value"): vol.Coerce(int)}, "async_set_value"),
]


class Counter(HelperEntity):
    """Starts at `initial`; with `restore` (the default) the count survives a restart."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        self._min: int | None = config.get(CONF_MINIMUM)
        self._max: int | None = config.get(CONF_MAXIMUM)
        self._step: int = config[CONF_STEP]
        self._attr_state = self._clamp(config[CONF_INITIAL])

    def helper_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"initial": self._config[CONF_INITIAL], "step": self._step}
        if self._min is not None:
            attrs["minimum"] = self._min
        if self._max is not None:
            attrs["maximum"] = self._max
        return attrs

    def _clamp(self, value: int) -> int:
        if self._max is not None:
            value = min(value, self._max)
        if self._min is not None:
            value = max(value, self._min)
        return value

    async def async_added_to_hub(self) -> None:
        """Restore the count when `restore` is on."""
        await super().async_added_to_hub()
        if not self._config[CONF_RESTORE]:
            return
        last = await self.async_get_last_state()
        if last is not None:
            try:
                self._attr_state = self._clamp(int(last.state))
            except ValueError:
                pass

    def _set(self, value: int) -> None:
        self._attr_state = self._clamp(value)
        self.async_write_state()

    @callback
    def async_increment(self) -> None:
        """Add `step` (up to `maximum`)."""
        self._set(self._attr_state + self._step)

    @callback
    def async_decrement(self) -> None:
        """Take `step` (down to `minimum`)."""
        self._set(self._attr_state - self._step)

    @callback
    def async_reset(self) -> None:
        """Back to `initial`."""
        self._set(self._config[CONF_INITIAL])

    @callback
    def async_set_value(self, value: int) -> None:
        """Set the count (refused outside minimum..maximum, as in Home Assistant)."""
        if self._clamp(value) != value:
            raise ServiceValidationError(
                f"{self.entity_id}: {value} is outside {self._min}..{self._max}", path=["value"])
        self._set(value)
