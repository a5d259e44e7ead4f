"""Each part owns its tables (version folders per integration); a database made by the single chain of before
upgrades to that layout without losing a table or a row (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from automations.const import MIGRATIONS, MIGRATIONS_OWNER
from hub.core import Hub
from hub.recorder.core import create_db_engine
from hub.recorder.migration import (
    CORE_VERSIONS,
    UNCLAIMED_TABLE,
    VersionLocation,
    async_register_version_location,
    current_revisions,
    head_revisions,
    integration_version_locations,
    migrate_connection,
    migrate_schema,
    version_locations,
)
from integrations.alarm.evidence import load_alarm

from .conftest import RecorderFactory

ENGINE = VersionLocation(MIGRATIONS_OWNER, MIGRATIONS)
T0 = 1_790_000_000.0
OWNED = {"anpr": {"anpr_hotlist_entries", "anpr_reads", "anpr_hits"}, "alarm": {"alarms", "alarm_timeline"},
         "federation": {"federation_stream", "federation_peer", "federation_sent", "federation_remote_state",
                        "federation_remote_alarm", "federation_actuation"}}


# The single chain of before: every revision in the core's folder, one alembic_version holding the heads of
# its branches (0100 anpr, 0200 audit_log + alarms + alarm_timeline, 0310 outbox, 0350 automations, 0400
# federation). Its revisions' DDL is unchanged in the owners' folders (0200's alarm half is 0210's), so running
# them and writing the version table that chain left reproduces such a database.
LEGACY_HEADS = ("0100", "0200", "0310", "0350", "0400")
# The owners of those revisions; tables of integrations added since (cameras, incidents...) were never in it.
LEGACY_OWNERS = frozenset({"core", "anpr", "alarm", "automations", "federation"})
# Tables that those owners' revisions added after the single chain ended (0920: federation's remote incidents):
# dropped again, so that the upgrade below creates them as it would on such a database.
LATER_TABLES = ("federation_remote_incident",)


def _legacy_database(db_url: str) -> None:
    """A database as the single chain left it, with rows in it."""
    engine = create_db_engine(db_url)
    try:
        with engine.begin() as conn:
            locations = [location for location in version_locations(None, [ENGINE])
                         if location.owner in LEGACY_OWNERS]
            migrate_connection(conn, locations)
            for table in LATER_TABLES:
                conn.execute(text(f"DROP TABLE {table}"))
            for location in locations:
                conn.execute(text(f"DROP TABLE {location.version_table}"))
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                              "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
            for revision in LEGACY_HEADS:
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision})
            _fill(conn)
    finally:
        engine.dispose()


def _fill(conn: Connection) -> None:
    conn.execute(text("INSERT INTO states_meta (entity_id) VALUES ('sensor.gate_1')"))
    conn.execute(text("INSERT INTO events (event_type, origin_idx, time_fired_ts, context_id) "
                      "VALUES ('gate_opened', 0, :t, 'ctx1')"), {"t": T0})
    conn.execute(text("INSERT INTO audit_log (seq, time_ts, action, outcome, data, prev_hash, hash) "
                      "VALUES (1, :t, 'login', 'ok', '{}', :zero, :one)"), {"t": T0, "zero": "0" * 64, "one": "1" * 64})
    conn.execute(text(
        "INSERT INTO alarms (alarm_id, type, severity, state, title, centre, shared, entities, occurrences, "
        "escalation_level, resolve_escalated, raised_ts, updated_ts, data, sop) VALUES ('a1', 'fire', 'critical', "
        "'raised', 'Fire at Monte Hacho', 'national_police', :f, '[\"camera.hacho\"]', 1, 0, :f, :t, :t, '{}', '[]')"),
        {"t": T0, "f": False})
    conn.execute(text("INSERT INTO alarm_timeline (alarm_id, time_ts, kind, text) VALUES ('a1', :t, 'raised', 'x')"),
                 {"t": T0})
    conn.execute(text("INSERT INTO anpr_hotlist_entries (list_id, plate, priority, created_ts, updated_ts) "
                      "VALUES ('stolen', '1234BCD', 1, :t, :t)"), {"t": T0})
    conn.execute(text("INSERT INTO automation_traces (key, run_id, is_error, start_ts, blob) "
                      "VALUES ('automation.gale', 'r1', :f, :t, :b)"), {"f": False, "t": T0, "b": b"trace"})
    conn.execute(text("INSERT INTO federation_stream (name, epoch, seq) VALUES ('states', 'e1', 7)"))


def _snapshot(conn: Connection) -> dict[str, int]:
    """Rows per table (alembic's own table aside)."""
    names = [name for name in inspect(conn).get_table_names() if not name.startswith("alembic_version")]
    return {name: conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one() for name in names}


def test_each_integration_owns_a_version_folder() -> None:
    owners = [location.owner for location in integration_version_locations()]
    assert set(OWNED) <= set(owners)
    assert owners.index("alarm") < owners.index("federation")  # federation depends on alarm: upgraded after it
    core = {path.stem for path in CORE_VERSIONS.glob("r*.py")}
    assert core == {"r0001_initial_schema", "r0002_recorder_runs", "r0200_audit", "r0300_outbox_webhooks",
                    "r0310_outbox_lease_owner"}  # the core's tables only
    for revision in CORE_VERSIONS.glob("r*.py"):
        source = revision.read_text()
        for tables in OWNED.values():
            assert not any(f'create_table(\n        "{table}"' in source for table in tables), revision.name


async def test_a_database_of_the_single_chain_upgrades_without_losing_rows(
        hub: Hub, setup_recorder: RecorderFactory, db_url: str) -> None:
    await hub.async_add_executor_job(_legacy_database, db_url)

    def _before() -> dict[str, int]:
        engine = create_db_engine(db_url)
        try:
            with engine.connect() as conn:
                return _snapshot(conn)
        finally:
            engine.dispose()

    before = await hub.async_add_executor_job(_before)
    assert before["alarms"] == 1 and before["automation_traces"] == 1

    async_register_version_location(hub, MIGRATIONS_OWNER, MIGRATIONS)  # as hacho.bootstrap does for the engine
    recorder = await setup_recorder()
    assert recorder.connected

    def _after(session: Any) -> tuple[dict[str, set[str]], dict[str, int], dict[str, Any] | None, bool]:
        conn = session.connection()
        locations = version_locations(hub.config_dir, [ENGINE])
        revisions = {loc.owner: set(current_revisions(conn, loc)) for loc in locations}
        parked = conn.execute(text(f"SELECT COUNT(*) FROM {UNCLAIMED_TABLE}")).scalar_one()
        return revisions, _snapshot(conn), load_alarm(session, "a1"), parked == 0

    revisions, after, alarm, all_claimed = await recorder.async_db_job(_after)
    expected = {loc.owner: set(head_revisions(loc)) for loc in version_locations(hub.config_dir, [ENGINE])}
    assert revisions == expected and all_claimed  # each owner at its heads, in its own version table
    assert revisions["core"] == {"0200", "0310"}
    assert revisions["alarm"] == {"0210"}  # adopted the tables the core's 0200 used to make
    after["recorder_runs"] -= 1  # the run the recorder started
    assert {table: after.get(table) for table in before} == before  # every table, every row
    assert all(after[table] == 0 for table in set(after) - set(before))  # parts added since: their tables, empty
    assert alarm is not None and alarm["title"] == "Fire at Monte Hacho" and len(alarm["timeline"]) == 1


async def test_a_part_set_up_after_the_recorder_claims_its_revisions(
        hub: Hub, setup_recorder: RecorderFactory, db_url: str) -> None:
    """The engine's revisions are unknown to a recorder started without it: they wait, unclaimed, and the
    engine claims them when it asks the running recorder for its folder."""
    await hub.async_add_executor_job(_legacy_database, db_url)
    recorder = await setup_recorder()
    assert recorder.connected
    await recorder.async_add_version_location(MIGRATIONS_OWNER, MIGRATIONS)

    def _after(session: Any) -> tuple[tuple[str, ...], int]:
        conn = session.connection()
        traces = conn.execute(text("SELECT COUNT(*) FROM automation_traces")).scalar_one()
        return current_revisions(conn, ENGINE), traces

    assert await recorder.async_db_job(_after) == (("0350",), 1)


def test_a_fresh_database_gets_every_owners_tables(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        migrate_schema(engine, locations=version_locations(None, [ENGINE]))
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert set().union(*OWNED.values()) <= tables
            assert {"automation_traces", "automation_durable", "audit_log", "outbox"} <= tables
    finally:
        engine.dispose()


FLOOD_REVISION = '''\
"""A custom integration's first table."""
import sqlalchemy as sa
from alembic import op

revision = "flood_0001"
down_revision = None
branch_labels = ("flood",)
depends_on = None


def upgrade():
    op.create_table("flood_readings", sa.Column("reading_id", sa.Integer, primary_key=True),
                    sa.Column("level_cm", sa.Double, nullable=False))


def downgrade():
    op.drop_table("flood_readings")
'''


async def test_a_custom_integration_brings_its_own_table(hub: Hub, setup_recorder: RecorderFactory,
                                                         config_dir: Path) -> None:
    package = config_dir / "custom_integrations" / "flood"
    (package / "migrations").mkdir(parents=True)
    (package / "manifest.json").write_text('{"domain": "flood", "name": "Flood sensors"}')
    (package / "__init__.py").write_text('"""Flood sensors."""\n')
    (package / "migrations" / "r0001_flood.py").write_text(FLOOD_REVISION)
    recorder = await setup_recorder()
    assert recorder.connected

    def _check(session: Any) -> tuple[bool, tuple[str, ...]]:
        conn = session.connection()
        flood = VersionLocation("flood", package / "migrations")
        return inspect(conn).has_table("flood_readings"), current_revisions(conn, flood)

    assert await recorder.async_db_job(_check) == (True, ("flood_0001",))
