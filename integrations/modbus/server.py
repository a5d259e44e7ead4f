"""A pymodbus server over a datastore we control: for tests, simulators (bollard PLCs) and the bench.

`ModbusDataStore` keeps the four tables per slave in plain dicts, counts requests, can stop a slave
from answering (the client times out, as with a dead device behind a gateway), and calls write hooks
so a simulator can act on commands. `SimulatedModbusServer` serves it over TCP or RTU-over-TCP.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer

from .codec import encode
from .const import DataType, HubType, InputType, Swap

__all__ = ["DeviceMemory", "ModbusDataStore", "SimulatedModbusServer", "WriteHook"]

_LOGGER = logging.getLogger(__name__)

# Function code -> table and whether it writes.
_FC_TABLE: dict[int, InputType] = {
    1: InputType.COIL, 5: InputType.COIL, 15: InputType.COIL,
    2: InputType.DISCRETE_INPUT,
    3: InputType.HOLDING, 6: InputType.HOLDING, 16: InputType.HOLDING, 22: InputType.HOLDING,
    23: InputType.HOLDING,
    4: InputType.INPUT,
}

# (slave, table, address, values) -> an ExcCodes to refuse the write, or None to store it.
WriteHook = Callable[[int, InputType, int, list[int] | list[bool]], ExcCodes | None]


@dataclass
class DeviceMemory:
    """The four tables of one slave. Unset addresses read 0 unless `strict` (then: illegal address)."""

    tables: dict[InputType, dict[int, int]] = field(
        default_factory=lambda: {table: {} for table in InputType}
    )
    strict: bool = False
    responding: bool = True
    # Process this many writes but send no answer (the client times out and retries): a lost reply.
    drop_write_answers: int = 0

    def get(self, table: InputType, address: int, count: int) -> list[int] | None:
        values = self.tables[table]
        if self.strict and any(a not in values for a in range(address, address + count)):
            return None
        return [values.get(a, 0) for a in range(address, address + count)]

    def set(self, table: InputType, address: int, values: Sequence[int | bool]) -> None:
        target = self.tables[table]
        for i, value in enumerate(values):
            target[address + i] = int(value)


class ModbusDataStore:
    """The datastore behind a simulated server: plain dicts per slave, request counters, write hooks."""

    def __init__(self) -> None:
        self.devices: dict[int, DeviceMemory] = {}
        self.requests: Counter[tuple[int, int]] = Counter()  # (slave, function code) -> count
        self.write_hooks: list[WriteHook] = []

    def device(self, slave: int) -> DeviceMemory:
        """The memory of `slave`, created on first use."""
        memory = self.devices.get(slave)
        if memory is None:
            memory = self.devices[slave] = DeviceMemory()
        return memory

    # ---- convenience for tests and simulators

    def set_registers(self, slave: int, table: InputType, address: int, values: Sequence[int]) -> None:
        """Store raw registers (or bits for coil/discrete_input tables)."""
        self.device(slave).set(table, address, values)

    def set_value(self, slave: int, table: InputType, address: int, value: int | float | str,
                  data_type: DataType = DataType.INT16, swap: Swap = Swap.NONE,
                  count: int | None = None) -> None:
        """Encode a value as a device would and store it."""
        self.device(slave).set(table, address, encode(value, data_type, swap, count))

    def get_registers(self, slave: int, table: InputType, address: int, count: int = 1) -> list[int]:
        """Current raw values (0 for unset addresses)."""
        values = self.device(slave).tables[table]
        return [values.get(a, 0) for a in range(address, address + count)]

    def set_responding(self, slave: int, responding: bool) -> None:
        """Make a slave stop answering (requests time out) or answer again."""
        self.device(slave).responding = responding

    def request_count(self, slave: int | None = None, function_code: int | None = None) -> int:
        """How many requests were served, optionally for one slave and/or function code."""
        return sum(n for (s, fc), n in self.requests.items()
                   if (slave is None or s == slave) and (function_code is None or fc == function_code))

    # ---- the interface pymodbus' request handler calls

    def _memory(self, device_id: int) -> DeviceMemory:
        memory = self.devices.get(device_id)
        if memory is None or not memory.responding:
            # With ignore_missing_devices the server then sends nothing: the client times out.
            raise NoSuchIdException(f"slave {device_id} does not answer")
        return memory

    def device_ids(self) -> list[int]:
        return list(self.devices)

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> list[int] | list[bool] | ExcCodes:
        memory = self._memory(device_id)
        table = _FC_TABLE.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        values = memory.get(table, address, count)
        if values is None:
            return ExcCodes.ILLEGAL_ADDRESS
        if table.is_bits and func_code in (1, 2):
            return [bool(v) for v in values]
        return values

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: list[int] | list[bool]) -> ExcCodes | None:
        memory = self._memory(device_id)
        table = _FC_TABLE.get(func_code)
        if table is None or table in (InputType.INPUT, InputType.DISCRETE_INPUT):
            return ExcCodes.ILLEGAL_FUNCTION
        if memory.strict and memory.get(table, address, len(values)) is None:
            return ExcCodes.ILLEGAL_ADDRESS
        for hook in self.write_hooks:
            try:
                refused = hook(device_id, table, address, list(values))
            except Exception:
                _LOGGER.exception("Error in Modbus write hook %s", hook)
                return ExcCodes.DEVICE_FAILURE
            if refused is not None:
                return refused
        memory.set(table, address, values)
        return None


class _StoreContext(ModbusServerContext):
    """Adapts ModbusDataStore to the server's datastore interface (async get/set, device_ids)."""

    def __init__(self, store: ModbusDataStore) -> None:  # no super().__init__: we replace the store
        self.store = store
        self.old_simulator = True  # tells the server to call us directly rather than build a SimCore
        self.simdevices = []

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> Any:
        # The write functions read back what they wrote to build their answer: not a new request.
        if func_code not in (5, 6, 15, 16):
            self.store.requests[(device_id, func_code)] += 1
        return await self.store.async_getValues(device_id, func_code, address, count)

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: Any) -> Any:
        self.store.requests[(device_id, func_code)] += 1
        refused = await self.store.async_setValues(device_id, func_code, address, values)
        memory = self.store.devices.get(device_id)
        if refused is None and memory is not None and memory.drop_write_answers > 0:
            memory.drop_write_answers -= 1
            raise NoSuchIdException(f"slave {device_id}: write done, answer dropped")
        return refused

    def device_ids(self) -> list[int]:
        return self.store.device_ids()


