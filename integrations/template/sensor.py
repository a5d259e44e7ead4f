"""Template sensors: the state is whatever the `state` template renders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .entity import TemplateEntity

__all__ = ["TemplateSensor"]


class TemplateSensor(TemplateEntity):
    """`sensor.<name>`; `unit_of_measurement` and `state_class` as configured."""

    domain = "sensor"

    def __init__(self, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._attr_unit_of_measurement = config.get("unit_of_measurement")

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        state_class = self._config.get("state_class")
        if state_class is None:
            return self._attr_extra_state_attributes
        return {**(self._attr_extra_state_attributes or {}), "state_class": state_class}

    def async_set_native(self, value: Any) -> None:
        self._attr_state = value
        self.async_write_state()

    def async_restore(self, state: Any) -> None:
        self._attr_state = None if state == "unknown" else state
