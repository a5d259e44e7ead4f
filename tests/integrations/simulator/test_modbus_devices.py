"""The simulated PLCs through the real bollards and modbus integrations: travel time, loop traffic, faults, a meter."""

from __future__ import annotations

from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Event, Hub, callback
from integrations.bollards import BollardRefused
from integrations.bollards.registers import IR_STATE, BollardState
from integrations.modbus.const import InputType
from integrations.simulator import get_simulator
from tests.conftest import free_port

from .conftest import SetupSections, advance

SCAN = 0.25
FAULT = int(BollardState.FAULT)


def _sections(port: int, **modbus: Any) -> dict[str, Any]:
    plcs = [{"slave": 1, "bollards": ["B-01", {"id": "B-02", "state": "raised"}]},
            {"slave": 2, "bollards": ["B-03"]}]
    simulator = {"seed": 7, "time_zone": "Africa/Ceuta",
                 "modbus": {"port": port, "heartbeat_period": 0.5, "loop_rate": 0, "fault_rate": 0,
                            "plcs": plcs, **modbus}}
    bollards = [{"id": bid, "host": "127.0.0.1", "port": port, "slave": slave, "base_address": base,
                 "scan_interval": SCAN, "heartbeat_timeout": 3, "travel_timeout": 10, "timeout": 2}
                for bid, slave, base in (("B-01", 1, 0), ("B-02", 1, 16), ("B-03", 2, 0))]
    return {"simulator": simulator, "bollards": bollards}


def _state(hub: Hub, entity_id: str) -> str:
    state = hub.states.get(entity_id)
    assert state is not None
    return state.state


async def test_bollards_rise_in_three_to_six_seconds(fake_hub: Hub, fake_clock: FakeClock,
                                                     setup_sections: SetupSections) -> None:
    await setup_sections(fake_hub, **_sections(free_port()))
    await advance(fake_hub, fake_clock, 1, SCAN)
    assert _state(fake_hub, "bollard.b_01") == "lowered"
    assert _state(fake_hub, "bollard.b_02") == "raised"  # as configured
    travel = {}
    for entity_id in ("bollard.b_01", "bollard.b_03"):
        start = fake_clock.time()
        await fake_hub.services.async_call("bollard", "raise", {"entity_id": entity_id})
        await advance(fake_hub, fake_clock, SCAN, SCAN)
        assert _state(fake_hub, entity_id) == "raising"
        while _state(fake_hub, entity_id) == "raising" and fake_clock.time() - start < 12:
            await advance(fake_hub, fake_clock, SCAN, SCAN)
        assert _state(fake_hub, entity_id) == "raised"
        travel[entity_id] = fake_clock.time() - start
    for seconds in travel.values():
        assert 3.0 <= seconds <= 6.0 + 2 * SCAN  # raise in 3-6 s, seen at the next poll
    assert travel["bollard.b_01"] != travel["bollard.b_03"]  # each movement draws its own time


async def test_loop_traffic_reaches_the_hub_and_blocks_raising(fake_hub: Hub, fake_clock: FakeClock,
                                                               setup_sections: SetupSections) -> None:
    await setup_sections(fake_hub, **_sections(free_port(), loop_rate=1800, loop_dwell=[2, 4]))
    seen: list[bool] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if new is not None and new.entity_id == "bollard.b_01":
            seen.append(bool(new.attributes.get("loop_occupied")))

    fake_hub.bus.async_listen("state_changed", record)
    await advance(fake_hub, fake_clock, 120, SCAN)
    field = get_simulator(fake_hub).field
    assert field is not None
    assert field.get("B-01").vehicles > 3
    assert True in seen and False in seen  # vehicles came and went over the lowered bollard
    assert field.get("B-02").vehicles == 0  # nobody drives through a raised bollard
    # A vehicle parked on the loop: the hub refuses to raise the bollard under it.
    await fake_hub.services.async_call("simulator", "vehicle_on_loop", {"bollard": "B-03", "seconds": 30})
    await advance(fake_hub, fake_clock, 2 * SCAN, SCAN)
    with pytest.raises(BollardRefused, match="vehicle over bollard B-03"):
        await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_03"})


