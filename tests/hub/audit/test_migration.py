"""The audit table (core revision 0200) and the alarm tables (the alarm integration's 0210) are exactly the
models, and the core's revision downgrades cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import integrations.alarm.models  # noqa: F401 - registers the alarm tables on Base
from hub.audit.models import AuditEntry
from hub.recorder.engine import create_db_engine
from hub.recorder.migration import current_revisions, head_revisions, migrate_schema
from hub.recorder.models import Base

TABLES = {"audit_log", "alarms", "alarm_timeline"}


def test_revision_matches_the_models(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        migrate_schema(engine)
        with engine.connect() as conn:
            assert TABLES <= set(inspect(conn).get_table_names())
            assert "0200" in current_revisions(conn) or "0200" not in head_revisions()

            def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                table = obj if type_ == "table" else getattr(obj, "table", None)
                return getattr(table, "name", name) in TABLES  # the other parts' tables have their own tests

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
            assert compare_metadata(context, Base.metadata) == []
        assert AuditEntry.__tablename__ == "audit_log"
    finally:
        engine.dispose()


def test_downgrade_drops_the_tables(tmp_path: Path) -> None:
    from alembic import command

    from hub.recorder.migration import alembic_config

    engine = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        migrate_schema(engine, "0200")
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0002")
        with engine.connect() as conn:
            assert "audit_log" not in set(inspect(conn).get_table_names())
            assert current_revisions(conn) == ("0002",)
    finally:
        engine.dispose()
