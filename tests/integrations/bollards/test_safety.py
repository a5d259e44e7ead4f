"""Every refusal and fault path: the typed error, the audit event, and that the PLC was not commanded."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub.clock import FakeClock
from hub.core import Context, Event, Hub
from hub.exceptions import DeviceUnavailable
from integrations.bollards import BollardRefused
from integrations.bollards.plc_sim import BollardPLCSimulator
from integrations.bollards.registers import BollardState, FaultCode
from integrations.modbus.const import InputType

from .conftest import OP1, OP2, SCAN, TRAVEL, SetupBollards, advance, bollard_config

WRITE_MULTIPLE_REGISTERS = 16


def _state(hub: Hub) -> str:
    state = hub.states.get("bollard.b_07")
    assert state is not None
    return state.state


async def _refused(hub: Hub, service: str, context: Context, **data: object) -> BollardRefused:
    with pytest.raises(BollardRefused) as err:
        await hub.services.async_call("bollard", service, {"entity_id": "bollard.b_07", **data},
                                      context=context)
    return err.value


async def test_raise_refused_with_a_vehicle_over_the_bollard(
    fake_hub: Hub, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    refused = events("bollard_refused")
    await setup_bollards(bollards=[bollard_config(plc)])
    plc.bollard().set_loop(True)  # arrived after the last poll: the hub reads the PLC before deciding
    err = await _refused(fake_hub, "raise", OP1)
    assert str(err) == "refused: vehicle over bollard B-07"
    assert err.reason == "vehicle_on_loop"
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 0
    [event] = refused
    assert event.data["reason"] == "vehicle_on_loop"
    assert event.data["command"] == "raise"
    assert event.data["user_id"] == "op-ana"
    assert event.data["centre"] == "ccs-ceuta"
    assert event.context.user_id == "op-ana"
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None and state.attributes["loop_occupied"] is True
    # Lowering with a vehicle on the loop is fine.
    plc.bollard().clear_fault(BollardState.RAISED)
    await fake_hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP1)
    assert plc.bollard().accepted_commands == 1


async def test_local_mode_refuses_every_remote_command(
    fake_hub: Hub, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    refused = events("bollard_refused")
    await setup_bollards(bollards=[bollard_config(plc)])
    plc.bollard().set_local_mode(True)
    for service in ("raise", "lower", "emergency_lower"):
        err = await _refused(fake_hub, service, OP1)
        assert err.reason == "local_mode"
        assert "local/manual mode" in str(err)
    assert [e.data["command"] for e in refused] == ["raise", "lower", "emergency_lower"]
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 0
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None and state.attributes["mode"] == "local"


async def test_stale_heartbeat_is_a_fault_and_refuses_commands_but_not_emergency_lower(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    faults = events("bollard_fault")
    await setup_bollards(bollards=[bollard_config(plc)])
    plc.freeze_heartbeat(1)
    await advance(fake_hub, fake_clock, 0.4)
    assert _state(fake_hub) == "lowered"  # within heartbeat_timeout (0.5 s)
    await advance(fake_hub, fake_clock, 0.3)
    assert _state(fake_hub) == "fault"
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None
    assert state.attributes["heartbeat_age"] == 0  # ages under 2 s read 0 (no state churn)
    await advance(fake_hub, fake_clock, 1.6)
    assert [e.data["reason"] for e in faults] == ["heartbeat_stale"]  # fired once, on the way in
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None
    assert state.attributes["faults"] == ["heartbeat_stale"]
    assert state.attributes["heartbeat_age"] == 2

    err = await _refused(fake_hub, "raise", OP1)
    assert err.reason == "heartbeat_stale"
    await fake_hub.services.async_call("bollard", "emergency_lower", {"entity_id": "bollard.b_07"},
                                       context=OP1)
    assert plc.bollard().accepted_commands == 1

    plc.freeze_heartbeat(1, frozen=False)
    await advance(fake_hub, fake_clock, 0.3)
    assert _state(fake_hub) == "lowered"


async def test_two_person_rule_pending_then_confirmed_by_another_user(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    commands = events("bollard_command")
    refused = events("bollard_refused")
    await setup_bollards(bollards=[bollard_config(plc, require_confirmation=True)])
    response = await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_07"},
                                                  context=OP1, return_response=True)
    assert response is not None
    pending = response["bollards"]["bollard.b_07"]
    assert pending["status"] == "pending_confirmation"
    assert pending["requested_by"] == "op-ana"
    pending_id = pending["pending_id"]
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 0
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None
    assert state.state == "lowered"
    assert state.attributes["pending_command"]["id"] == pending_id

    # A second command while one is pending is refused.
    err = await _refused(fake_hub, "lower", OP2)
    assert err.reason == "pending_confirmation"
    # The one who asked cannot confirm.
    err = await _refused(fake_hub, "confirm", OP1, pending_id=pending_id)
    assert err.reason == "same_user"
    # Nor can an anonymous caller, nor a wrong id.
    err = await _refused(fake_hub, "confirm", Context(), pending_id=pending_id)
    assert err.reason == "unidentified_user"
    err = await _refused(fake_hub, "confirm", OP2, pending_id="0000")
    assert err.reason == "no_pending"
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 0

    await fake_hub.services.async_call("bollard", "confirm",
                                       {"entity_id": "bollard.b_07", "pending_id": pending_id}, context=OP2)
    assert _state(fake_hub) == "raising"
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    assert _state(fake_hub) == "raised"
    state = fake_hub.states.get("bollard.b_07")
    assert state is not None
    assert state.attributes["last_command_by"] == "op-ana"
    assert state.attributes["last_command_confirmed_by"] == "op-luis"
    assert [e.data["status"] for e in commands] == ["pending_confirmation", "sent"]
    sent = commands[-1]
    assert sent.data["requested_by"] == "op-ana"
    assert sent.data["confirmed_by"] == "op-luis"
    assert sent.data["centre"] == "ccs-tarajal"
    assert [e.data["reason"] for e in refused] == [
        "pending_confirmation", "same_user", "unidentified_user", "no_pending"]
    assert refused[1].data["user_id"] == "op-ana"


async def test_two_person_rule_expiry_and_unidentified_requester(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    refused = events("bollard_refused")
    await setup_bollards(bollards=[bollard_config(plc, require_confirmation=True, confirmation_timeout=0.5)])
    err = await _refused(fake_hub, "raise", Context())
    assert err.reason == "unidentified_user"
    response = await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_07"},
                                                  context=OP1, return_response=True)
    assert response is not None
    pending_id = response["bollards"]["bollard.b_07"]["pending_id"]
    await advance(fake_hub, fake_clock, 0.6)
    assert refused[-1].data["reason"] == "confirmation_expired"
    assert refused[-1].data["user_id"] == "op-ana"
    err = await _refused(fake_hub, "confirm", OP2, pending_id=pending_id)
    assert err.reason == "no_pending"
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 0


async def test_confirmation_rechecks_the_loop(
    fake_hub: Hub, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
) -> None:
    await setup_bollards(bollards=[bollard_config(plc, require_confirmation=True)])
    response = await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_07"},
                                                  context=OP1, return_response=True)
    assert response is not None
    plc.bollard().set_loop(True)  # a car drives onto the loop while the second operator reads the screen
    pending_id = response["bollards"]["bollard.b_07"]["pending_id"]
    err = await _refused(fake_hub, "confirm", OP2, pending_id=pending_id)
    assert err.reason == "vehicle_on_loop"
    assert plc.store.request_count(1, WRITE_MULTIPLE_REGISTERS) == 0


async def test_travel_timeout_is_a_fault_with_an_event_until_the_next_command(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    faults = events("bollard_fault")
    await setup_bollards(bollards=[bollard_config(plc)])
    plc.bollard().jam()
    await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_07"}, context=OP1)
    await advance(fake_hub, fake_clock, 0.9)
    assert _state(fake_hub) == "raising"
    await advance(fake_hub, fake_clock, 0.2)
    assert _state(fake_hub) == "fault"
    [event] = faults
    assert event.data["reason"] == "travel_timeout"
    assert event.data["last_command"] == "raise"
    assert event.data["last_command_by"] == "op-ana"
    assert event.context.user_id == "op-ana"
    await advance(fake_hub, fake_clock, 0.5)
    assert _state(fake_hub) == "fault"  # latched while the PLC still says "raising"

    plc.bollard().jam(False)
    await fake_hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP2)
    await advance(fake_hub, fake_clock, TRAVEL + 0.1)
    assert _state(fake_hub) == "lowered"


async def test_plc_fault_is_a_fault_refuses_raise_and_allows_emergency_lower(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    faults = events("bollard_fault")
    plc.bollard().clear_fault(BollardState.RAISED)
    await setup_bollards(bollards=[bollard_config(plc)])
    plc.bollard().set_fault(FaultCode.HYDRAULIC_PRESSURE_LOW)
    await advance(fake_hub, fake_clock, SCAN)
    assert _state(fake_hub) == "fault"
    [event] = faults
    assert event.data["reason"] == "plc_fault"
    assert event.data["fault_code"] == FaultCode.HYDRAULIC_PRESSURE_LOW
    assert "hydraulic_pressure_low" in event.data["message"]
    err = await _refused(fake_hub, "raise", OP1)
    assert err.reason == "fault"
    await fake_hub.services.async_call("bollard", "emergency_lower", {"entity_id": "bollard.b_07"},
                                       context=OP1)
    await advance(fake_hub, fake_clock, TRAVEL)
    assert _state(fake_hub) == "lowered"


async def test_plc_not_answering_is_unavailable_refuses_and_recovers(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    faults = events("bollard_fault")
    await setup_bollards(bollards=[bollard_config(plc, timeout=0.1)])
    plc.set_responding(1, False)
    await advance(fake_hub, fake_clock, 2 * SCAN)
    assert _state(fake_hub) == "unavailable"
    assert [e.data["reason"] for e in faults] == ["comm_failure"]
    err = await _refused(fake_hub, "emergency_lower", OP1)
    assert err.reason == "unavailable"
    assert "not answering" in str(err)
    plc.set_responding(1, True)
    await advance(fake_hub, fake_clock, SCAN)
    assert _state(fake_hub) == "lowered"


async def test_plc_rejection_is_reported_when_the_key_turns_at_the_last_moment(
    fake_hub: Hub, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    refused = events("bollard_refused")
    await setup_bollards(bollards=[bollard_config(plc)])

    def key_turned(slave: int, table: InputType, address: int, values: list[int] | list[bool]) -> None:
        plc.bollard().local_mode = True  # between the hub's check and the PLC's own

    plc.store.write_hooks.insert(0, key_turned)
    err = await _refused(fake_hub, "raise", OP1)
    assert err.reason == "plc_rejected"
    assert str(err) == "refused: the PLC of bollard B-07 rejected the command (local_mode)"
    assert plc.bollard().moves == 0
    assert [e.data["reason"] for e in refused] == ["plc_rejected"]


async def test_command_write_failure_is_a_fault_and_a_typed_error(
    fake_hub: Hub, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    faults = events("bollard_fault")
    await setup_bollards(bollards=[bollard_config(plc, timeout=0.1)])
    plc.store.device(1).drop_write_answers = 5  # every reply lost, also the retry's
    with pytest.raises(DeviceUnavailable, match="not confirmed"):
        await fake_hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP1)
    assert faults[-1].data["reason"] == "comm_failure"
    assert faults[-1].data["user_id"] == "op-ana"
