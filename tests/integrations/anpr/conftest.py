"""Fixtures for the ANPR tests: configs with simulated cameras, a set-up integration, event collectors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hub.core import Event, Hub, State, callback
from integrations.anpr import CONFIG_SCHEMA, DATA_KEY, AnprManager, async_setup, async_unload

HASH_KEY = "test-hash-key-0123456789"

SetupAnpr = Callable[..., Awaitable[AnprManager]]


def anpr_config(**overrides: Any) -> dict[str, Any]:
    """A validated `anpr:` config: one list of stolen vehicles, one allow-list, no cameras unless given."""
    raw: dict[str, Any] = {
        "hash_key": HASH_KEY,
        "workers": "thread",
        "lists": [
            {"id": "stolen", "name": "Stolen vehicles", "priority": 1},
            {"id": "port_access", "kind": "allow", "priority": 5, "max_distance": 0.5},
        ],
    }
    raw.update(overrides)
    validated: dict[str, Any] = CONFIG_SCHEMA(raw)
    return validated


def sim_camera(camera_id: str = "tarajal_in", **overrides: Any) -> dict[str, Any]:
    """A simulated camera with no traffic of its own (vehicles only when planted)."""
    return {
        "id": camera_id,
        "name": f"Camera {camera_id}",
        "source": f"sim://{camera_id}?seed=3&rate=0",
        "fps": 8,  # the default detectors (config.DEFAULT_DETECTORS), as a site that names none
        "area": "tarajal",
        "latitude": 35.8728,
        "longitude": -5.3433,
        "direction": "to_border",
        **overrides,
    }


def state_of(hub: Hub, entity_id: str) -> State:
    """The state of an entity that must exist."""
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


def collect(hub: Hub, event_type: str) -> list[Event]:
    """Events of one type, collected inline as they fire."""
    events: list[Event] = []

    @callback
    def _on(event: Event) -> None:
        events.append(event)

    hub.bus.async_listen(event_type, _on)
    return events


@pytest.fixture
async def setup_anpr(hub: Hub) -> AsyncIterator[SetupAnpr]:
    """Set up the integration on the system-clock hub with `anpr_config(**overrides)`; unloaded after."""

    async def _setup(**overrides: Any) -> AnprManager:
        assert await async_setup(hub, anpr_config(**overrides))
        manager: AnprManager = hub.data[DATA_KEY]
        return manager

    yield _setup
    if DATA_KEY in hub.data:
        await async_unload(hub)


@pytest.fixture
async def setup_anpr_fake(fake_hub: Hub) -> AsyncIterator[SetupAnpr]:
    """The same on the FakeClock hub (no cameras: tests feed the lists and advance time)."""

    async def _setup(**overrides: Any) -> AnprManager:
        assert await async_setup(fake_hub, anpr_config(**overrides))
        manager: AnprManager = fake_hub.data[DATA_KEY]
        return manager

    yield _setup
    if DATA_KEY in fake_hub.data:
        await async_unload(fake_hub)


async def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    """Wait until `predicate()` is true (polling), failing with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
