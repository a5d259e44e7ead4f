"""Alembic revisions of the hub's database, oldest first; see hub/recorder/migration.py."""
