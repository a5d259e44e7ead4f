"""Constants of the Modbus integration: keys, defaults, register tables, data types."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from hub.const import (  # the common keys, re-exported
    CONF_AREA,
    CONF_HOST,
    CONF_ICON,
    CONF_NAME,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_TYPE,
    CONF_UNIQUE_ID,
)

__all__ = [
    "CONF_AREA",
    "CONF_HOST",
    "CONF_ICON",
    "CONF_NAME",
    "CONF_PORT",
    "CONF_SCAN_INTERVAL",
    "CONF_TIMEOUT",
    "CONF_TYPE",
    "CONF_UNIQUE_ID",
    "DEFAULT_PORT",
    "DEFAULT_SCAN_INTERVAL",
    "DEFAULT_TIMEOUT",
    "DOMAIN",
    "MAX_BITS_PER_READ",
    "MAX_REGISTERS_PER_READ",
    "DataType",
    "HubType",
    "InputType",
    "Swap",
]

DOMAIN: Final = "modbus"

CONF_HUB: Final = "hub"
CONF_SLAVE: Final = "slave"
CONF_DEVICE_ID: Final = "device_id"  # accepted as an alias of `slave` (pymodbus' newer name)
CONF_ADDRESS: Final = "address"
CONF_INPUT_TYPE: Final = "input_type"
CONF_DATA_TYPE: Final = "data_type"
CONF_COUNT: Final = "count"
CONF_SCALE: Final = "scale"
CONF_OFFSET: Final = "offset"
CONF_PRECISION: Final = "precision"
CONF_SWAP: Final = "swap"
CONF_SENSORS: Final = "sensors"
CONF_BINARY_SENSORS: Final = "binary_sensors"
CONF_SWITCHES: Final = "switches"
CONF_WRITE_TYPE: Final = "write_type"
CONF_COMMAND_ON: Final = "command_on"
CONF_COMMAND_OFF: Final = "command_off"
CONF_VERIFY: Final = "verify"
CONF_STATE_ON: Final = "state_on"
CONF_STATE_OFF: Final = "state_off"
CONF_DELAY: Final = "delay"
CONF_RETRIES: Final = "retries"
CONF_UNIT: Final = "unit_of_measurement"
CONF_DEVICE_CLASS: Final = "device_class"
CONF_KIND: Final = "kind"  # a city sensor kind (hub.helpers.units.CITY_SENSOR_KINDS) filling the defaults
CONF_SOURCE_UNIT: Final = "source_unit"  # the unit the device sends, converted to unit_of_measurement
CONF_STATE_CLASS: Final = "state_class"

DEFAULT_PORT: Final = 502
DEFAULT_SCAN_INTERVAL: Final = 10.0
DEFAULT_TIMEOUT: Final = 3.0
DEFAULT_RETRIES: Final = 1

# Limits of the Modbus application protocol (one PDU is at most 253 bytes).
MAX_REGISTERS_PER_READ: Final = 125
MAX_BITS_PER_READ: Final = 2000
MAX_REGISTERS_PER_WRITE: Final = 123
MAX_BITS_PER_WRITE: Final = 1968

SERVICE_WRITE_REGISTER: Final = "write_register"
SERVICE_WRITE_COIL: Final = "write_coil"

ATTR_HUB: Final = "hub"
ATTR_SLAVE: Final = "slave"
ATTR_ADDRESS: Final = "address"
ATTR_VALUE: Final = "value"
ATTR_STATE: Final = "state"


class HubType(StrEnum):
    """How frames travel: Modbus TCP (MBAP header) or RTU frames (with CRC) over a TCP socket."""

    TCP = "tcp"
    RTU_OVER_TCP = "rtuovertcp"


class InputType(StrEnum):
    """The four Modbus tables."""

    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"

    @property
    def is_bits(self) -> bool:
        """Whether the table holds single bits (coils, discrete inputs)."""
        return self in (InputType.COIL, InputType.DISCRETE_INPUT)


class DataType(StrEnum):
    """How registers decode into a value."""

    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    STRING = "string"


class Swap(StrEnum):
    """Byte and word order. `byte` swaps the two bytes of each register, `word` reverses the register
    order of a multi-register value, `word_byte` does both. Modbus itself is big-endian: `none`."""

    NONE = "none"
    BYTE = "byte"
    WORD = "word"
    WORD_BYTE = "word_byte"
