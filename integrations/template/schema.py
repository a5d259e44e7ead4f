"""The `template:` section, in Home Assistant's modern format (a list of blocks, state- or trigger-based)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv
from hub.helpers.trigger import validate_condition, validate_trigger
from hub.helpers.validators import script_variables, template, template_complex

from .const import (
    CONF_ATTRIBUTES,
    CONF_AUTO_OFF,
    CONF_AVAILABILITY,
    CONF_BINARY_SENSOR,
    CONF_CONDITIONS,
    CONF_DELAY_OFF,
    CONF_DELAY_ON,
    CONF_ICON,
    CONF_NAME,
    CONF_SENSOR,
    CONF_STATE,
    CONF_TRIGGERS,
    CONF_UNIQUE_ID,
    CONF_VARIABLES,
    KEY_ALIASES,
)

__all__ = ["CONFIG_SCHEMA"]

_COMMON: dict[Any, Any] = {
    vol.Optional(CONF_NAME): template,
    vol.Optional(CONF_UNIQUE_ID): cv.string,
    vol.Optional(CONF_ICON): template,
    vol.Optional(CONF_AVAILABILITY): template,
    vol.Optional(CONF_ATTRIBUTES, default=dict): vol.Schema({cv.string: template_complex}),
    vol.Optional("device_class"): cv.string,
    vol.Optional("picture"): template,
}

SENSOR_SCHEMA = vol.Schema({
    **_COMMON,
    vol.Required(CONF_STATE): template,
    vol.Optional("unit_of_measurement"): cv.string,
    vol.Optional("state_class"): vol.In(["measurement", "total", "total_increasing"]),
})

BINARY_SENSOR_SCHEMA = vol.Schema({
    **_COMMON,
    vol.Required(CONF_STATE): template,
    vol.Optional(CONF_DELAY_ON): cv.time_period,
    vol.Optional(CONF_DELAY_OFF): cv.time_period,
    vol.Optional(CONF_AUTO_OFF): cv.time_period,
})


def _aliases(value: Any) -> Any:
    if not isinstance(value, dict):
        raise vol.Invalid("expected a template block with sensor: or binary_sensor:")
    result = dict(value)
    for old, new in KEY_ALIASES.items():
        if old in result and new not in result:
            result[new] = result.pop(old)
    return result


def _no_actions(_value: Any) -> Any:
    raise vol.Invalid("`action:` in a template block is not supported; let an automation with that action set an "
                      "input_* helper, and read the helper in the template")


def _entities_present(block: dict[str, Any]) -> dict[str, Any]:
    if not block.get(CONF_SENSOR) and not block.get(CONF_BINARY_SENSOR):
        raise vol.Invalid("a template block needs sensor: or binary_sensor: entities")
    if CONF_TRIGGERS not in block and (CONF_CONDITIONS in block or CONF_VARIABLES in block):
        raise vol.Invalid("condition: and variables: need trigger:", path=[CONF_CONDITIONS])
    return block


BLOCK_SCHEMA = vol.All(_aliases, vol.Schema({
    vol.Optional(CONF_TRIGGERS): vol.All(cv.ensure_list, vol.Length(min=1), cv.list_of(validate_trigger)),
    vol.Optional(CONF_CONDITIONS): vol.All(cv.ensure_list, cv.list_of(validate_condition)),
    vol.Optional(CONF_VARIABLES): script_variables,
    vol.Optional("action"): _no_actions,
    vol.Optional("actions"): _no_actions,
    vol.Optional(CONF_UNIQUE_ID): cv.string,
    vol.Optional(CONF_SENSOR, default=list): vol.All(cv.ensure_list, cv.list_of(SENSOR_SCHEMA)),
    vol.Optional(CONF_BINARY_SENSOR, default=list): vol.All(cv.ensure_list, cv.list_of(BINARY_SENSOR_SCHEMA)),
}), _entities_present)

CONFIG_SCHEMA = vol.All(cv.ensure_list, cv.list_of(BLOCK_SCHEMA))
