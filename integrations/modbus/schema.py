"""Voluptuous schemas of the `modbus:` section and of the write services (defaults live here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv
from hub.helpers import units

from .codec import register_count
from .const import (
    ATTR_ADDRESS,
    ATTR_HUB,
    ATTR_SLAVE,
    ATTR_STATE,
    ATTR_VALUE,
    CONF_ADDRESS,
    CONF_AREA,
    CONF_BINARY_SENSORS,
    CONF_COMMAND_OFF,
    CONF_COMMAND_ON,
    CONF_COUNT,
    CONF_DATA_TYPE,
    CONF_DELAY,
    CONF_DEVICE_CLASS,
    CONF_DEVICE_ID,
    CONF_HOST,
    CONF_ICON,
    CONF_INPUT_TYPE,
    CONF_KIND,
    CONF_NAME,
    CONF_OFFSET,
    CONF_PORT,
    CONF_PRECISION,
    CONF_RETRIES,
    CONF_SCALE,
    CONF_SCAN_INTERVAL,
    CONF_SENSORS,
    CONF_SLAVE,
    CONF_SOURCE_UNIT,
    CONF_STATE_CLASS,
    CONF_STATE_OFF,
    CONF_STATE_ON,
    CONF_SWAP,
    CONF_SWITCHES,
    CONF_TIMEOUT,
    CONF_TYPE,
    CONF_UNIQUE_ID,
    CONF_UNIT,
    CONF_VERIFY,
    CONF_WRITE_TYPE,
    DEFAULT_PORT,
    DEFAULT_RETRIES,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    MAX_BITS_PER_WRITE,
    MAX_REGISTERS_PER_READ,
    MAX_REGISTERS_PER_WRITE,
    DataType,
    HubType,
    InputType,
    Swap,
)

__all__ = [
    "BINARY_SENSOR_SCHEMA",
    "CONFIG_SCHEMA",
    "HUB_SCHEMA",
    "SENSOR_SCHEMA",
    "SWITCH_SCHEMA",
    "WRITE_COIL_SCHEMA",
    "WRITE_REGISTER_SCHEMA",
]

_address = vol.All(vol.Coerce(int), vol.Range(min=0, max=65535))
_slave = vol.All(vol.Coerce(int), vol.Range(min=0, max=255))
_seconds = vol.All(vol.Coerce(float), vol.Range(min=0))
_interval = vol.All(vol.Coerce(float), vol.Range(min=0.05))
_name = vol.All(str, vol.Length(min=1))


def _slave_alias(config: Any) -> Any:
    """Accept `device_id` (pymodbus' current word) for `slave`; refuse both at once."""
    if isinstance(config, dict) and CONF_DEVICE_ID in config:
        if CONF_SLAVE in config:
            raise vol.Invalid(f"use either '{CONF_SLAVE}' or '{CONF_DEVICE_ID}', not both")
        config = dict(config)
        config[CONF_SLAVE] = config.pop(CONF_DEVICE_ID)
    return config


def _check_sensor(config: dict[str, Any]) -> dict[str, Any]:
    data_type: DataType = config[CONF_DATA_TYPE]
    input_type: InputType = config[CONF_INPUT_TYPE]
    swap: Swap = config[CONF_SWAP]
    if input_type.is_bits:
        raise vol.Invalid(f"a sensor reads registers; '{input_type}' holds bits (use a binary_sensor)",
                          path=[CONF_INPUT_TYPE])
    if data_type is DataType.STRING:
        if not config.get(CONF_COUNT):
            raise vol.Invalid("data_type string needs 'count' (length in registers)", path=[CONF_COUNT])
        if swap in (Swap.WORD, Swap.WORD_BYTE):
            raise vol.Invalid("a string can only use swap 'byte' or 'none'", path=[CONF_SWAP])
    else:
        width = register_count(data_type)
        count = config.get(CONF_COUNT)
        if count is not None and count != width:
            raise vol.Invalid(f"{data_type} is {width} register(s); count {count} does not match",
                              path=[CONF_COUNT])
        if width == 1 and swap in (Swap.WORD, Swap.WORD_BYTE):
            raise vol.Invalid(f"swap '{swap}' needs a value of 2 or more registers, {data_type} has 1",
                              path=[CONF_SWAP])
        config = {**config, CONF_COUNT: width}
    if config[CONF_ADDRESS] + config[CONF_COUNT] > 65536:
        raise vol.Invalid("address + count goes past register 65535", path=[CONF_ADDRESS])
    return _check_units(config)


def _check_units(config: dict[str, Any]) -> dict[str, Any]:
    """Fill a city sensor `kind`'s defaults, normalise units, and refuse a unit that does not fit the
    device class or a `source_unit` that cannot be converted (at load, not at the first reading)."""
    config = dict(config)
    kind = config.get(CONF_KIND)
    if kind is not None:
        defaults = units.CITY_SENSOR_KINDS[kind]
        for key, value in ((CONF_DEVICE_CLASS, defaults.device_class), (CONF_UNIT, defaults.unit),
                           (CONF_STATE_CLASS, defaults.state_class), (CONF_ICON, defaults.icon),
                           (CONF_PRECISION, defaults.precision)):
            if value is not None:
                config.setdefault(key, value)
    unit = units.normalize_unit(config.get(CONF_UNIT))
    source = units.normalize_unit(config.get(CONF_SOURCE_UNIT))
    if unit is None and source is not None:
        unit = source
    device_class = config.get(CONF_DEVICE_CLASS)
    problem = units.check_unit(device_class, unit)
    if problem:
        raise vol.Invalid(problem, path=[CONF_UNIT])
    if source is not None and source != unit:
        try:
            units.converter(source, unit, device_class)
        except units.UnitConversionError as err:
            raise vol.Invalid(str(err), path=[CONF_SOURCE_UNIT]) from err
    if unit is not None:
        config[CONF_UNIT] = unit
    if source is not None:
        config[CONF_SOURCE_UNIT] = source
    return config


_ENTITY_BASE = {
    vol.Required(CONF_NAME): _name,
    vol.Optional(CONF_UNIQUE_ID): str,
    vol.Optional(CONF_SLAVE, default=1): _slave,
    vol.Required(CONF_ADDRESS): _address,
    vol.Optional(CONF_SCAN_INTERVAL): _interval,
    vol.Optional(CONF_DEVICE_CLASS): str,
    vol.Optional(CONF_AREA): str,
}

SENSOR_SCHEMA = vol.All(
    _slave_alias,
    vol.Schema({
        **_ENTITY_BASE,
        vol.Optional(CONF_INPUT_TYPE, default=InputType.HOLDING.value): vol.Coerce(InputType),
        vol.Optional(CONF_DATA_TYPE, default=DataType.INT16.value): vol.Coerce(DataType),
        vol.Optional(CONF_COUNT): vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_REGISTERS_PER_READ)),
        vol.Optional(CONF_SCALE, default=1.0): vol.Coerce(float),
        vol.Optional(CONF_OFFSET, default=0.0): vol.Coerce(float),
        vol.Optional(CONF_PRECISION): vol.All(vol.Coerce(int), vol.Range(min=0, max=10)),
        vol.Optional(CONF_SWAP, default=Swap.NONE.value): vol.Coerce(Swap),
        vol.Optional(CONF_UNIT): str,
        vol.Optional(CONF_SOURCE_UNIT): str,
        vol.Optional(CONF_KIND): vol.In(sorted(units.CITY_SENSOR_KINDS)),
        vol.Optional(CONF_STATE_CLASS): vol.In(units.STATE_CLASSES),
        vol.Optional(CONF_ICON): cv.icon,
    }),
    _check_sensor,
)

