"""Outbox fixtures: a FakeClock hub with a recorder on a SQLite file (or PostgreSQL), restartable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub.clock import FakeClock
from hub.core import Hub
from hub.outbox import DeliveryReport, DeliveryResult, Outbox, OutboxMessage, async_get_outbox
from hub.recorder import async_setup_recorder
from tests.conftest import POSTGRES_URL, require_service

HubFactory = Callable[[], Awaitable[Hub]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file that outlives the hubs of one test."""
    return f"sqlite:///{tmp_path / 'outbox.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped after the test."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"outbox_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("pg_url")
    return url


async def _hubs(config_dir: Path, clock: FakeClock, db_url: str) -> AsyncIterator[HubFactory]:
    hubs: list[Hub] = []

    async def _make() -> Hub:
        hub = Hub(config_dir, clock=clock)
        await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600})
        await hub.async_start()
        hubs.append(hub)
        return hub

    yield _make
    for hub in hubs:
        if not hub.is_stopping:
            await hub.async_stop()


@pytest.fixture
async def hub_factory(config_dir: Path, fake_clock: FakeClock, sqlite_url: str) -> AsyncIterator[HubFactory]:
    """Start hubs on the same FakeClock and SQLite file, one after the other (a restart); all stopped at the end."""
    async for factory in _hubs(config_dir, fake_clock, sqlite_url):
        yield factory


@pytest.fixture
async def any_hub_factory(config_dir: Path, fake_clock: FakeClock, any_db_url: str) -> AsyncIterator[HubFactory]:
    """The same, once on SQLite and once on PostgreSQL."""
    async for factory in _hubs(config_dir, fake_clock, any_db_url):
        yield factory


class FakeDeliverer:
    """A deliverer whose results the test scripts; it records every attempt and every report."""

    def __init__(self) -> None:
        self.results: list[DeliveryResult | asyncio.Future[DeliveryResult]] = []
        self.attempts: asyncio.Queue[OutboxMessage] = asyncio.Queue()
        self.reports: asyncio.Queue[DeliveryReport] = asyncio.Queue()

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        self.attempts.put_nowait(message)
        result = self.results.pop(0) if self.results else DeliveryResult.delivered(200)
        if isinstance(result, asyncio.Future):
            return await result
        return result

    def on_report(self, report: DeliveryReport) -> None:
        self.reports.put_nowait(report)

    async def next_attempt(self) -> OutboxMessage:
        return await asyncio.wait_for(self.attempts.get(), 10)

    async def next_report(self) -> DeliveryReport:
        return await asyncio.wait_for(self.reports.get(), 10)


@pytest.fixture
def deliverer() -> FakeDeliverer:
    """A scripted deliverer."""
    return FakeDeliverer()


def outbox_of(hub: Hub) -> Outbox:
    """The hub's outbox (started on first use)."""
    return async_get_outbox(hub)


async def idle(outbox: Outbox) -> None:
    """Wait until the relay has looked at the table and nothing is in flight."""
    await asyncio.wait_for(outbox.async_wait_idle(), 10)


def fields(message: OutboxMessage, *names: str) -> dict[str, Any]:
    """Selected attributes of a message, for compact assertions."""
    return {name: getattr(message, name) for name in names}
