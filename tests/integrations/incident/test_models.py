"""The incident and shift log tables: revisions r0600 (incident) and r0610 (shift_log) create exactly what the
models declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hub.recorder.core import create_db_engine
from hub.recorder.migration import migrate_schema
from hub.recorder.models import Base
from integrations.incident import models as _incident_models  # noqa: F401 - their tables on Base
from integrations.shift_log import models as _shift_log_models  # noqa: F401


def test_revision_matches_the_models(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'hacho.db'}")
    try:
        migrate_schema(engine)
        with engine.connect() as conn:
            def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                return not (type_ == "table" and reflected and compare_to is None)

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
            diff = compare_metadata(context, Base.metadata)
        assert [d for d in diff if "incident" in repr(d) or "shift_log" in repr(d)] == []
        assert {"incidents", "incident_items", "shift_log"} <= set(Base.metadata.tables)
    finally:
        engine.dispose()