BINARY_SENSOR_SCHEMA = vol.All(
    _slave_alias,
    vol.Schema({
        **_ENTITY_BASE,
        # Registers read as on when non-zero.
        vol.Optional(CONF_INPUT_TYPE, default=InputType.COIL.value): vol.Coerce(InputType),
    }),
)

_VERIFY_SCHEMA = vol.Schema({
    vol.Optional(CONF_INPUT_TYPE): vol.Coerce(InputType),
    vol.Optional(CONF_ADDRESS): _address,
    vol.Optional(CONF_STATE_ON): vol.Coerce(int),
    vol.Optional(CONF_STATE_OFF): vol.Coerce(int),
})


def _check_switch(config: dict[str, Any]) -> dict[str, Any]:
    if config[CONF_WRITE_TYPE] not in (InputType.COIL, InputType.HOLDING):
        raise vol.Invalid("a switch writes a 'coil' or a 'holding' register", path=[CONF_WRITE_TYPE])
    if config[CONF_WRITE_TYPE] is InputType.COIL:
        for key in (CONF_COMMAND_ON, CONF_COMMAND_OFF):
            if config[key] not in (0, 1):
                raise vol.Invalid(f"{key} of a coil switch must be 0 or 1", path=[key])
    verify = dict(config.get(CONF_VERIFY) or {})
    verify.setdefault(CONF_INPUT_TYPE, config[CONF_WRITE_TYPE])
    verify.setdefault(CONF_ADDRESS, config[CONF_ADDRESS])
    verify.setdefault(CONF_STATE_ON, config[CONF_COMMAND_ON])
    verify.setdefault(CONF_STATE_OFF, config[CONF_COMMAND_OFF])
    return {**config, CONF_VERIFY: verify}


