"""The input_boolean entity: a flag that automations and operators turn on and off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import callback
from hub.helpers import config_validation as cv
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import CONF_INITIAL, DOMAIN

__all__ = ["ITEM_SCHEMA", "SERVICES", "InputBoolean"]

ITEM_SCHEMA = vol.Schema({**BASE_HELPER_FIELDS, vol.Optional(CONF_INITIAL): cv.boolean})

SERVICES: list[ServiceSpec] = [
    ("turn_on", {}, "async_turn_on"),
    ("turn_off", {}, "async_turn_off"),
    ("toggle", {}, "async_toggle"),
]


class InputBoolean(HelperEntity):
    """`on` or `off`; `initial` wins over the restored state, as in Home Assistant."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        self._attr_state = bool(config.get(CONF_INITIAL, False))

    async def async_added_to_hub(self) -> None:
        """Restore the last state unless `initial` is set."""
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        if self._config.get(CONF_INITIAL) is None and last is not None:
            self._attr_state = last.state == "on"

    @callback
    def async_turn_on(self) -> None:
        """Turn on."""
        self._attr_state = True
        self.async_write_state()

    @callback
    def async_turn_off(self) -> None:
        """Turn off."""
        self._attr_state = False
        self.async_write_state()

    @callback
    def async_toggle(self) -> None:
        """Flip."""
        self._attr_state = not self._attr_state
        self.async_write_state()
