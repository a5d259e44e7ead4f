"""The `modbus.write_register` and `modbus.write_coil` services."""

from __future__ import annotations

from collections.abc import Callable

from hub.core import CALLBACK_TYPE, Hub, ServiceCall
from hub.exceptions import ServiceValidationError

from .client import ModbusClient, ModbusDeviceError
from .const import (
    ATTR_ADDRESS,
    ATTR_HUB,
    ATTR_SLAVE,
    ATTR_STATE,
    ATTR_VALUE,
    DOMAIN,
    SERVICE_WRITE_COIL,
    SERVICE_WRITE_REGISTER,
)
from .schema import WRITE_COIL_SCHEMA, WRITE_REGISTER_SCHEMA

__all__ = ["async_register_services"]


def async_register_services(hub: Hub,
                            get_client: Callable[[str], ModbusClient | None]) -> list[CALLBACK_TYPE]:
    """Register the write services; returns their removers."""

    def _client(call: ServiceCall) -> ModbusClient:
        name = call.data[ATTR_HUB]
        client = get_client(name)
        if client is None:
            raise ServiceValidationError(f"{DOMAIN}.{call.service}: no Modbus hub named '{name}'",
                                         path=[ATTR_HUB])
        return client

    async def write_register(call: ServiceCall) -> None:
        client = _client(call)
        value = call.data[ATTR_VALUE]
        values = value if isinstance(value, list) else [value]
        try:
            await client.async_write_registers(call.data[ATTR_SLAVE], call.data[ATTR_ADDRESS], values)
        except ModbusDeviceError as err:
            raise ServiceValidationError(str(err), path=[ATTR_ADDRESS]) from err

    async def write_coil(call: ServiceCall) -> None:
        client = _client(call)
        state = call.data[ATTR_STATE]
        values = [bool(s) for s in state] if isinstance(state, list) else [bool(state)]
        try:
            await client.async_write_coils(call.data[ATTR_SLAVE], call.data[ATTR_ADDRESS], values)
        except ModbusDeviceError as err:
            raise ServiceValidationError(str(err), path=[ATTR_ADDRESS]) from err

    return [
        hub.services.async_register(DOMAIN, SERVICE_WRITE_REGISTER, write_register, WRITE_REGISTER_SCHEMA,
                                    description="Write one register or a list of registers"),
        hub.services.async_register(DOMAIN, SERVICE_WRITE_COIL, write_coil, WRITE_COIL_SCHEMA,
                                    description="Write one coil or a list of coils"),
    ]
