"""Bollard commands end to end against the simulated PLC: movement, audit events, idempotent retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hub.clock import FakeClock
from hub.core import Event, Hub
from hub.setup import IntegrationState
from integrations.bollards.plc_sim import BollardPLCSimulator
from integrations.bollards.registers import BollardState, Command
from integrations.modbus.client import ModbusClient
from integrations.modbus.const import InputType

from .conftest import OP1, OP2, TRAVEL, SetupBollards, advance, bollard_config

WRITE_MULTIPLE_REGISTERS = 16


def _state(hub: Hub) -> str:
    state = hub.states.get("bollard.b_07")
    assert state is not None
    return state.state


async def test_raise_then_lower_with_who_and_where_recorded(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    commands = events("bollard_command")
    await setup_bollards(bollards=[bollard_config(plc)])
    assert _state(fake_hub) == "lowered"

    response = await fake_hub.services.async_call(
        "bollard", "raise", {"entity_id": "bollard.b_07", "reason": "close Calle Real for the parade"},
        context=OP1, return_response=True,
    )
    assert response is not None
    assert response["bollards"]["bollard.b_07"]["status"] == "sent"
    assert _state(fake_hub) == "raising"
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    assert _state(fake_hub) == "raised"
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None
    assert state.attributes["last_command"] == "raise"
    assert state.attributes["last_command_by"] == "op-ana"
    assert state.attributes["last_command_centre"] == "ccs-ceuta"
    assert state.attributes["loop_occupied"] is False
    assert state.attributes["mode"] == "remote"
    assert state.attributes["faults"] == []

    await fake_hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP2)
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    assert _state(fake_hub) == "lowered"
    assert plc.bollard().moves == 2

    [raised, lowered] = commands
    assert raised.data["command"] == "raise"
    assert raised.data["status"] == "sent"
    assert raised.data["user_id"] == "op-ana"
    assert raised.data["centre"] == "ccs-ceuta"
    assert raised.data["operator_reason"] == "close Calle Real for the parade"
    assert raised.context.user_id == "op-ana"
    assert lowered.data["user_id"] == "op-luis"
    assert lowered.data["centre"] == "ccs-tarajal"
    assert lowered.data["sequence"] == raised.data["sequence"] + 1


async def test_lost_reply_retry_with_same_sequence_moves_once(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
) -> None:
    await setup_bollards(bollards=[bollard_config(plc, timeout=0.2)])
    # The PLC acts on the command but its reply is lost: the client times out and sends it again.
    plc.store.device(1).drop_write_answers = 1
    await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_07"}, context=OP1)
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 2
    assert plc.bollard().accepted_commands == 1
    assert plc.bollard().moves == 1
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    assert _state(fake_hub) == "raised"


async def test_replayed_or_older_sequence_is_ignored_by_the_plc(plc: BollardPLCSimulator) -> None:
    client = ModbusClient("replay", plc.host, plc.port, timeout=0.5)
    try:
        await client.async_write_registers(1, 0, [Command.RAISE, 10])
        await client.async_write_registers(1, 0, [Command.RAISE, 10])  # replay
        await client.async_write_registers(1, 0, [Command.LOWER, 9])  # older
        assert plc.bollard().accepted_commands == 1
        assert plc.bollard().state is BollardState.RAISING
        registers = await client.async_read(1, InputType.INPUT, 0, 6)
        assert registers[2] == 10  # last sequence taken in
        await client.async_write_registers(1, 0, [Command.LOWER, 11])
        assert plc.bollard().accepted_commands == 2
        assert plc.bollard().state is BollardState.LOWERING
    finally:
        client.close()


async def test_emergency_lower_is_never_held_by_the_two_person_rule(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    commands = events("bollard_command")
    plc.bollard().clear_fault(BollardState.RAISED)
    await setup_bollards(bollards=[bollard_config(plc, require_confirmation=True)])
    assert _state(fake_hub) == "raised"
    # An ambulance waits on the loop: lowering is the safe direction, so nothing blocks it.
    plc.bollard().set_loop(True)
    response = await fake_hub.services.async_call(
        "bollard", "emergency_lower", {"entity_id": "bollard.b_07", "reason": "ambulance 061"},
        context=OP1, return_response=True,
    )
    assert response is not None
    assert response["bollards"]["bollard.b_07"]["status"] == "sent"
    assert _state(fake_hub) == "lowering"
    await advance(fake_hub, fake_clock, TRAVEL)
    assert _state(fake_hub) == "lowered"
    [event] = commands
    assert event.data["command"] == "emergency_lower"
    assert event.data["user_id"] == "op-ana"
    assert event.data["confirmed_by"] is None
    assert event.data["operator_reason"] == "ambulance 061"


async def test_emergency_lower_cancels_a_pending_command(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    commands = events("bollard_command")
    plc.bollard().clear_fault(BollardState.RAISED)
    await setup_bollards(bollards=[bollard_config(plc, require_confirmation=True)])
    await fake_hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP1)
    pending_id = commands[0].data["pending_id"]
    await fake_hub.services.async_call("bollard", "emergency_lower", {"entity_id": "bollard.b_07"},
                                       context=OP2)
    assert commands[-1].data["cancelled_pending"] == pending_id
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None and state.attributes["pending_command"] is None
    assert plc.bollard().accepted_commands == 1


async def test_bollard_through_a_configured_modbus_hub(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
) -> None:
    config = bollard_config(plc)
    del config["host"], config["port"], config["timeout"]
    config["hub"] = "plc_centro"
    status = await setup_bollards(
        modbus=[{"name": "plc_centro", "host": plc.host, "port": plc.port, "timeout": 2.0}],
        bollards=[config],
    )
    assert status["bollards"].state is IntegrationState.loaded
    await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_07"}, context=OP1)
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    assert _state(fake_hub) == "raised"


async def test_unknown_modbus_hub_fails_the_setup_with_a_reason(
    plc: BollardPLCSimulator, setup_bollards: SetupBollards,
) -> None:
    config = bollard_config(plc)
    del config["host"]
    config["hub"] = "nowhere"
    status = await setup_bollards(bollards=[config])
    assert status["bollards"].state is IntegrationState.failed
    assert "no modbus hub named 'nowhere'" in (status["bollards"].error or "")


async def test_same_command_twice_at_once_is_written_to_the_plc_once(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    commands = events("bollard_command")
    await setup_bollards(bollards=[bollard_config(plc)])
    call = fake_hub.services.async_call
    first, second = await asyncio.gather(
        call("bollard", "raise", {"entity_id": "bollard.b_07"}, context=OP1, return_response=True),
        call("bollard", "raise", {"entity_id": "bollard.b_07"}, context=OP2, return_response=True),
    )
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 1  # one write reached the PLC
    assert plc.bollard().accepted_commands == 1
    assert first is not None and second is not None
    assert first["bollards"] == second["bollards"]  # the second caller got the first's result
    result = first["bollards"]["bollard.b_07"]
    assert result["status"] == "sent" and result["command_id"]
    assert [(e.data["command"], e.data["command_id"]) for e in commands] == [("raise", result["command_id"])]

    # Within the travel window the same command is still the same one; a different command is not.
    await call("bollard", "raise", {"entity_id": "bollard.b_07"}, context=OP2)
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 1
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    await call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP2)
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 2
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    assert _state(fake_hub) == "lowered"

    # After the travel window (1 s) the same command runs again.
    await advance(fake_hub, fake_clock, 1.0)
    await call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP1)
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 3
