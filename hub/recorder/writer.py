"""Rows for the recorder: encoded from events in the loop, bulk-inserted by the batch writer in the thread."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

import orjson
from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..const import EVENT_STATE_CHANGED
from ..core import Event, EventOrigin
from .const import ORIGIN_LOCAL, ORIGIN_REMOTE, QUERY_IN_CHUNK, YIELD_EVERY
from .models import Base

__all__ = ["BatchWriter", "Row", "RowEncoder", "json_bytes", "shared_hash"]


_T = TypeVar("_T")

_TABLES = Base.metadata.tables
_STATES = _TABLES["states"]
_STATES_META = _TABLES["states_meta"]
_STATE_ATTRIBUTES = _TABLES["state_attributes"]
_EVENTS = _TABLES["events"]
_EVENT_DATA = _TABLES["event_data"]

_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_MAX_SHARED_CACHE = 8192
_MAX_LAST_ATTRS = 100_000


def _json_default(obj: Any) -> Any:
    """Serialize what orjson does not know: objects with as_dict (State, Context), sets, the rest as str."""
    as_dict = getattr(obj, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    return str(obj)


def json_bytes(obj: Any) -> bytes:
    """Canonical JSON (sorted keys) so equal documents deduplicate to one row."""
    return orjson.dumps(obj, default=_json_default, option=_JSON_OPTIONS)


def shared_hash(shared: bytes) -> int:
    """A stable signed 64-bit hash of a shared JSON document (fits a BIGINT column)."""
    return int.from_bytes(hashlib.blake2b(shared, digest_size=8).digest(), "big", signed=True)


# Pending rows, before ids are resolved:
#   state: (entity_id, state, shared_attrs, last_changed_ts, last_updated_ts, origin,
#           ctx_id, user, parent, centre)
#   event: (event_type, shared_data, origin, time_fired_ts, ctx_id, user, parent, centre)
_PendingState = tuple[str, str | None, bytes | None, float | None, float, int,
                      str | None, str | None, str | None, str | None]
_PendingEvent = tuple[str, bytes | None, int, float, str | None, str | None, str | None, str | None]


_STATE_COLUMNS = ("metadata_id", "state", "attributes_id", "last_changed_ts", "last_updated_ts", "origin_idx",
                  "context_id", "context_user_id", "context_parent_id", "context_centre")
_EVENT_COLUMNS = ("event_type", "data_id", "origin_idx", "time_fired_ts",
                  "context_id", "context_user_id", "context_parent_id", "context_centre")
_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_insert_sql_cache: dict[tuple[str, str], str | None] = {}


def _chunks(rows: list[_T]) -> Iterator[list[_T]]:
    """Slices of YIELD_EVERY rows, releasing the GIL between them so the loop never waits long."""
    for start in range(0, len(rows), YIELD_EVERY):
        if start:
            time.sleep(0)
        yield rows[start:start + YIELD_EVERY]


def _insert_sql(conn: Connection, table: Table, columns: tuple[str, ...]) -> str | None:
    """A plain positional INSERT for the driver, or None when its paramstyle is not positional."""
    dialect = conn.dialect
    key = (dialect.name + dialect.paramstyle, table.name)
    if key not in _insert_sql_cache:
        marker = _MARKERS.get(dialect.paramstyle)
        sql = None
        if marker is not None:
            quote = dialect.identifier_preparer.quote
            sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
                   f"VALUES ({', '.join([marker] * len(columns))})")
        _insert_sql_cache[key] = sql
    return _insert_sql_cache[key]


def _bulk_insert(conn: Connection, table: Table, columns: tuple[str, ...],
                 rows: list[tuple[Any, ...]]) -> None:
    """executemany of positional tuples, inside the session's transaction.

    SQLAlchemy's per-row parameter handling costs more than SQLite's insert itself; PostgreSQL
    through psycopg uses COPY; drivers with a named paramstyle go through Core.
    """
    if conn.dialect.driver == "psycopg":
        _copy_rows(conn, table, columns, rows)
        return
    sql = _insert_sql(conn, table, columns)
    if sql is None:
        conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    # Tuples pass through untouched; SQLAlchemy still wraps driver errors and notices disconnects.
    conn.exec_driver_sql(sql, rows)


def _copy_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: COPY ... FROM STDIN, about ten times faster than a pipelined executemany."""
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    dbapi_connection: Any = conn.connection.dbapi_connection
    with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        write_row = copy.write_row
        for row in rows:
            write_row(row)


