"""Recorder fixtures: a database URL per backend (SQLite file, or a throw-away PostgreSQL schema)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub.core import Hub
from hub.recorder import Recorder, async_setup_recorder
from tests.conftest import POSTGRES_URL, require_service

RecorderFactory = Callable[..., Awaitable[Recorder]]


def postgres_schema_url(schema: str) -> str:
    """The test database URL with its search_path set to `schema`."""
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped after the test."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"rec_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test runs against a SQLite file and against PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recorder.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
async def setup_recorder(hub: Hub, db_url: str) -> AsyncIterator[RecorderFactory]:
    """Set up the recorder on `hub` with `db_url` and extra config; a 1 h commit interval by default,
    so only flushes and the stop commit (tests never depend on timing)."""

    async def _setup(**config: Any) -> Recorder:
        return await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600, **config})

    yield _setup
    if not hub.is_stopping:  # before the database goes away: the stop writes what is left
        await hub.async_stop()
