"""Schema migrations: an old database is upgraded without losing rows; migrations match the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import automations.models  # noqa: F401 - the engine's tables are on Base: they are compared too
from automations.const import MIGRATIONS, MIGRATIONS_OWNER
from hub.core import Hub
from hub.recorder.core import create_db_engine
from hub.recorder.migration import (
    VersionLocation,
    current_revisions,
    head_revisions,
    migrate_schema,
    version_locations,
)
from hub.recorder.models import Base, RecorderRuns

from .conftest import RecorderFactory

T0 = 1_790_000_000.0


def _seed_revision_1(db_url: str) -> None:
    """A database as revision 0001 left it, with data in it."""
    engine = create_db_engine(db_url)
    try:
        assert migrate_schema(engine, "0001") == ("0001",)
        with engine.begin() as conn:
            assert not inspect(conn).has_table("recorder_runs")
            conn.execute(text("INSERT INTO states_meta (entity_id) VALUES ('sensor.gate_1')"))
            conn.execute(text("INSERT INTO state_attributes (hash, shared_attrs) VALUES (1, :doc)"),
                         {"doc": '{"unit":"x"}'})
            meta = conn.execute(text("SELECT metadata_id FROM states_meta")).scalar_one()
            attrs = conn.execute(text("SELECT attributes_id FROM state_attributes")).scalar_one()
            for i, value in enumerate(["closed", "open"]):
                conn.execute(
                    text("INSERT INTO states (metadata_id, state, attributes_id, last_updated_ts, "
                         "origin_idx, context_id, context_user_id) VALUES (:m, :s, :a, :t, 0, :c, 'op_1')"),
                    {"m": meta, "s": value, "a": attrs, "t": T0 + i, "c": f"ctx{i}"},
                )
            conn.execute(
                text("INSERT INTO events (event_type, origin_idx, time_fired_ts, context_id) "
                     "VALUES ('gate_opened', 0, :t, 'ctx1')"),
                {"t": T0 + 1},
            )
    finally:
        engine.dispose()


async def test_upgrade_from_revision_1_keeps_data(hub: Hub, setup_recorder: RecorderFactory,
                                                  db_url: str) -> None:
    await hub.async_add_executor_job(_seed_revision_1, db_url)
    recorder = await setup_recorder()
    assert recorder.connected

    def _state(session: Any) -> tuple[tuple[str, ...], int]:
        return current_revisions(session.connection()), session.query(RecorderRuns).count()

    revisions, runs = await recorder.async_db_job(_state)
    assert set(revisions) == set(head_revisions())
    assert runs == 1  # revision 0002 created recorder_runs and the recorder started a run in it
    history = await recorder.async_get_history(["sensor.gate_1"], 0)
    assert [(s.state, s.attributes, s.context.id) for s in history["sensor.gate_1"]] == [
        ("closed", {"unit": "x"}, "ctx0"), ("open", {"unit": "x"}, "ctx1"),
    ]
    assert [e["context"]["id"] for e in await recorder.async_get_events(["gate_opened"])] == ["ctx1"]
    # new rows go on after the old ones
    hub.states.async_set("sensor.gate_1", "closed", {"unit": "x"})
    history = await recorder.async_get_history(["sensor.gate_1"], 0)
    assert [s.state for s in history["sensor.gate_1"]] == ["closed", "open", "closed"]


def test_migrations_match_the_models(db_url: str) -> None:
    """A fresh database migrated to every head has exactly the tables, columns and indexes of the models
    (a module that adds a model without a revision fails here)."""
    engine = create_db_engine(db_url)
    try:
        migrate_schema(engine, locations=version_locations(None, [VersionLocation(MIGRATIONS_OWNER, MIGRATIONS)]))
        with engine.connect() as conn:
            def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                # tables of modules whose models this test run did not import are not ours to judge
                return not (type_ == "table" and reflected and compare_to is None)

            opts = {"compare_type": True, "include_object": _include}
            context = MigrationContext.configure(conn, opts=opts)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()

