"""Polling against a real pymodbus server: decoding into states, grouped reads, unavailability."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub.clock import FakeClock
from hub.core import Hub
from integrations.modbus import get_client
from integrations.modbus.const import DataType, HubType, InputType, Swap
from integrations.modbus.server import SimulatedModbusServer

from .conftest import SetupModbus, hub_config

READ_HOLDING = 3
READ_INPUT = 4
READ_COILS = 1


def _state(hub: Hub, entity_id: str) -> str:
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state.state


async def test_each_data_type_and_order_decodes_into_states(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.set_value(1, InputType.HOLDING, 0, -12, DataType.INT16)
    store.set_value(1, InputType.HOLDING, 1, 50000, DataType.UINT16, Swap.BYTE)
    store.set_value(1, InputType.HOLDING, 2, -100000, DataType.INT32, Swap.WORD)
    store.set_value(1, InputType.HOLDING, 4, 3_000_000_000, DataType.UINT32, Swap.WORD_BYTE)
    store.set_value(1, InputType.INPUT, 0, 21.5, DataType.FLOAT32)
    store.set_value(1, InputType.INPUT, 2, 1013.25, DataType.FLOAT32, Swap.WORD)
    store.set_value(1, InputType.INPUT, 10, "WS-HACHO", DataType.STRING, count=4)
    await setup_modbus(hub_config(modbus_server, sensors=[
        {"name": "i16", "address": 0, "data_type": "int16"},
        {"name": "u16", "address": 1, "data_type": "uint16", "swap": "byte"},
        {"name": "i32", "address": 2, "data_type": "int32", "swap": "word"},
        {"name": "u32", "address": 4, "data_type": "uint32", "swap": "word_byte"},
        {"name": "temperature", "address": 0, "input_type": "input", "data_type": "float32",
         "unit_of_measurement": "°C", "device_class": "temperature"},
        {"name": "pressure", "address": 2, "input_type": "input", "data_type": "float32", "swap": "word"},
        {"name": "station", "address": 10, "input_type": "input", "data_type": "string", "count": 4},
    ]))
    assert _state(fake_hub, "sensor.i16") == "-12"
    assert _state(fake_hub, "sensor.u16") == "50000"
    assert _state(fake_hub, "sensor.i32") == "-100000"
    assert _state(fake_hub, "sensor.u32") == "3000000000"
    assert _state(fake_hub, "sensor.temperature") == "21.5"
    assert _state(fake_hub, "sensor.pressure") == "1013.25"
    assert _state(fake_hub, "sensor.station") == "WS-HACHO"
    temperature = fake_hub.states.get("sensor.temperature")
    assert temperature is not None
    assert temperature.attributes["unit_of_measurement"] == "°C"
    assert temperature.attributes["device_class"] == "temperature"


async def test_scale_offset_and_precision(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.set_registers(1, InputType.INPUT, 0, [213, 1234, 2731])
    await setup_modbus(hub_config(modbus_server, sensors=[
        {"name": "wind", "address": 0, "input_type": "input", "scale": 0.1},
        {"name": "gust", "address": 1, "input_type": "input", "scale": 0.01, "precision": 1},
        {"name": "kelvin", "address": 2, "input_type": "input", "scale": 0.1, "offset": -273.15,
         "precision": 0},
    ]))
    assert _state(fake_hub, "sensor.wind") == "21.3"
    assert _state(fake_hub, "sensor.gust") == "12.3"
    assert _state(fake_hub, "sensor.kelvin") == "0"


async def test_contiguous_registers_are_read_in_one_request_per_poll(
    fake_hub: Hub, fake_clock: FakeClock, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.set_registers(1, InputType.HOLDING, 0, list(range(10, 20)))
    store.set_registers(2, InputType.HOLDING, 0, [7])
    sensors = [{"name": f"r{address}", "address": address} for address in range(6)]
    sensors.append({"name": "pair", "address": 6, "data_type": "int32"})  # 6..7, still contiguous
    sensors.append({"name": "far", "address": 9})  # a gap: its own request
    sensors.append({"name": "other slave", "slave": 2, "address": 0})
    await setup_modbus(hub_config(modbus_server, scan_interval=5, sensors=sensors))
    assert store.request_count(1, READ_HOLDING) == 2
    assert store.request_count(2, READ_HOLDING) == 1
    assert _state(fake_hub, "sensor.r5") == "15"
    assert _state(fake_hub, "sensor.pair") == str((16 << 16) | 17)
    assert _state(fake_hub, "sensor.far") == "19"
    assert _state(fake_hub, "sensor.other_slave") == "7"

    store.set_registers(1, InputType.HOLDING, 3, [99])
    await fake_clock.async_advance(5)
    await fake_hub.async_block_till_done()
    assert store.request_count(1, READ_HOLDING) == 4
    assert store.request_count(2, READ_HOLDING) == 2
    assert _state(fake_hub, "sensor.r3") == "99"


async def test_entity_scan_interval_overrides_the_hub(
    fake_hub: Hub, fake_clock: FakeClock, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.device(1)  # a slave that exists (an unknown slave does not answer)
    await setup_modbus(hub_config(modbus_server, scan_interval=10, sensors=[
        {"name": "slow", "address": 0},
        {"name": "fast", "address": 0, "input_type": "input", "scan_interval": 2},
    ]))
    assert store.request_count(1, READ_HOLDING) == 1
    assert store.request_count(1, READ_INPUT) == 1
    for _ in range(4):
        await fake_clock.async_advance(2)
        await fake_hub.async_block_till_done()
    assert store.request_count(1, READ_HOLDING) == 1
    assert store.request_count(1, READ_INPUT) == 5
    await fake_clock.async_advance(2)
    await fake_hub.async_block_till_done()
    assert store.request_count(1, READ_HOLDING) == 2
    assert store.request_count(1, READ_INPUT) == 6


async def test_silent_slave_turns_unavailable_logs_once_and_comes_back(
    fake_hub: Hub, fake_clock: FakeClock, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = modbus_server.store
    store.set_registers(1, InputType.HOLDING, 0, [5, 6])
    store.set_registers(1, InputType.COIL, 0, [1])
    store.set_registers(2, InputType.HOLDING, 0, [42])
    # The silent slave costs one real timeout per poll; 0.5 s leaves the answering slave room on a busy machine.
    await setup_modbus(hub_config(modbus_server, scan_interval=1, timeout=0.5, sensors=[
        {"name": "a", "address": 0}, {"name": "b", "address": 1},
        {"name": "neighbour", "slave": 2, "address": 0},
    ], binary_sensors=[{"name": "door", "address": 0}]))
    assert _state(fake_hub, "sensor.a") == "5"
    assert _state(fake_hub, "binary_sensor.door") == "on"

    store.set_responding(1, False)
    caplog.set_level(logging.WARNING, logger="integrations.modbus.poller")
    for _ in range(3):
        await fake_clock.async_advance(1)
        await fake_hub.async_block_till_done()
    assert _state(fake_hub, "sensor.a") == "unavailable"
    assert _state(fake_hub, "sensor.b") == "unavailable"
    assert _state(fake_hub, "binary_sensor.door") == "unavailable"
    assert _state(fake_hub, "sensor.neighbour") == "42"  # the other slave on the gateway still answers
    stopped = [r for r in caplog.records if "slave 1 stopped answering" in r.getMessage()]
    assert len(stopped) == 1  # logged once, not once per poll

    store.set_registers(1, InputType.HOLDING, 0, [8])
    store.set_responding(1, True)
    await fake_clock.async_advance(1)
    await fake_hub.async_block_till_done()
    assert _state(fake_hub, "sensor.a") == "8"
    assert _state(fake_hub, "sensor.b") == "6"
    assert _state(fake_hub, "binary_sensor.door") == "on"


async def test_server_down_then_back_reconnects(
    fake_hub: Hub, fake_clock: FakeClock, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    modbus_server.store.set_registers(1, InputType.HOLDING, 0, [1])
    await setup_modbus(hub_config(modbus_server, scan_interval=1, sensors=[{"name": "a", "address": 0}]))
    assert _state(fake_hub, "sensor.a") == "1"
    await modbus_server.async_stop()
    await fake_clock.async_advance(1)
    await fake_hub.async_block_till_done()
    assert _state(fake_hub, "sensor.a") == "unavailable"

    modbus_server.store.set_registers(1, InputType.HOLDING, 0, [2])
    await modbus_server.async_start()  # same port
    await fake_clock.async_advance(1)
    await fake_hub.async_block_till_done()
    assert _state(fake_hub, "sensor.a") == "2"


async def test_exception_answer_only_affects_that_request(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.device(1).strict = True  # registers that were never set answer "illegal data address"
    store.set_registers(1, InputType.HOLDING, 0, [3])
    store.set_registers(1, InputType.INPUT, 0, [4])
    await setup_modbus(hub_config(modbus_server, sensors=[
        {"name": "good", "address": 0},
        {"name": "missing", "address": 50},
        {"name": "input", "address": 0, "input_type": "input"},
    ]))
    assert _state(fake_hub, "sensor.good") == "3"
    assert _state(fake_hub, "sensor.missing") == "unavailable"
    assert _state(fake_hub, "sensor.input") == "4"


async def test_rtu_over_tcp_hub(fake_hub: Hub, setup_modbus: SetupModbus) -> None:
    server = SimulatedModbusServer(hub_type=HubType.RTU_OVER_TCP)
    server.store.set_value(3, InputType.INPUT, 100, 230.4, DataType.FLOAT32)
    server.store.set_registers(3, InputType.DISCRETE_INPUT, 7, [1])
    await server.async_start()
    try:
        await setup_modbus({**hub_config(server), "type": "rtuovertcp",
                            "sensors": [{"name": "voltage", "slave": 3, "address": 100,
                                         "input_type": "input", "data_type": "float32"}],
                            "binary_sensors": [{"name": "breaker", "slave": 3, "address": 7,
                                                "input_type": "discrete_input"}]})
        assert _state(fake_hub, "sensor.voltage") == "230.4"
        assert _state(fake_hub, "binary_sensor.breaker") == "on"
    finally:
        await server.async_stop()


async def test_city_sensor_kind_and_unit_conversion(
    fake_hub: Hub, modbus_server: SimulatedModbusServer, setup_modbus: SetupModbus
) -> None:
    store = modbus_server.store
    store.set_registers(1, InputType.INPUT, 0, [125])  # the anemometer sends 12.5 m/s (x0.1)
    store.set_value(1, InputType.INPUT, 1, 1500.0, DataType.FLOAT32)  # the meter sends W
    await setup_modbus(hub_config(modbus_server, sensors=[
        {"name": "Hacho wind", "address": 0, "input_type": "input", "scale": 0.1,
         "kind": "wind_speed", "source_unit": "m/s"},
        {"name": "Port power", "address": 1, "input_type": "input", "data_type": "float32",
         "kind": "power", "source_unit": "W"},
    ]))
    wind = fake_hub.states.get("sensor.hacho_wind")
    assert wind is not None
    assert wind.state == "45.0"  # km/h, precision 1 from the kind
    assert wind.attributes["unit_of_measurement"] == "km/h"
    assert wind.attributes["device_class"] == "wind_speed"
    assert wind.attributes["state_class"] == "measurement"
    power = fake_hub.states.get("sensor.port_power")
    assert power is not None
    assert power.state == "1.5"
    assert power.attributes["unit_of_measurement"] == "kW"



async def test_an_endpoint_starting_beside_the_hub_is_read_on_the_first_poll(
    fake_hub: Hub, setup_modbus: SetupModbus
) -> None:
    """The first connection is refused (a gateway booting, the simulator's server starting beside us): it is
    tried again within the timeout, so the first poll reads the device and no setup order is needed."""
    server = SimulatedModbusServer()
    await server.async_start()
    port = server.port
    await server.async_stop()  # the port is free again: connections to it are refused
    server.store.set_registers(1, InputType.HOLDING, 0, [7])
    setup = asyncio.create_task(setup_modbus(hub_config(server, timeout=5.0, sensors=[{"name": "late",
                                                                                      "address": 0}])))
    client = None
    while client is None or client.connect_attempts < 2:  # refused at least once, now retrying
        await asyncio.sleep(0.01)
        client = get_client(fake_hub, "test")
    restarted = SimulatedModbusServer(server.store, port=port)
    await restarted.async_start()
    try:
        await setup
        assert _state(fake_hub, "sensor.late") == "7"
    finally:
        await restarted.async_stop()


async def test_an_endpoint_that_stays_down_fails_within_the_timeout(fake_hub: Hub, setup_modbus: SetupModbus) -> None:
    server = SimulatedModbusServer()
    await server.async_start()
    await server.async_stop()
    await setup_modbus(hub_config(server, timeout=0.3, sensors=[{"name": "never", "address": 0}]))
    assert _state(fake_hub, "sensor.never") == "unavailable"
    client = get_client(fake_hub, "test")
    assert client is not None and 1 < client.connect_attempts < 10  # a few retries, never a busy loop
