"""Schema migrations: alembic, run programmatically in the recorder thread when the recorder starts.

Each part of the hub owns its tables, their revisions and its own alembic version table:

- the core (states, events, recorder runs, audit log, outbox): ``hub/recorder/alembic/versions/``,
  version table ``alembic_version``;
- an integration: ``integrations/<domain>/migrations/`` (custom integrations and entry points alike,
  found through the loader), version table ``alembic_version_<domain>``;
- a part above the core (the automation engine): its folder, registered with
  ``async_register_version_location`` before the recorder starts (``hub.bootstrap.Component.migrations``)
  or handed to the running recorder (``Recorder.async_add_version_location``).

The core is upgraded first, then the integrations in dependency order (manifest ``dependencies`` and
``after_dependencies``), then the registered folders. A part that is not installed any more leaves its
tables and version table alone, and nobody else trips over its revisions.

Databases made when every revision lived in the core's folder (one ``alembic_version`` holding every
branch's head) are taken over without touching a row: revisions the core does not know are parked in
``alembic_version_unclaimed`` and each owner claims its own from there (its version table is stamped
with them). The alarm tables, which the core's revision 0200 used to create, are adopted by the alarm
integration's first revision.

How an integration adds a table:

1. Declare the model on the shared base, in your own package::

       from hub.recorder.models import Base

       class FloodReading(Base):
           __tablename__ = "flood_readings"
           reading_id: Mapped[int] = mapped_column(Integer, primary_key=True)
           ...

2. Add ``integrations/<domain>/migrations/rNNNN_<what>.py`` (and an empty ``__init__.py``): the first
   revision has ``down_revision = None``, later ones the previous one. In ``upgrade()`` create the
   table with ``op.create_table(...)`` spelling every column out (never ``Base.metadata.create_all``: a
   revision is a frozen snapshot, the model may change later); give constraints and indexes the names
   ``hub.recorder.models.NAMING_CONVENTION`` would give them. ``downgrade()`` drops it.
3. Use the table through ``await get_recorder(hub).async_db_job(fn)``: ``fn(session)`` runs in the
   recorder thread, inside the recorder's transaction, which is committed after ``fn`` returns.

Tests check that a fresh database migrated to the heads matches the models, and that a database made by
the single chain of before upgrades without losing a table or a row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Column, MetaData, String, Table, delete, inspect, select
from sqlalchemy.engine import Connection, Engine

from ..core import Hub, HubKey, callback
from ..loader import discover_integrations

__all__ = [
    "CORE",
    "CORE_LOCATION",
    "CORE_VERSIONS",
    "MIGRATIONS_DIR",
    "SCRIPT_LOCATION",
    "UNCLAIMED_TABLE",
    "VersionLocation",
    "alembic_config",
    "async_register_version_location",
    "current_revisions",
    "head_revisions",
    "integration_version_locations",
    "migrate_connection",
    "migrate_schema",
    "registered_version_locations",
    "version_locations",
]

_LOGGER = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).parent / "alembic"
CORE_VERSIONS = SCRIPT_LOCATION / "versions"
MIGRATIONS_DIR = "migrations"  # an integration's own alembic version folder, beside its manifest.json
CORE = "core"
UNCLAIMED_TABLE = "alembic_version_unclaimed"  # revisions of the single chain of before, until claimed


@dataclass(frozen=True, slots=True)
class VersionLocation:
    """A folder of revisions and who owns it; the owner's version table follows from its name."""

    owner: str
    path: Path

    @property
    def version_table(self) -> str:
        """`alembic_version` for the core, `alembic_version_<owner>` for the others."""
        return "alembic_version" if self.owner == CORE else f"alembic_version_{self.owner}"


CORE_LOCATION = VersionLocation(CORE, CORE_VERSIONS)

_REGISTERED: HubKey[list[VersionLocation]] = HubKey("recorder_version_locations")


@callback
def async_register_version_location(hub: Hub, owner: str, path: Path) -> None:
    """Have the recorder migrate `owner`'s revisions in `path` too (before it starts; see the module doc)."""
    registered = hub.data.setdefault(_REGISTERED, [])
    location = VersionLocation(owner, path)
    if location not in registered:
        registered.append(location)


def registered_version_locations(hub: Hub) -> tuple[VersionLocation, ...]:
    """The folders registered with `async_register_version_location`."""
    return tuple(hub.data.get(_REGISTERED, ()))


