"""The input_select entity: one option of a list, chosen by operators and automations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import callback
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import CONF_INITIAL, CONF_OPTIONS, DOMAIN

__all__ = ["ITEM_SCHEMA", "SERVICES", "InputSelect"]


def _unique_options(options: list[str]) -> list[str]:
    if len(set(options)) != len(options):
        raise vol.Invalid("duplicate options")
    return options


_OPTIONS = vol.All(cv.ensure_list, vol.Length(min=1, msg="at least one option"), [cv.string], _unique_options)


def _initial_in_options(config: dict[str, Any]) -> dict[str, Any]:
    initial = config.get(CONF_INITIAL)
    if initial is not None and initial not in config[CONF_OPTIONS]:
        raise vol.Invalid(f"'initial' {initial!r} is not one of the options", path=[CONF_INITIAL])
    return config


ITEM_SCHEMA = vol.All(vol.Schema({
    **BASE_HELPER_FIELDS,
    vol.Required(CONF_OPTIONS): _OPTIONS,
    vol.Optional(CONF_INITIAL): cv.string,
}), _initial_in_options)

_CYCLE = {vol.Optional("cycle", default=True): cv.boolean}
SERVICES: list[ServiceSpec] = [
    ("select_option", {vol.Required("option"): cv.string}, "async_select_option"),
    ("select_next", _CYCLE, "async_select_next"),
    ("select_previous", _CYCLE, "async_select_previous"),
    ("select_first", {}, "async_select_first"),
    ("select_last", {}, "async_select_last"),
    ("set_options", {vol.Required(CONF_OPTIONS): _OPTIONS}, "async_set_options"),
]


class InputSelect(HelperEntity):
    """The state is the current option; `initial` (else the first option) unless a valid one is restored."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        self._options: list[str] = list(config[CONF_OPTIONS])
        self._attr_state = config.get(CONF_INITIAL, self._options[0])

    def helper_attributes(self) -> dict[str, Any]:
        return {"options": list(self._options)}

    async def async_added_to_hub(self) -> None:
        """Restore the last option when there is no `initial` and it is still an option."""
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        if self._config.get(CONF_INITIAL) is None and last is not None and last.state in self._options:
            self._attr_state = last.state

    def _select(self, option: str) -> None:
        self._attr_state = option
        self.async_write_state()

    @callback
    def async_select_option(self, option: str) -> None:
        """Select `option` (refused when it is not one of the options)."""
        if option not in self._options:
            raise ServiceValidationError(f"{self.entity_id}: {option!r} is not one of {self._options}",
                                         path=["option"])
        self._select(option)

    def _step(self, delta: int, cycle: bool) -> None:
        index = self._options.index(self._attr_state) + delta
        if cycle:
            index %= len(self._options)
        self._select(self._options[max(0, min(index, len(self._options) - 1))])

    @callback
    def async_select_next(self, cycle: bool = True) -> None:
        """The next option (wrapping round when `cycle`)."""
        self._step(1, cycle)

    @callback
    def async_select_previous(self, cycle: bool = True) -> None:
        """The previous option (wrapping round when `cycle`)."""
        self._step(-1, cycle)

    @callback
    def async_select_first(self) -> None:
        """The first option."""
        self._select(self._options[0])

    @callback
    def async_select_last(self) -> None:
        """The last option."""
        self._select(self._options[-1])

    @callback
    def async_set_options(self, options: list[str]) -> None:
        """Replace the options; the current one stays if still present, else the first is selected."""
        self._options = list(options)
        self._select(self._attr_state if self._attr_state in self._options else self._options[0])
