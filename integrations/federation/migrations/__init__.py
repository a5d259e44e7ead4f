"""Alembic revisions of the federation integration's tables (a version location of hub.recorder.migration)."""
