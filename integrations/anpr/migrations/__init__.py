"""Alembic revisions of the ANPR integration's tables (a version location of hub.recorder.migration)."""
