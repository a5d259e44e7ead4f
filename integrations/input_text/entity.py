"""The input_text entity: a short text, checked against its length limits and pattern."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import callback
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.helpers.yaml_helpers import BASE_HELPER_FIELDS, HelperEntity, ServiceSpec

from .const import CONF_INITIAL, CONF_MAX, CONF_MIN, CONF_MODE, CONF_PATTERN, DOMAIN, MAX_LENGTH_STATE, MODES

__all__ = ["ITEM_SCHEMA", "SERVICES", "InputText"]


def _pattern(value: Any) -> str:
    text = cv.string(value)
    try:
        re.compile(text)
    except re.error as err:
        raise vol.Invalid(f"invalid regular expression: {err}") from None
    return text


def _lengths(config: dict[str, Any]) -> dict[str, Any]:
    if config[CONF_MIN] > config[CONF_MAX]:
        raise vol.Invalid("'min' must not exceed 'max'", path=[CONF_MIN])
    return config


ITEM_SCHEMA = vol.All(vol.Schema({
    **BASE_HELPER_FIELDS,
    vol.Optional(CONF_MIN, default=0): vol.All(vol.Coerce(int), vol.Range(min=0, max=MAX_LENGTH_STATE)),
    vol.Optional(CONF_MAX, default=100): vol.All(vol.Coerce(int), vol.Range(min=0, max=MAX_LENGTH_STATE)),
    vol.Optional(CONF_INITIAL): cv.string,
    vol.Optional(CONF_PATTERN): _pattern,
    vol.Optional(CONF_MODE, default="text"): vol.In(MODES),
}), _lengths)

SERVICES: list[ServiceSpec] = [("set_value", {vol.Required("value"): cv.string}, "async_set_value")]


class InputText(HelperEntity):
    """The state is the text; `initial` wins over the restored text."""

    domain = DOMAIN

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        super().__init__(key, config)
        pattern = config.get(CONF_PATTERN)
        self._pattern = re.compile(pattern) if pattern else None
        self._attr_state = config.get(CONF_INITIAL)

    def helper_attributes(self) -> dict[str, Any]:
        return {"min": self._config[CONF_MIN], "max": self._config[CONF_MAX],
                "pattern": self._config.get(CONF_PATTERN), "mode": self._config[CONF_MODE]}

    def _problem(self, value: str) -> str | None:
        if not self._config[CONF_MIN] <= len(value) <= self._config[CONF_MAX]:
            return f"length {len(value)} is outside {self._config[CONF_MIN]}..{self._config[CONF_MAX]}"
        if self._pattern is not None and not self._pattern.fullmatch(value):
            return f"does not match the pattern {self._pattern.pattern!r}"
        return None

    async def async_added_to_hub(self) -> None:
        """Restore the last text unless `initial` is set."""
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        if self._config.get(CONF_INITIAL) is None and last is not None and last.state != "unknown":
            if self._problem(last.state) is None:
                self._attr_state = last.state

    @callback
    def async_set_value(self, value: str) -> None:
        """Set the text (refused when too short, too long or not matching the pattern)."""
        problem = self._problem(value)
        if problem is not None:
            raise ServiceValidationError(f"{self.entity_id}: the value {problem}", path=["value"])
        self._attr_state = value
        self.async_write_state()
