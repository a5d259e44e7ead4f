"""Alembic revisions of the shift log integration's tables (a version location of hub.recorder.migration)."""
