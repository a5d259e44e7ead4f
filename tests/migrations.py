"""One check for the tests of each owner's migrations: a fresh database migrated to the heads has the tables
its models declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hub.recorder.core import create_db_engine
from hub.recorder.migration import migrate_schema
from hub.recorder.models import Base


def schema_differences(directory: Path, *fragments: str) -> list[Any]:
    """Differences between the migrated schema and the models (Base.metadata) naming any of `fragments`
    (other parts' tables are their own tests' concern)."""
    engine = create_db_engine(f"sqlite:///{directory / 'hacho.db'}")
    try:
        migrate_schema(engine)
        with engine.connect() as conn:
            def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                return not (type_ == "table" and reflected and compare_to is None)

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    return [d for d in diff if any(fragment in repr(d) for fragment in fragments)]