async def test_faults_happen_at_the_configured_rate_and_get_repaired(
        fake_hub: Hub, fake_clock: FakeClock, setup_sections: SetupSections) -> None:
    # 100 faults per bollard per day: one every ~15 minutes; a technician takes 1-2 minutes. The PLCs
    # alone (no hub polling them), so hours of fake time pass quickly.
    sections = _sections(free_port(), fault_rate=100, repair_time=[60, 120], heartbeat_period=60)
    await setup_sections(fake_hub, simulator=sections["simulator"])
    plc = get_simulator(fake_hub).plc
    assert plc is not None
    faulted_readings = 0
    for _ in range(6 * 60):  # six hours in 60 s steps
        await fake_clock.async_advance(60)
        faulted_readings += sum(plc.store.get_registers(slave, InputType.INPUT, base + IR_STATE)[0] == FAULT
                                for slave, base in plc.bollards)
    field = get_simulator(fake_hub).field
    assert field is not None
    total = sum(item.faults for item in field.bollards.values())
    assert 30 <= total <= 120, total  # 3 bollards x 6 h x ~4/h = 75 expected
    assert 0 < faulted_readings < 3 * 360 / 4  # faulted now and then, repaired within minutes


async def test_a_fault_on_demand_and_its_repair(fake_hub: Hub, fake_clock: FakeClock,
                                                setup_sections: SetupSections) -> None:
    await setup_sections(fake_hub, **_sections(free_port()))
    await advance(fake_hub, fake_clock, 1, SCAN)
    response = await fake_hub.services.async_call(
        "simulator", "bollard_fault", {"bollard": "b-02", "code": "motor_overload", "repair_after": 30},
        return_response=True)
    assert response == {"bollard": "B-02", "code": "motor_overload", "repair_after": 30}
    await advance(fake_hub, fake_clock, 1, SCAN)
    state = fake_hub.states.get("bollard.b_02")
    assert state is not None and state.state == "fault"
    assert state.attributes["fault_code"] == 1
    await advance(fake_hub, fake_clock, 31, SCAN)
    assert _state(fake_hub, "bollard.b_02") == "raised"  # back where it stood
    with pytest.raises(Exception, match="no simulated bollard 'B-99'"):
        await fake_hub.services.async_call("simulator", "bollard_fault", {"bollard": "B-99"})


async def test_no_faults_and_no_traffic_when_the_rates_are_zero(fake_hub: Hub, fake_clock: FakeClock,
                                                                 setup_sections: SetupSections) -> None:
    await setup_sections(fake_hub, simulator=_sections(free_port(), heartbeat_period=60)["simulator"])
    for _ in range(12 * 6):  # half a day in ten-minute steps
        await fake_clock.async_advance(600)
    field = get_simulator(fake_hub).field
    assert field is not None
    assert all(item.faults == 0 and item.vehicles == 0 for item in field.bollards.values())
    assert [item.sim.state.name for item in field.bollards.values()] == ["LOWERED", "RAISED", "LOWERED"]


async def test_the_hospital_meter_on_modbus(fake_hub: Hub, fake_clock: FakeClock,
                                            setup_sections: SetupSections) -> None:
    port = free_port()
    sections = _sections(port)
    sections["simulator"]["energy_meters"] = {"interval": 15, "meters": [
        {"id": "hospital", "profile": "hospital", "base_kw": 650, "peak_kw": 1250, "transport": {"slave": 10}}]}
    modbus = [{"name": "meters", "host": "127.0.0.1", "port": port, "scan_interval": 5, "sensors": [
        {"name": "Hospital power", "slave": 10, "address": 52, "input_type": "input", "data_type": "float32",
         "kind": "power", "source_unit": "W"},
        {"name": "Hospital energy", "slave": 10, "address": 342, "input_type": "input", "data_type": "float32",
         "kind": "energy"}]}]
    await setup_sections(fake_hub, simulator=sections["simulator"], modbus=modbus)
    simulator = get_simulator(fake_hub)
    _slave, model = simulator.modbus_meters["hospital"]
    await advance(fake_hub, fake_clock, 15, 5)
    power = fake_hub.states.get("sensor.hospital_power")
    energy = fake_hub.states.get("sensor.hospital_energy")
    assert power is not None and energy is not None
    assert power.attributes["unit_of_measurement"] == "kW"  # the meter sends W
    assert float(power.state) == pytest.approx(model.power_kw, abs=0.01)
    assert 650 <= float(power.state) <= 1400
    first_energy = float(energy.state)
    await advance(fake_hub, fake_clock, 3600, 15)
    energy = fake_hub.states.get("sensor.hospital_energy")
    assert energy is not None
    assert 650 <= float(energy.state) - first_energy <= 1400  # an hour of a hospital's load, in kWh
