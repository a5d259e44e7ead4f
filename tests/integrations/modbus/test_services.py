"""Write services and switches against a real pymodbus server."""

from __future__ import annotations

import pytest

from hub.core import Context, Hub
from hub.exceptions import DeviceUnavailable, ServiceValidationError
from integrations.modbus.const import InputType
from integrations.modbus.server import SimulatedModbusServer

from .conftest import SetupModbus, hub_config

WRITE_SINGLE_REGISTER = 6
WRITE_MULTIPLE_REGISTERS = 16
WRITE_SINGLE_COIL = 5
WRITE_MULTIPLE_COILS = 15


async def test_write_register_single_list_and_negative(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.device(4)
    await setup_modbus(hub_config(modbus_server))
    await fake_hub.services.async_call("modbus", "write_register",
                                       {"hub": "test", "slave": 4, "address": 10, "value": 1234})
    await fake_hub.services.async_call("modbus", "write_register",
                                       {"hub": "test", "device_id": 4, "address": 20, "value": [1, 2, -1]})
    assert store.get_registers(4, InputType.HOLDING, 10) == [1234]
    assert store.get_registers(4, InputType.HOLDING, 20, 3) == [1, 2, 0xFFFF]
    assert store.request_count(4, WRITE_SINGLE_REGISTER) == 1
    assert store.request_count(4, WRITE_MULTIPLE_REGISTERS) == 1


async def test_write_coil_single_and_list(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.device(1)
    await setup_modbus(hub_config(modbus_server))
    await fake_hub.services.async_call("modbus", "write_coil", {"hub": "test", "address": 3, "state": True})
    await fake_hub.services.async_call("modbus", "write_coil",
                                       {"hub": "test", "address": 8, "state": [True, False, True]})
    assert store.get_registers(1, InputType.COIL, 3) == [1]
    assert store.get_registers(1, InputType.COIL, 8, 3) == [1, 0, 1]
    assert store.request_count(1, WRITE_SINGLE_COIL) == 1
    assert store.request_count(1, WRITE_MULTIPLE_COILS) == 1


async def test_write_errors_are_typed_and_name_the_problem(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.device(1).strict = True
    store.set_registers(1, InputType.HOLDING, 0, [0])
    await setup_modbus(hub_config(modbus_server, timeout=0.2))
    with pytest.raises(ServiceValidationError, match="no Modbus hub named 'nope'"):
        await fake_hub.services.async_call("modbus", "write_register",
                                           {"hub": "nope", "address": 0, "value": 1})
    with pytest.raises(ServiceValidationError, match="value"):
        await fake_hub.services.async_call("modbus", "write_register",
                                           {"hub": "test", "address": 0, "value": 70000})
    with pytest.raises(ServiceValidationError, match="illegal data address"):
        await fake_hub.services.async_call("modbus", "write_register",
                                           {"hub": "test", "address": 500, "value": 1})
    store.set_responding(1, False)
    with pytest.raises(DeviceUnavailable, match="slave 1"):
        await fake_hub.services.async_call("modbus", "write_register",
                                           {"hub": "test", "address": 0, "value": 1})


async def test_coil_switch_turns_on_and_off_and_reads_back(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.set_registers(1, InputType.COIL, 2, [0])
    await setup_modbus(hub_config(modbus_server, switches=[{"name": "Street lights", "address": 2}]))
    assert fake_hub.states.is_state("switch.street_lights", "off")
    context = Context(user_id="op-7", centre="ccs-1")
    await fake_hub.services.async_call("switch", "turn_on", {"entity_id": "switch.street_lights"},
                                       context=context)
    assert store.get_registers(1, InputType.COIL, 2) == [1]
    state = fake_hub.states.get("switch.street_lights")
    assert state is not None and state.state == "on"
    assert state.context.user_id == "op-7"
    await fake_hub.services.async_call("switch", "toggle", {"entity_id": "switch.street_lights"})
    assert fake_hub.states.is_state("switch.street_lights", "off")


async def test_register_switch_verifies_a_separate_status_register(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.set_registers(1, InputType.INPUT, 30, [0])
    await setup_modbus(hub_config(modbus_server, switches=[{
        "name": "Pump", "address": 10, "write_type": "holding", "command_on": 0xA5, "command_off": 0x5A,
        "verify": {"input_type": "input", "address": 30, "state_on": 1, "state_off": 0},
    }]))
    assert fake_hub.states.is_state("switch.pump", "off")
    # The device acknowledges the command in its status register only when it really runs.
    store.write_hooks.append(
        lambda slave, table, address, values: store.set_registers(slave, InputType.INPUT, 30,
                                                                  [int(values[0] == 0xA5)])
    )
    await fake_hub.services.async_call("switch", "turn_on", {"entity_id": "switch.pump"})
    assert store.get_registers(1, InputType.HOLDING, 10) == [0xA5]
    assert fake_hub.states.is_state("switch.pump", "on")
    await fake_hub.services.async_call("switch", "turn_off", {"entity_id": "switch.pump"})
    assert fake_hub.states.is_state("switch.pump", "off")


async def test_switch_service_refuses_what_is_not_a_switch(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    modbus_server.store.device(1)
    await setup_modbus(hub_config(modbus_server, sensors=[{"name": "t", "address": 0}],
                                  switches=[{"name": "s", "address": 0}]))
    with pytest.raises(ServiceValidationError, match=r"sensor\.t is not a switch"):
        await fake_hub.services.async_call("switch", "turn_on", {"entity_id": "sensor.t"})
