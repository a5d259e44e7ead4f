"""Alembic environment: runs one owner's revisions on the connection hub.recorder.migration hands over."""

from __future__ import annotations

from alembic import context

from hub.recorder.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the hub always passes its connection
    raise RuntimeError("hub.recorder migrations run through hub.recorder.migration.migrate_schema()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=context.config.attributes.get("version_table", "alembic_version"),
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
