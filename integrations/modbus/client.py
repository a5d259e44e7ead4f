"""One Modbus hub: a pymodbus async client (TCP or RTU over TCP); library errors wrapped at this edge."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from hub.exceptions import DeviceUnavailable, HubError
from hub.helpers.backoff import Backoff

from .const import (
    DEFAULT_PORT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    MAX_BITS_PER_READ,
    MAX_REGISTERS_PER_READ,
    HubType,
    InputType,
)

__all__ = ["ModbusClient", "ModbusDeviceError"]

_LOGGER = logging.getLogger(__name__)

FIRST_CONNECT_RETRY = 0.05  # seconds before trying again an endpoint that refused the first connection

_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


class ModbusDeviceError(HubError):
    """The device answered with a Modbus exception (it is reachable, the request was wrong)."""

    def __init__(self, message: str, exception_code: int) -> None:
        super().__init__(message)
        self.exception_code = exception_code


class ModbusClient:
    """Requests to one Modbus TCP endpoint (a device or a gateway in front of several slaves).

    Connects lazily and reconnects on the next request after a failure, so a dead hub costs one
    connect attempt per poll, never a busy loop. pymodbus' own reconnect task is switched off.
    Requests are serialised by pymodbus (one transaction at a time on the connection).

    Until it has connected once, a refused connection is tried again on a short backoff for up to
    `timeout` seconds: an endpoint that starts with the hub (a gateway booting, the simulator's
    server set up beside us) is read on the first poll, whatever order the integrations start in.
    """

    def __init__(self, name: str, host: str, port: int = DEFAULT_PORT, *,
                 hub_type: HubType = HubType.TCP, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, delay: float = 0.0) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.hub_type = hub_type
        self.timeout = timeout
        self.delay = delay
        framer = FramerType.RTU if hub_type is HubType.RTU_OVER_TCP else FramerType.SOCKET
        self._client = AsyncModbusTcpClient(
            host, port=port, framer=framer, timeout=timeout, retries=retries,
            reconnect_delay=0, name=f"modbus:{name}",
        )
        self._connect_lock = asyncio.Lock()
        self._closed = False
        self._ever_connected = False
        self.requests = 0  # requests sent (for diagnostics and the bench)
        self.connect_attempts = 0

    def __repr__(self) -> str:
        return f"<ModbusClient {self.name} {self.hub_type} {self.host}:{self.port}>"

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is up."""
        return bool(self._client.connected)

    async def async_connect(self) -> None:
        """Connect if not connected; raises DeviceUnavailable when the endpoint refuses or times out."""
        if self._client.connected:
            return
        async with self._connect_lock:
            if self._client.connected:
                return
            if self._closed:
                raise DeviceUnavailable(f"Modbus hub {self.name} is closed")
            ok = await self._async_try_connect()
            if not ok and not self._ever_connected:
                ok = await self._async_wait_for_endpoint()
            if not ok:
                raise DeviceUnavailable(f"Modbus hub {self.name}: cannot connect to {self.host}:{self.port}")
            self._ever_connected = True
            _LOGGER.debug("Modbus hub %s connected to %s:%s", self.name, self.host, self.port)
            if self.delay:
                await asyncio.sleep(self.delay)

    async def _async_try_connect(self) -> bool:
        self.connect_attempts += 1
        return bool(await self._client.connect()) and bool(self._client.connected)

    async def _async_wait_for_endpoint(self) -> bool:
        """Retry a refused first connection until `timeout` has passed (see the class docstring)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        backoff = Backoff(initial=FIRST_CONNECT_RETRY, maximum=max(FIRST_CONNECT_RETRY, self.timeout / 4))
        while not self._closed and loop.time() + backoff.peek() < deadline:
            await asyncio.sleep(backoff.delay())
            if await self._async_try_connect():
                return True
        return False

    def close(self) -> None:
        """Close the connection for good (unload)."""
        self._closed = True
        self._client.close()

    async def _async_execute(self, what: str, slave: int, request: Any) -> Any:
        """Send one request built by `request()` and return the response PDU (errors wrapped)."""
        await self.async_connect()
        self.requests += 1
        try:
            response = await request()
        except ModbusException as err:
            raise DeviceUnavailable(f"Modbus hub {self.name} slave {slave}: {what}: {err}") from err
        except (TimeoutError, OSError) as err:
            raise DeviceUnavailable(f"Modbus hub {self.name} slave {slave}: {what}: {err!r}") from err
        if response is None:
            raise DeviceUnavailable(f"Modbus hub {self.name} slave {slave}: {what}: no response")
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            raise ModbusDeviceError(
                f"Modbus hub {self.name} slave {slave}: {what}: device answered exception {code} "
                f"({_EXCEPTION_NAMES.get(code, 'unknown')})",
                code,
            )
        return response

    async def async_read(self, slave: int, input_type: InputType, address: int,
                         count: int = 1) -> list[int] | list[bool]:
        """Read `count` registers or bits starting at `address` from one table of one slave."""
        limit = MAX_BITS_PER_READ if input_type.is_bits else MAX_REGISTERS_PER_READ
        if not 1 <= count <= limit:
            raise ValueError(f"count {count} outside 1..{limit} for {input_type}")
        client = self._client
        method = {
            InputType.HOLDING: client.read_holding_registers,
            InputType.INPUT: client.read_input_registers,
            InputType.COIL: client.read_coils,
            InputType.DISCRETE_INPUT: client.read_discrete_inputs,
        }[input_type]
        what = f"read {input_type} {address}+{count}"
        response = await self._async_execute(
            what, slave, lambda: method(address, count=count, device_id=slave)
        )
        if input_type.is_bits:
            bits = list(response.bits)
            if len(bits) < count:
                raise DeviceUnavailable(f"Modbus hub {self.name} slave {slave}: {what}: short answer")
            return [bool(b) for b in bits[:count]]
        registers = list(response.registers)
        if len(registers) != count:
            raise DeviceUnavailable(f"Modbus hub {self.name} slave {slave}: {what}: "
                                    f"{len(registers)} registers in the answer")
        return registers

    async def async_write_registers(self, slave: int, address: int, values: list[int]) -> None:
        """Write one register (function 6) or several in one request (function 16)."""
        client = self._client
        if len(values) == 1:
            await self._async_execute(f"write register {address}", slave,
                                      lambda: client.write_register(address, values[0], device_id=slave))
        else:
            await self._async_execute(f"write registers {address}+{len(values)}", slave,
                                      lambda: client.write_registers(address, values, device_id=slave))

    async def async_write_coils(self, slave: int, address: int, values: list[bool]) -> None:
        """Write one coil (function 5) or several in one request (function 15)."""
        client = self._client
        if len(values) == 1:
            await self._async_execute(f"write coil {address}", slave,
                                      lambda: client.write_coil(address, values[0], device_id=slave))
        else:
            await self._async_execute(f"write coils {address}+{len(values)}", slave,
                                      lambda: client.write_coils(address, values, device_id=slave))
