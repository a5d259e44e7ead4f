"""Alembic revisions of the face integration's tables (a version location of hub.recorder.migration)."""