SWITCH_SCHEMA = vol.All(
    _slave_alias,
    vol.Schema({
        **_ENTITY_BASE,
        vol.Optional(CONF_WRITE_TYPE, default=InputType.COIL.value): vol.Coerce(InputType),
        vol.Optional(CONF_COMMAND_ON, default=1): vol.All(vol.Coerce(int), vol.Range(min=0, max=65535)),
        vol.Optional(CONF_COMMAND_OFF, default=0): vol.All(vol.Coerce(int), vol.Range(min=0, max=65535)),
        # Where the real state is read back; defaults to the written coil/register.
        vol.Optional(CONF_VERIFY): _VERIFY_SCHEMA,
    }),
    _check_switch,
)

HUB_SCHEMA = vol.Schema({
    vol.Required(CONF_NAME): vol.All(str, vol.Match(r"^[a-z0-9_]+$", msg="lower-case letters, digits, _")),
    vol.Optional(CONF_TYPE, default=HubType.TCP.value): vol.Coerce(HubType),
    vol.Required(CONF_HOST): _name,
    vol.Optional(CONF_PORT, default=DEFAULT_PORT): cv.port,
    vol.Optional(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): vol.All(vol.Coerce(float), vol.Range(min=0.01)),
    vol.Optional(CONF_RETRIES, default=DEFAULT_RETRIES): vol.All(vol.Coerce(int), vol.Range(min=0, max=10)),
    vol.Optional(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): _interval,
    # Seconds to wait after (re)connecting before the first request (slow gateways).
    vol.Optional(CONF_DELAY, default=0.0): _seconds,
    vol.Optional(CONF_SENSORS, default=list): cv.list_of(SENSOR_SCHEMA),
    vol.Optional(CONF_BINARY_SENSORS, default=list): cv.list_of(BINARY_SENSOR_SCHEMA),
    vol.Optional(CONF_SWITCHES, default=list): cv.list_of(SWITCH_SCHEMA),
})


def _unique_hub_names(hubs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for index, hub in enumerate(hubs):
        if hub[CONF_NAME] in seen:
            raise vol.Invalid(f"hub name '{hub[CONF_NAME]}' is used twice", path=[index, CONF_NAME])
        seen.add(hub[CONF_NAME])
    return hubs


CONFIG_SCHEMA = vol.All(
    # Set up only as a dependency (bollards): the loader passes None or {}.
    lambda value: [] if value is None or value == {} else value,
    cv.list_of(HUB_SCHEMA),
    _unique_hub_names,
)


def _register_value(value: Any) -> int:
    """A register value: 0..65535, or -32768..-1 written as its two's complement."""
    number = int(value)
    if isinstance(value, float) and not value.is_integer():
        raise vol.Invalid(f"{value} is not a whole number")
    if not -32768 <= number <= 65535:
        raise vol.Invalid(f"{value} does not fit in a 16-bit register")
    return number & 0xFFFF


def _list_or_one(item: Callable[[Any], Any], maximum: int) -> vol.Any:
    return vol.Any(
        vol.All([item], vol.Length(min=1, max=maximum)),
        item,
    )


WRITE_REGISTER_SCHEMA = vol.Schema(vol.All(
    _slave_alias,
    vol.Schema({
        vol.Required(ATTR_HUB): str,
        vol.Optional(ATTR_SLAVE, default=1): _slave,
        vol.Required(ATTR_ADDRESS): _address,
        vol.Required(ATTR_VALUE): _list_or_one(_register_value, MAX_REGISTERS_PER_WRITE),
    }),
))

WRITE_COIL_SCHEMA = vol.Schema(vol.All(
    _slave_alias,
    vol.Schema({
        vol.Required(ATTR_HUB): str,
        vol.Optional(ATTR_SLAVE, default=1): _slave,
        vol.Required(ATTR_ADDRESS): _address,
        vol.Required(ATTR_STATE): _list_or_one(vol.Boolean(), MAX_BITS_PER_WRITE),
    }),
))
