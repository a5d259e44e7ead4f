"""Talking to one bollard's PLC block through a Modbus client: read the status, send a command."""

from __future__ import annotations

from typing import cast

from integrations.modbus.client import ModbusClient
from integrations.modbus.const import InputType

from .registers import DI_COUNT, HR_COMMAND, IR_COUNT, Command, PlcStatus

__all__ = ["BollardPLC"]


class BollardPLC:
    """The registers of one bollard: `slave` on `client`, block at `base`. Errors are the client's
    (DeviceUnavailable when the PLC does not answer, ModbusDeviceError when it refuses a request)."""

    def __init__(self, client: ModbusClient, slave: int, base: int) -> None:
        self.client = client
        self.slave = slave
        self.base = base

    async def async_read_status(self) -> PlcStatus:
        """Read the input registers and discrete inputs (two requests)."""
        registers = await self.client.async_read(self.slave, InputType.INPUT, self.base, IR_COUNT)
        bits = await self.client.async_read(self.slave, InputType.DISCRETE_INPUT, self.base, DI_COUNT)
        return PlcStatus.from_registers(cast(list[int], registers), cast(list[bool], bits))

    async def async_send_command(self, command: Command, sequence: int) -> None:
        """Write command code and sequence number together in one request (function 16), so the PLC
        never sees a new number with an old code. Retrying this write with the same number is safe."""
        await self.client.async_write_registers(self.slave, self.base + HR_COMMAND, [int(command), sequence])