def integration_version_locations(config_dir: Path | None = None) -> list[VersionLocation]:
    """The `migrations/` folders of the integrations the loader knows, in dependency order (blocking)."""
    integrations, _ = discover_integrations(config_dir)
    graph = {domain: {dep for dep in (*integration.manifest.dependencies, *integration.manifest.after_dependencies)
                      if dep in integrations}
             for domain, integration in sorted(integrations.items())}
    order = TopologicalSorter(graph).static_order()  # a dependency loop is the loader's to report
    folders = ((domain, integrations[domain].path / MIGRATIONS_DIR) for domain in order)
    return [VersionLocation(domain, folder) for domain, folder in folders if folder.is_dir()]


def version_locations(config_dir: Path | None = None,
                      extra: Iterable[VersionLocation] = ()) -> tuple[VersionLocation, ...]:
    """The core's folder, every integration's (dependency order), then `extra` (blocking)."""
    return tuple(dict.fromkeys([CORE_LOCATION, *integration_version_locations(config_dir), *extra]))


def alembic_config(connection: Connection | None = None, location: VersionLocation = CORE_LOCATION) -> Config:
    """An alembic Config for one owner's revisions and version table, without an alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_locations", str(location.path))
    config.set_main_option("path_separator", "os")
    config.attributes["version_table"] = location.version_table
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revisions(location: VersionLocation = CORE_LOCATION) -> tuple[str, ...]:
    """The newest revision of every branch of one owner's revisions."""
    return tuple(ScriptDirectory.from_config(alembic_config(location=location)).get_heads())


def current_revisions(connection: Connection, location: VersionLocation = CORE_LOCATION) -> tuple[str, ...]:
    """The revisions one owner's tables are at (empty when never migrated)."""
    context = MigrationContext.configure(connection, opts={"version_table": location.version_table})
    return tuple(context.get_current_heads())


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _unclaimed_table() -> Table:
    return Table(UNCLAIMED_TABLE, MetaData(), Column("version_num", String(32), primary_key=True))


def _park_unknown(connection: Connection) -> None:
    """Move the revisions of the core's version table that the core does not know to the unclaimed table."""
    if not inspect(connection).has_table(CORE_LOCATION.version_table):
        return
    script = ScriptDirectory.from_config(alembic_config(location=CORE_LOCATION))
    unknown = [rev for rev in current_revisions(connection) if not _known(script, rev)]
    if not unknown:
        return
    unclaimed = _unclaimed_table()
    unclaimed.create(connection, checkfirst=True)
    core = Table(CORE_LOCATION.version_table, MetaData(), Column("version_num", String(32), primary_key=True))
    connection.execute(unclaimed.insert(), [{"version_num": rev} for rev in unknown])
    connection.execute(delete(core).where(core.c.version_num.in_(unknown)))
    _LOGGER.info("Database revisions %s wait for the parts that own their tables", unknown)


def _claim(connection: Connection, location: VersionLocation) -> None:
    """Stamp a new owner's version table with its revisions parked by `_park_unknown`, if any."""
    if not inspect(connection).has_table(UNCLAIMED_TABLE) or inspect(connection).has_table(location.version_table):
        return
    unclaimed = _unclaimed_table()
    parked = connection.execute(select(unclaimed.c.version_num)).scalars().all()
    script = ScriptDirectory.from_config(alembic_config(location=location))
    mine = [rev for rev in parked if _known(script, rev)]
    if mine:
        command.stamp(alembic_config(connection, location), mine)
        connection.execute(delete(unclaimed).where(unclaimed.c.version_num.in_(mine)))
        _LOGGER.info("Database revisions %s belong to %s", mine, location.owner)


def migrate_connection(connection: Connection, locations: Sequence[VersionLocation] | None = None,
                       target: str = "heads") -> dict[str, tuple[str, ...]]:
    """Upgrade every owner in `locations` (default `version_locations()`) to its heads on `connection`, inside
    its transaction; with another `target` (tests) only the core, to that revision. Returns each owner's
    revisions afterwards."""
    result: dict[str, tuple[str, ...]] = {}
    _park_unknown(connection)
    if target != "heads":
        locations = [CORE_LOCATION]
    for location in version_locations() if locations is None else locations:
        if location.owner != CORE:
            _claim(connection, location)
        before = current_revisions(connection, location)
        command.upgrade(alembic_config(connection, location), target)
        after = result[location.owner] = current_revisions(connection, location)
        if before != after:
            _LOGGER.info("Database tables of %s upgraded from %s to %s", location.owner, before or "empty", after)
    return result


def migrate_schema(engine: Engine, target: str = "heads",
                   locations: Sequence[VersionLocation] | None = None) -> tuple[str, ...]:
    """Upgrade the database (see `migrate_connection`); blocking, run it in the recorder thread.

    Returns the revisions the core's tables are at afterwards.
    """
    with engine.begin() as connection:
        return migrate_connection(connection, locations, target)[CORE]
