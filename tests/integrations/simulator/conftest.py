"""Fixtures for the simulator: integrations set up through the setup manager, a unique topic prefix, waits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Event, Hub, State, callback
from hub.helpers.event import async_track_state_change_event
from hub.setup import IntegrationState, async_get_setup_manager

SetupSections = Callable[..., Awaitable[None]]


@pytest.fixture
def prefix() -> str:
    """A topic prefix no other test (or parallel run) uses."""
    return f"hacho-test/{uuid.uuid4().hex[:12]}"


async def _setup(hub: Hub, used: list[Hub], sections: dict[str, Any]) -> None:
    manager = async_get_setup_manager(hub)
    status = await manager.async_setup_all(sections)
    used.append(hub)
    await hub.async_block_till_done()
    failed = {d: s.error for d, s in status.items() if s.state is not IntegrationState.loaded}
    assert not failed, f"integrations failed to set up: {failed}"


@pytest.fixture
async def setup_sections() -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """`await setup_sections(hub, mqtt=..., simulator=...)`; everything is unloaded after the test."""
    used: list[Hub] = []

    async def setup(hub: Hub, **sections: Any) -> None:
        await _setup(hub, used, sections)

    yield setup
    for hub in used:
        manager = async_get_setup_manager(hub)
        # The hub's side first, so the simulator's goodbye (empty retained messages) reaches no sensor.
        for domain in [d for d in reversed(manager.loaded()) if d != "simulator"]:
            if domain in manager.loaded():
                await manager.async_unload_integration(domain)
        await manager.async_unload_all()


async def wait_for_state(hub: Hub, entity_id: str, predicate: Callable[[State], bool],
                         timeout: float = 10) -> State:
    """Wait (real time) until the entity exists and satisfies `predicate`."""
    done = asyncio.Event()

    @callback
    def check(_event: Event | None = None) -> None:
        state = hub.states.get(entity_id)
        if state is not None and predicate(state):
            done.set()

    remove = async_track_state_change_event(hub, entity_id, check)
    check()
    try:
        async with asyncio.timeout(timeout):
            await done.wait()
    except TimeoutError:
        pytest.fail(f"{entity_id} never satisfied the condition; it is {hub.states.get(entity_id)}")
    finally:
        remove()
    state = hub.states.get(entity_id)
    assert state is not None
    return state


async def advance(hub: Hub, clock: FakeClock, seconds: float, step: float) -> None:
    """Move fake time in steps, letting each step's network round trips finish."""
    for _ in range(round(seconds / step)):
        await clock.async_advance(step)
        await hub.async_block_till_done()


def number(state: State) -> float:
    return float(state.state)
