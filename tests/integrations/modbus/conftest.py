"""Fixtures: a pymodbus server on a free port over a datastore the test controls, and hub set-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hub.core import Hub
from integrations.modbus import async_setup, async_unload
from integrations.modbus.server import SimulatedModbusServer

SetupModbus = Callable[..., Awaitable[None]]


@pytest.fixture
async def modbus_server() -> AsyncIterator[SimulatedModbusServer]:
    """A Modbus TCP server on a free port; the test fills `modbus_server.store`."""
    server = SimulatedModbusServer()
    await server.async_start()
    yield server
    await server.async_stop()


def hub_config(server: SimulatedModbusServer, **extra: Any) -> dict[str, Any]:
    """A hub entry pointing at the test server. Tests where a slave stays silent pass a short
    `timeout`; the others keep a generous one so a loaded CI machine never fails a good answer."""
    return {"name": "test", "host": server.host, "port": server.port, "timeout": 2.0, "retries": 0,
            **extra}


@pytest.fixture
async def setup_modbus(fake_hub: Hub) -> AsyncIterator[SetupModbus]:
    """`await setup_modbus(hub_entry, ...)` sets the integration up as the loader does and waits for
    the first poll; the integration is unloaded after the test (before the server stops)."""
    loaded = False

    async def _setup(*hubs: dict[str, Any]) -> None:
        nonlocal loaded
        assert await async_setup(fake_hub, list(hubs))
        loaded = True
        await fake_hub.async_block_till_done()

    yield _setup
    if loaded:
        await async_unload(fake_hub)
