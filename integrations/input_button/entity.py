"""The input_button entity: its state is the time of the last press (a state change to trigger on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import callback
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import DOMAIN

__all__ = ["ITEM_SCHEMA", "SERVICES", "InputButton"]

ITEM_SCHEMA = vol.Schema(BASE_HELPER_FIELDS)

SERVICES: list[ServiceSpec] = [("press", {}, "async_press")]


class InputButton(HelperEntity):
    """`unknown` until first pressed, then the ISO time of the last press (restored)."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        self._attr_state = None

    async def async_added_to_hub(self) -> None:
        """Restore the time of the last press."""
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        if last is not None and last.state not in ("unknown", "unavailable"):
            self._attr_state = last.state

    @callback
    def async_press(self) -> None:
        """Record a press now (on the hub clock)."""
        self._attr_state = self.hub.clock.now().isoformat()
        self.async_write_state()
