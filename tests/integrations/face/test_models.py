"""The face tables' migration (r0700) matches integrations/face/models.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import integrations.face.models  # noqa: F401 - registers the tables on Base.metadata
from hub.recorder.core import create_db_engine
from hub.recorder.migration import migrate_schema
from hub.recorder.models import Base


def test_face_migration_matches_the_models(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'hacho.db'}")
    try:
        migrate_schema(engine)
        with engine.connect() as conn:
            def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                return not (type_ == "table" and reflected and compare_to is None)

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
            diff = compare_metadata(context, Base.metadata)
        assert [d for d in diff if "face_" in repr(d)] == []  # other parts' tables are their own tests' concern
        assert any(name.startswith("face_") for name in Base.metadata.tables)
    finally:
        engine.dispose()
