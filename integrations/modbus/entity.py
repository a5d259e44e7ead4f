"""Modbus entities: sensor, binary_sensor and switch, fed by the hub's poller (no I/O in properties)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.core import Context, callback
from hub.helpers import units
from hub.helpers.entity import Entity

from .codec import decode, scale_value
from .const import (
    CONF_ADDRESS,
    CONF_AREA,
    CONF_COMMAND_OFF,
    CONF_COMMAND_ON,
    CONF_COUNT,
    CONF_DATA_TYPE,
    CONF_DEVICE_CLASS,
    CONF_ICON,
    CONF_INPUT_TYPE,
    CONF_NAME,
    CONF_OFFSET,
    CONF_PRECISION,
    CONF_SCALE,
    CONF_SCAN_INTERVAL,
    CONF_SLAVE,
    CONF_SOURCE_UNIT,
    CONF_STATE_CLASS,
    CONF_STATE_OFF,
    CONF_STATE_ON,
    CONF_SWAP,
    CONF_UNIQUE_ID,
    CONF_UNIT,
    CONF_VERIFY,
    CONF_WRITE_TYPE,
    DataType,
    InputType,
    Swap,
)

if TYPE_CHECKING:
    from .poller import ModbusPoller

__all__ = ["ModbusBinarySensor", "ModbusEntity", "ModbusSensor", "ModbusSwitch", "ReadSpec"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadSpec:
    """What an entity needs read on each poll: `count` values at `address` in one table of one slave."""

    slave: int
    input_type: InputType
    address: int
    count: int


class ModbusEntity(Entity):
    """Common part: where to read, how often, and turning unavailable when the device stops answering."""

    def __init__(self, hub_name: str, config: Mapping[str, Any], default_interval: float) -> None:
        self._config = config
        self.hub_name = hub_name
        self.read_spec = self._make_read_spec(config)
        self.scan_interval: float = config.get(CONF_SCAN_INTERVAL) or default_interval
        self._attr_name = config[CONF_NAME]
        self._attr_unique_id = config.get(CONF_UNIQUE_ID)
        self._attr_device_class = config.get(CONF_DEVICE_CLASS)
        self._attr_area_id = config.get(CONF_AREA)
        self._attr_available = True
        self.poller: ModbusPoller | None = None

    @staticmethod
    def _make_read_spec(config: Mapping[str, Any]) -> ReadSpec:
        return ReadSpec(config[CONF_SLAVE], config[CONF_INPUT_TYPE], config[CONF_ADDRESS],
                        config.get(CONF_COUNT) or 1)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        return {"modbus_hub": self.hub_name, "slave": self.read_spec.slave}

    def _convert(self, values: list[int] | list[bool]) -> Any:
        """Turn the raw values read for this entity into its state value."""
        raise NotImplementedError

    @callback
    def async_update_values(self, values: list[int] | list[bool]) -> None:
        """New raw values from a poll: decode, mark available, write state (unchanged states don't fire)."""
        try:
            value = self._convert(values)
        except (ValueError, OverflowError) as err:
            if self._attr_available:
                _LOGGER.error("%s: cannot decode %s: %s", self.entity_id, values, err)
            self._attr_available = False
        else:
            self._attr_state = value
            self._attr_available = True
        self.async_write_state()

    @callback
    def async_set_unavailable(self) -> None:
        """The device did not answer: turn unavailable (the base class logs it once)."""
        if self._attr_available:
            self._attr_available = False
            self.async_write_state()


class ModbusSensor(ModbusEntity):
    """A number or a string from holding or input registers."""

    domain = "sensor"

    def __init__(self, hub_name: str, config: Mapping[str, Any], default_interval: float) -> None:
        super().__init__(hub_name, config, default_interval)
        self._data_type: DataType = config[CONF_DATA_TYPE]
        self._swap: Swap = config[CONF_SWAP]
        self._scale: float = config[CONF_SCALE]
        self._offset: float = config[CONF_OFFSET]
        self._precision: int | None = config.get(CONF_PRECISION)
        self._attr_unit_of_measurement = config.get(CONF_UNIT)
        self._attr_icon = config.get(CONF_ICON)
        self._state_class: str | None = config.get(CONF_STATE_CLASS)
        source = config.get(CONF_SOURCE_UNIT)
        # Checked by the schema: the device's unit converts to the one users see.
        self._to_unit = None if source is None or source == self._attr_unit_of_measurement else \
            units.converter(source, self._attr_unit_of_measurement, self._attr_device_class)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        attributes = dict(super().extra_state_attributes or {})
        if self._state_class is not None:
            attributes["state_class"] = self._state_class
        return attributes

    def _convert(self, values: list[int] | list[bool]) -> Any:
        raw = decode([int(v) for v in values], self._data_type, self._swap)
        if isinstance(raw, str):
            return raw
        if self._to_unit is None:
            return scale_value(raw, self._scale, self._offset, self._precision)
        return scale_value(self._to_unit(raw * self._scale + self._offset), precision=self._precision)


class ModbusBinarySensor(ModbusEntity):
    """On/off from a coil or discrete input (or a register: on when non-zero)."""

    domain = "binary_sensor"

    def _convert(self, values: list[int] | list[bool]) -> Any:
        return bool(values[0])


class ModbusSwitch(ModbusEntity):
    """A coil or holding register written on turn_on/turn_off; the state is read back (verify)."""

    domain = "switch"

    def __init__(self, hub_name: str, config: Mapping[str, Any], default_interval: float) -> None:
        super().__init__(hub_name, config, default_interval)
        self._write_type: InputType = config[CONF_WRITE_TYPE]
        self._command_on: int = config[CONF_COMMAND_ON]
        self._command_off: int = config[CONF_COMMAND_OFF]
        verify = config[CONF_VERIFY]
        self._state_on: int = verify[CONF_STATE_ON]
        self._state_off: int = verify[CONF_STATE_OFF]

    @staticmethod
    def _make_read_spec(config: Mapping[str, Any]) -> ReadSpec:
        verify = config[CONF_VERIFY]
        return ReadSpec(config[CONF_SLAVE], verify[CONF_INPUT_TYPE], verify[CONF_ADDRESS], 1)

    def _convert(self, values: list[int] | list[bool]) -> Any:
        raw = int(values[0])
        if raw == self._state_on:
            return True
        if raw == self._state_off:
            return False
        return None  # neither: unknown

    @property
    def is_on(self) -> bool | None:
        """Whether the switch is on (None when unknown)."""
        return self._attr_state if isinstance(self._attr_state, bool) else None

    async def async_turn_on(self, context: Context | None = None) -> None:
        """Write the on command, then read the state back."""
        await self._async_write(self._command_on, context)

    async def async_turn_off(self, context: Context | None = None) -> None:
        """Write the off command, then read the state back."""
        await self._async_write(self._command_off, context)

    async def async_toggle(self, context: Context | None = None) -> None:
        """Turn off when on, on otherwise."""
        await self._async_write(self._command_off if self.is_on else self._command_on, context)

    async def _async_write(self, command: int, context: Context | None) -> None:
        assert self.poller is not None
        client = self.poller.client
        spec = self._config
        if self._write_type is InputType.COIL:
            await client.async_write_coils(spec[CONF_SLAVE], spec[CONF_ADDRESS], [bool(command)])
        else:
            await client.async_write_registers(spec[CONF_SLAVE], spec[CONF_ADDRESS], [command])
        if context is not None:
            self.async_set_context(context)
        await self.poller.async_refresh([self])
