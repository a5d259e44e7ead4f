"""Alembic environment and revisions of the hub's database (run programmatically by migration.py)."""
