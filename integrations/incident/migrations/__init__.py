"""Alembic revisions of the incident integration's tables (a version location of hub.recorder.migration)."""
