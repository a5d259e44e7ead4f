"""Alembic revisions of the alarm integration's tables (a version location of hub.recorder.migration)."""