class SimulatedModbusServer:
    """Serve a ModbusDataStore on host:port (port 0 picks a free one; read `.port` after start)."""

    def __init__(self, store: ModbusDataStore | None = None, host: str = "127.0.0.1", port: int = 0,
                 hub_type: HubType = HubType.TCP) -> None:
        self.store = store if store is not None else ModbusDataStore()
        self.host = host
        self.port = port
        self.hub_type = hub_type
        self._server: ModbusTcpServer | None = None

    async def async_start(self) -> None:
        """Start listening (returns once the socket is bound)."""
        framer = FramerType.RTU if self.hub_type is HubType.RTU_OVER_TCP else FramerType.SOCKET
        server = ModbusTcpServer(
            _StoreContext(self.store), framer=framer, address=(self.host, self.port),
            ignore_missing_devices=True,
        )
        await server.serve_forever(background=True)
        self._server = server
        sockets = getattr(server.transport, "sockets", None)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        _LOGGER.debug("Simulated Modbus server on %s:%s", self.host, self.port)

    async def async_stop(self) -> None:
        """Stop listening and drop every client connection."""
        server, self._server = self._server, None
        if server is None:
            return
        await server.shutdown()
        # Let the closed transports finish before a test reuses the port.
        await asyncio.sleep(0)

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None
