"""The outbox tables as migrated are the tables the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hub.outbox.models import InboxSeen, OutboxRow
from hub.recorder.core import create_db_engine
from hub.recorder.migration import migrate_schema
from hub.recorder.models import Base

OURS = {OutboxRow.__tablename__, InboxSeen.__tablename__}


def test_revision_0300_matches_the_models(any_db_url: str) -> None:
    engine = create_db_engine(any_db_url)
    try:
        migrate_schema(engine)
        with engine.connect() as conn:
            def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                table = obj if type_ == "table" else getattr(obj, "table", None)
                return getattr(table, "name", None) in OURS

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
            assert compare_metadata(context, Base.metadata) == []
            assert OURS <= set(conn.dialect.get_table_names(conn))
    finally:
        engine.dispose()
