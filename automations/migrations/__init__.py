"""Alembic revisions of the automation engine's tables (a version location of hub.recorder.migration)."""
