"""Fixtures: a simulated bollard PLC on a free port, driven by the hub's FakeClock, and set-up helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Context, Event, Hub, callback
from hub.setup import IntegrationState, async_get_setup_manager
from integrations.bollards.plc_sim import BollardPLCSimulator

SCAN = 0.1  # the bollards' scan interval in these tests
TRAVEL = 0.2  # the simulated bollard's travel time
OP1 = Context(user_id="op-ana", centre="ccs-ceuta")
OP2 = Context(user_id="op-luis", centre="ccs-tarajal")

SetupBollards = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def plc(fake_hub: Hub) -> AsyncIterator[BollardPLCSimulator]:
    """A PLC (slave 1) with bollard B-07 at base 0, lowered; it moves in 0.2 s of fake time."""
    sim = BollardPLCSimulator(clock=fake_hub.clock, heartbeat_period=0.1)
    sim.add_bollard(1, 0, name="B-07", travel_time=TRAVEL)
    await sim.async_start()
    yield sim
    await sim.async_stop()


def bollard_config(plc: BollardPLCSimulator, **extra: Any) -> dict[str, Any]:
    """B-07 straight on the simulated PLC, with short timings (fake clock). Tests where the PLC stays
    silent pass a short Modbus `timeout`; a generous one elsewhere keeps a loaded CI machine honest."""
    return {"id": "B-07", "name": "Calle Real north", "host": plc.host, "port": plc.port, "timeout": 2.0,
            "scan_interval": SCAN, "heartbeat_timeout": 0.5, "travel_timeout": 1, "area": "calle_real",
            **extra}


@pytest.fixture
async def setup_bollards(fake_hub: Hub) -> AsyncIterator[SetupBollards]:
    """`await setup_bollards(sections)` sets integrations up through the hub's setup manager (modbus
    comes first as a dependency); everything is unloaded after the test, before the PLC stops."""
    manager = async_get_setup_manager(fake_hub)

    async def _setup(**sections: Any) -> dict[str, Any]:
        status = await manager.async_setup_all(sections)
        await fake_hub.async_block_till_done()
        return status

    yield _setup
    if manager.status.get("modbus") and manager.status["modbus"].state is IntegrationState.loaded:
        await manager.async_unload_integration("modbus")  # unloads bollards first


async def advance(hub: Hub, clock: FakeClock, seconds: float) -> None:
    """Move fake time in scan-interval steps, letting each poll's network round trip finish."""
    for _ in range(round(seconds / SCAN)):
        await clock.async_advance(SCAN)
        await hub.async_block_till_done()


@pytest.fixture
def events(fake_hub: Hub) -> Callable[[str], list[Event]]:
    """`events("bollard_command")` starts recording that event type and returns the live list."""
    recorded: dict[str, list[Event]] = {}

    def _listen(event_type: str) -> list[Event]:
        if event_type not in recorded:
            recorded[event_type] = []

            @callback
            def _record(event: Event) -> None:
                recorded[event_type].append(event)

            fake_hub.bus.async_listen(event_type, _record)
        return recorded[event_type]

    return _listen
