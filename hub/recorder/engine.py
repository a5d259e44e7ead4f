"""The recorder's database engine: how a URL becomes an engine (SQLite in WAL, PostgreSQL through psycopg 3),
which errors mean the connection failed, and the URL as logs may show it. CLIs that only read the database
use this without the recorder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

__all__ = ["create_db_engine", "is_connection_error", "redact_url"]


def create_db_engine(db_url: str) -> Engine:
    """An engine for the recorder: SQLite in WAL with synchronous=NORMAL, or PostgreSQL through psycopg 3."""
    url = make_url(db_url)
    if url.drivername == "postgresql":  # the default driver would be psycopg2, which is not installed
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


_CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "DisconnectionError"})


def is_connection_error(err: BaseException) -> bool:
    """Whether an error means the database (connection) failed rather than the data: retry those.

    Matches SQLAlchemy's wrappers and the DB-API classes of any driver by name (sqlite3 and
    psycopg both raise OperationalError for lost connections, locks and shutdowns).
    """
    if getattr(err, "connection_invalidated", False):
        return True
    return any(cls.__name__ in _CONNECTION_ERRORS for cls in type(err).__mro__)


def redact_url(db_url: str) -> str:
    """The URL without its password, for logs."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return db_url.partition("://")[0] + "://..."
