"""Schema migrations: alembic, run programmatically in the recorder thread when the recorder starts.

How a later issue adds a table (for example automation traces):

1. Declare the model on the shared base, in your own package::

       from hub.recorder.models import Base

       class AutomationTrace(Base):
           __tablename__ = "automation_traces"
           trace_id: Mapped[int] = mapped_column(Integer, primary_key=True)
           ...

2. Add a revision file to ``hub/recorder/alembic/versions/`` named ``rNNNN_<what>.py`` whose
   ``revision`` is the next number (``"0003"``) and whose ``down_revision`` is the newest revision
   there (run ``hacho``'s tests or ``list_revisions()`` to see it). In ``upgrade()`` create the table
   with ``op.create_table(...)`` spelling every column out (never ``Base.metadata.create_all``: a
   revision is a frozen snapshot, the model may change later); give constraints and indexes the
   names ``hub.recorder.models.NAMING_CONVENTION`` would give them. ``downgrade()`` drops it.
   ``alembic revision --autogenerate`` works too with a throw-away ``alembic.ini`` whose
   ``script_location`` is ``hub/recorder/alembic``.
3. Use the table through ``await get_recorder(hub).async_db_job(fn)``: ``fn(session)`` runs in the
   recorder thread, inside the recorder's transaction, which is committed after ``fn`` returns.

An integration may instead keep its revisions in its own ``integrations/<domain>/migrations/`` folder
(first revision ``down_revision = None`` with ``branch_labels = ("<domain>",)``): those folders are
version locations too, so their revisions are upgraded with the core's (until the per-integration
version tables of the arch-layers work replace this).

Two revisions written at the same time with the same ``down_revision`` make two heads; the
recorder upgrades to all heads, so both apply, and a later merge revision (``alembic merge``) can
join them. Tests check that a fresh database migrated to the heads matches the models.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

__all__ = ["SCRIPT_LOCATION", "alembic_config", "current_revisions", "head_revisions", "migrate_schema"]

_LOGGER = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).parent / "alembic"
INTEGRATIONS_DIR = Path(__file__).resolve().parents[2] / "integrations"


def _version_locations() -> str:
    """The core's revisions folder and every bundled integration's `migrations/` folder."""
    folders = [SCRIPT_LOCATION / "versions", *sorted(p for p in INTEGRATIONS_DIR.glob("*/migrations") if p.is_dir())]
    return os.pathsep.join(str(folder) for folder in folders)


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config pointing at the recorder's revisions, without an alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_locations", _version_locations())
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revisions() -> tuple[str, ...]:
    """The newest revision of every branch of the revision graph."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (empty when it was never migrated)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def migrate_schema(engine: Engine, target: str = "heads") -> tuple[str, ...]:
    """Upgrade the database to `target` (default: every head); blocking, run it in the recorder thread.

    Returns the revisions the database is at afterwards.
    """
    with engine.begin() as connection:
        before = current_revisions(connection)
        command.upgrade(alembic_config(connection), target)
        after = current_revisions(connection)
    if before != after:
        _LOGGER.info("Database schema upgraded from %s to %s", before or "empty", after)
    return after
