"""The input_number entity: a number an operator or automation sets, kept within min and max."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import callback
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import CONF_INITIAL, CONF_MAX, CONF_MIN, CONF_MODE, CONF_STEP, DOMAIN, MODES

__all__ = ["ITEM_SCHEMA", "SERVICES", "InputNumber"]


def _min_below_max(config: dict[str, Any]) -> dict[str, Any]:
    if config[CONF_MIN] >= config[CONF_MAX]:
        raise vol.Invalid(f"'min' ({config[CONF_MIN]}) must be below 'max' ({config[CONF_MAX]})", path=[CONF_MIN])
    initial = config.get(CONF_INITIAL)
    if initial is not None and not config[CONF_MIN] <= initial <= config[CONF_MAX]:
        raise vol.Invalid(f"'initial' ({initial}) must lie between min and max", path=[CONF_INITIAL])
    return config


ITEM_SCHEMA = vol.All(vol.Schema({
    **BASE_HELPER_FIELDS,
    vol.Required(CONF_MIN): vol.Coerce(float),
    vol.Required(CONF_MAX): vol.Coerce(float),
    vol.Optional(CONF_STEP, default=1.0): vol.All(vol.Coerce(float), vol.Range(min=1e-9)),
    vol.Optional(CONF_INITIAL): vol.Coerce(float),
    vol.Optional(CONF_MODE, default="slider"): vol.In(MODES),
    vol.Optional("unit_of_measurement"): cv.string,
}), _min_below_max)

SERVICES: list[ServiceSpec] = [
    ("set_value", {vol.Required("value"): vol.Coerce(float)}, "async_set_value"),
    ("increment", {}, "async_increment"),
    ("decrement", {}, "async_decrement"),
]


class InputNumber(HelperEntity):
    """A float state; `initial` wins over the restored value, which must lie in range."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        self._min: float = config[CONF_MIN]
        self._max: float = config[CONF_MAX]
        self._step: float = config[CONF_STEP]
        self._attr_unit_of_measurement = config.get("unit_of_measurement")
        initial = config.get(CONF_INITIAL)
        self._attr_state = self._min if initial is None else initial

    def helper_attributes(self) -> dict[str, Any]:
        return {"initial": self._config.get(CONF_INITIAL), "min": self._min, "max": self._max,
                "step": self._step, "mode": self._config[CONF_MODE]}

    async def async_added_to_hub(self) -> None:
        """Restore the last value unless `initial` is set."""
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        if self._config.get(CONF_INITIAL) is not None or last is None:
            return
        try:
            value = float(last.state)
        except ValueError:
            return
        if self._min <= value <= self._max:
            self._attr_state = value

    @callback
    def async_set_value(self, value: float) -> None:
        """Set a value between min and max (refused otherwise, as in Home Assistant)."""
        if not self._min <= value <= self._max:
            raise ServiceValidationError(
                f"{self.entity_id}: {value} is outside {self._min}..{self._max}", path=["value"])
        self._attr_state = value
        self.async_write_state()

    @callback
    def async_increment(self) -> None:
        """Add one step, up to max."""
        self._attr_state = min(self._max, self._attr_state + self._step)
        self.async_write_state()

    @callback
    def async_decrement(self) -> None:
        """Take one step, down to min."""
        self._attr_state = max(self._min, self._attr_state - self._step)
        self.async_write_state()