class _SharedCache:
    """Maps a shared JSON document to its row id; bounded, oldest entries evicted first."""

    __slots__ = ("ids",)

    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}

    def put(self, shared: bytes, row_id: int) -> None:
        ids = self.ids
        if len(ids) >= _MAX_SHARED_CACHE:
            for key in list(itertools.islice(ids, _MAX_SHARED_CACHE // 4)):
                del ids[key]
        ids[shared] = row_id


_STATE = 0
_EVENT = 1


Row = tuple[Any, ...]


class RowEncoder:
    """Turns an event into a row of plain values (strings, numbers, JSON bytes); runs in the loop.

    A row holds no container the garbage collector tracks, so rows waiting in the queue cost it
    nothing. Attributes are serialized only when they differ from the entity's previous ones.
    """

    def __init__(self) -> None:
        # entity_id -> (attributes mapping, its JSON): identical attributes are not serialized again
        self._last_attrs: dict[str, tuple[Mapping[str, Any], bytes]] = {}

    def encode(self, event: Event) -> Row:
        """A (kind, *row) tuple for BatchWriter.add_row."""
        origin = ORIGIN_REMOTE if event.origin is EventOrigin.remote else ORIGIN_LOCAL
        ctx = event.context
        if event.event_type == EVENT_STATE_CHANGED:
            data = event.data
            entity_id: str = data["entity_id"]
            new = data.get("new_state")
            if new is None:  # removed: a row with a NULL state marks the end of its history
                self._last_attrs.pop(entity_id, None)
                return (_STATE, entity_id, None, None, None, event.time_fired_ts, origin,
                        ctx.id, ctx.user_id, ctx.parent_id, ctx.centre)
            attrs = new.attributes
            shared: bytes | None = None
            if attrs:
                last = self._last_attrs.get(entity_id)
                if last is not None and (last[0] is attrs or last[0] == attrs):
                    shared = last[1]
                else:
                    shared = json_bytes(attrs)
                    if len(self._last_attrs) < _MAX_LAST_ATTRS or entity_id in self._last_attrs:
                        self._last_attrs[entity_id] = (attrs, shared)
            changed = new.last_changed_ts
            updated = new.last_updated_ts
            return (_STATE, entity_id, new.state, shared, None if changed == updated else changed,
                    updated, origin, ctx.id, ctx.user_id, ctx.parent_id, ctx.centre)
        return (_EVENT, event.event_type, json_bytes(event.data) if event.data else None, origin,
                event.time_fired_ts, ctx.id, ctx.user_id, ctx.parent_id, ctx.centre)


class BatchWriter:
    """Collects rows between commits, then writes them with a few executemany statements.

    Attribute and event-data documents are stored once (keyed by hash, content compared) and
    referenced by id; entity ids live in `states_meta`. The id caches are only valid inside
    committed data: call `reset_caches()` after a rollback or a purge.
    """

    def __init__(self) -> None:
        self.states: list[_PendingState] = []
        self.events: list[_PendingEvent] = []
        self._meta_ids: dict[str, int] = {}
        self._attr_ids = _SharedCache()
        self._data_ids = _SharedCache()

    def __len__(self) -> int:
        return len(self.states) + len(self.events)

    def add_row(self, row: Row) -> None:
        """Add a row made by RowEncoder.encode."""
        if row[0] == _STATE:
            self.states.append(row[1:])
        else:
            self.events.append(row[1:])

    def clear(self) -> None:
        """Forget pending rows (after they were committed, or given up)."""
        self.states = []
        self.events = []

    def reset_caches(self) -> None:
        """Forget every cached id (after a rollback, the ids may not exist)."""
        self._meta_ids.clear()
        self.reset_shared_caches()

    def reset_shared_caches(self) -> None:
        """Forget attribute and event-data ids (after a purge removed orphans)."""
        self._attr_ids = _SharedCache()
        self._data_ids = _SharedCache()

    def write(self, session: Session) -> int:
        """Insert every pending row in the session's transaction (not committed). Returns the row count."""
        conn = session.connection()
        count = 0
        if self.states:
            meta_ids = self._resolve_meta_ids(conn, {row[0] for row in self.states})
            attr_ids = self._resolve_shared(
                conn, _STATE_ATTRIBUTES, "attributes_id", "shared_attrs", self._attr_ids,
                {row[2] for row in self.states if row[2] is not None},
            )
            for chunk in _chunks(self.states):
                _bulk_insert(conn, _STATES, _STATE_COLUMNS, [
                    (meta_ids[row[0]], row[1], attr_ids[row[2]] if row[2] is not None else None, *row[3:])
                    for row in chunk
                ])
            count += len(self.states)
        if self.events:
            data_ids = self._resolve_shared(
                conn, _EVENT_DATA, "data_id", "shared_data", self._data_ids,
                {row[1] for row in self.events if row[1] is not None},
            )
            for event_chunk in _chunks(self.events):
                _bulk_insert(conn, _EVENTS, _EVENT_COLUMNS, [
                    (row[0], data_ids[row[1]] if row[1] is not None else None, *row[2:])
                    for row in event_chunk
                ])
            count += len(self.events)
        return count

    def _resolve_meta_ids(self, conn: Connection, entity_ids: Iterable[str]) -> dict[str, int]:
        cache = self._meta_ids
        missing = [entity_id for entity_id in entity_ids if entity_id not in cache]
        if missing:
            self._load_meta_ids(conn, missing)
            new = [entity_id for entity_id in missing if entity_id not in cache]
            if new:
                conn.execute(insert(_STATES_META), [{"entity_id": entity_id} for entity_id in new])
                self._load_meta_ids(conn, new)
        return cache

    def _load_meta_ids(self, conn: Connection, entity_ids: list[str]) -> None:
        table = _STATES_META
        for start in range(0, len(entity_ids), QUERY_IN_CHUNK):
            chunk = entity_ids[start:start + QUERY_IN_CHUNK]
            for entity_id, metadata_id in conn.execute(
                select(table.c.entity_id, table.c.metadata_id).where(table.c.entity_id.in_(chunk))
            ):
                self._meta_ids[entity_id] = metadata_id

    def _resolve_shared(self, conn: Connection, table: Table, id_column: str, text_column: str,
                        cache: _SharedCache, documents: set[bytes]) -> dict[bytes, int]:
        """Ids of shared documents, inserting the ones the database does not have yet."""
        ids = cache.ids
        resolved: dict[bytes, int] = {}
        missing: list[bytes] = []
        for doc in documents:
            row_id = ids.get(doc)
            if row_id is None:
                missing.append(doc)
            else:
                resolved[doc] = row_id
        if not missing:
            return resolved
        hashes = {doc: shared_hash(doc) for doc in missing}
        found = self._load_shared(conn, table, id_column, text_column, hashes)
        new = [doc for doc in missing if doc not in found]
        if new:
            conn.execute(insert(table), [{"hash": hashes[doc], text_column: doc.decode()} for doc in new])
            found.update(self._load_shared(conn, table, id_column, text_column,
                                           {doc: hashes[doc] for doc in new}))
        for doc, row_id in found.items():
            cache.put(doc, row_id)
        resolved.update(found)
        return resolved

    @staticmethod
    def _load_shared(conn: Connection, table: Table, id_column: str, text_column: str,
                     hashes: dict[bytes, int]) -> dict[bytes, int]:
        """Ids of the documents the table already holds (hash lookup, content compared)."""
        by_hash: dict[int, list[bytes]] = {}
        for doc, value in hashes.items():
            by_hash.setdefault(value, []).append(doc)
        wanted = list(by_hash)
        id_col = table.c[id_column]
        text_col = table.c[text_column]
        found: dict[bytes, int] = {}
        for start in range(0, len(wanted), QUERY_IN_CHUNK):
            chunk = wanted[start:start + QUERY_IN_CHUNK]
            for row_id, row_hash, text in conn.execute(
                select(id_col, table.c.hash, text_col).where(table.c.hash.in_(chunk))
            ):
                for doc in by_hash.get(row_hash, ()):
                    if doc not in found and doc.decode() == text:
                        found[doc] = row_id
        return found
