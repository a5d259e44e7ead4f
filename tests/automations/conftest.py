"""Fixtures for the automation tests: a fake-clock hub, a recording service, and a loader for rules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import automations
from hub.clock import FakeClock
from hub.core import Hub, ServiceCall, SupportsResponse, callback


class Calls(list[ServiceCall]):
    """Service calls captured by `test.record` (and `test.reply`, which answers {"echo": data})."""

    def data(self) -> list[dict[str, Any]]:
        """The data of each call, in order."""
        return [dict(call.data) for call in self]


@pytest.fixture
async def hub(config_dir: Path, fake_clock: FakeClock) -> AsyncIterator[Hub]:
    """A hub on a FakeClock, not started yet (tests start it, so hub-start triggers can fire)."""
    instance = Hub(config_dir, clock=fake_clock)
    yield instance
    if not instance.is_stopping:
        await instance.async_stop()


@pytest.fixture
def calls(hub: Hub) -> Calls:
    """Register test.record (a callback) and test.reply (a coroutine that answers)."""
    recorded = Calls()

    @callback
    def record(call: ServiceCall) -> None:
        recorded.append(call)

    async def reply(call: ServiceCall) -> dict[str, Any]:
        recorded.append(call)
        return {"echo": dict(call.data)}

    hub.services.async_register("test", "record", record)
    hub.services.async_register("test", "reply", reply, supports_response=SupportsResponse.OPTIONAL)
    return recorded


Setup = Callable[..., Awaitable[None]]


@pytest.fixture
def setup(hub: Hub) -> Setup:
    """`await setup(automation, ..., scripts={...}, start=True)`: load rules and start the hub."""

    async def _setup(*autos: dict[str, Any], scripts: dict[str, Any] | None = None, start: bool = True) -> None:
        sections: dict[str, Any] = {"automations": list(autos)}
        if scripts is not None:
            sections["script"] = scripts
        await automations.async_setup(hub, sections)
        if start and not hub.is_running:
            await hub.async_start()
        await hub.async_block_till_done()

    return _setup


def record(**data: Any) -> dict[str, Any]:
    """An action step that calls test.record with `data`."""
    return {"action": "test.record", "data": data}


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped after the test."""
    import uuid

    from sqlalchemy import create_engine, text

    from tests.conftest import POSTGRES_URL, require_service
    from tests.hub.recorder.conftest import postgres_schema_url

    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"auto_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
