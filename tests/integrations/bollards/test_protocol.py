"""Sequence numbers, configuration, and the paths between several bollards and odd PLC readings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.config.validation import validate
from hub.core import Event, Hub
from hub.exceptions import ConfigError, ServiceValidationError
from integrations.bollards import CONFIG_SCHEMA, BollardRefused
from integrations.bollards.plc_sim import BollardPLCSimulator
from integrations.bollards.registers import BollardState, is_newer, next_sequence
from integrations.modbus.const import InputType

from .conftest import OP1, SCAN, TRAVEL, SetupBollards, advance, bollard_config


def test_sequence_numbers_wrap_and_compare_across_the_wrap() -> None:
    assert next_sequence(0) == 1
    assert next_sequence(41) == 42
    assert next_sequence(65535) == 1  # 0 is never used
    assert is_newer(1, 65535)
    assert not is_newer(65535, 1)
    assert not is_newer(7, 7)
    assert not is_newer(6, 7)
    assert is_newer(5, 0)  # after a PLC restart
    assert not is_newer(0, 3)


async def test_sequence_continues_from_the_plc_and_wraps(
    fake_hub: Hub, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    commands = events("bollard_command")
    plc.bollard().last_sequence = 65535  # what the PLC took in before the hub restarted
    plc.bollard().sync()
    await setup_bollards(bollards=[bollard_config(plc)])
    await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b_07"}, context=OP1)
    assert commands[-1].data["sequence"] == 1
    assert plc.bollard().accepted_commands == 1


async def test_emergency_lower_of_several_bollards_does_not_stop_at_a_refusal(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
) -> None:
    plc.bollard().clear_fault(BollardState.RAISED)
    b08 = plc.add_bollard(1, 16, name="B-08", travel_time=TRAVEL, state=BollardState.RAISED)
    await setup_bollards(bollards=[bollard_config(plc), bollard_config(plc, id="B-08", base_address=16)])
    plc.bollard().set_local_mode(True)  # B-07 is being serviced
    with pytest.raises(BollardRefused) as err:
        await fake_hub.services.async_call("bollard", "emergency_lower",
                                           {"entity_id": ["bollard.b_07", "bollard.b_08"]}, context=OP1)
    assert err.value.reason == "local_mode"
    assert b08.accepted_commands == 1
    await advance(fake_hub, fake_clock, TRAVEL)
    assert fake_hub.states.is_state("bollard.b_08", "lowered")
    assert fake_hub.states.is_state("bollard.b_07", "raised")


async def test_contradicting_limit_switches_are_a_fault(
    fake_hub: Hub, fake_clock: FakeClock, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
    events: Callable[[str], list[Event]],
) -> None:
    faults = events("bollard_fault")
    await setup_bollards(bollards=[bollard_config(plc)])
    plc.store.set_registers(1, InputType.DISCRETE_INPUT, 0, [1, 1])  # up and down at once: a broken switch
    await advance(fake_hub, fake_clock, SCAN)
    assert fake_hub.states.is_state("bollard.b_07", "fault")
    assert [e.data["reason"] for e in faults] == ["limit_conflict"]
    with pytest.raises(BollardRefused) as err:
        await fake_hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_07"}, context=OP1)
    assert err.value.reason == "fault"


async def test_service_names_what_is_not_a_bollard(
    fake_hub: Hub, plc: BollardPLCSimulator, setup_bollards: SetupBollards,
) -> None:
    await setup_bollards(bollards=[bollard_config(plc)])
    with pytest.raises(ServiceValidationError, match=r"bollard\.nope: no such bollard"):
        await fake_hub.services.async_call("bollard", "raise", {"entity_id": "bollard.nope"}, context=OP1)


def _bollard(**extra: Any) -> dict[str, Any]:
    return {"id": "B-01", "host": "10.0.0.1", **extra}


def test_defaults() -> None:
    [bollard] = CONFIG_SCHEMA([_bollard()])
    assert bollard["travel_timeout"] == 10
    assert bollard["heartbeat_timeout"] == 5
    assert bollard["require_confirmation"] is False
    assert bollard["slave"] == 1
    assert bollard["base_address"] == 0


@pytest.mark.parametrize(
    ("bollards", "message"),
    [
        ([{"id": "B-01"}], "either 'hub'"),
        ([_bollard(hub="plc")], "either 'hub'"),
        ([_bollard(base_address=5)], "multiple of 16"),
        ([_bollard(scan_interval=3)], "twice scan_interval"),
        ([_bollard(), _bollard()], "used twice"),
        ([_bollard(), _bollard(id="B-02")], "same PLC registers"),
        ([_bollard(travel_timeout="soon")], "travel_timeout"),
    ],
)
def test_bad_configuration_is_refused_with_a_reason(bollards: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate(CONFIG_SCHEMA, bollards, "bollards")
    assert message in " ".join(err.value.errors)
