"""Hotlists: entries with priority, reason, source and expiry; CSV import; fuzzy matching; stored in the
recorder database (kept in memory too, so matching never waits for the disk)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.core import Hub
from hub.exceptions import HubError, ServiceValidationError

from .config import ListConfig
from .formats import normalize
from .matching import PlateIndex
from .models import AnprHotlistEntry
from .privacy import redact

__all__ = ["HotlistEntry", "HotlistMatch", "Hotlists", "parse_csv", "parse_expiry"]

_LOGGER = logging.getLogger(__name__)

CSV_COLUMNS = ("plate", "list", "priority", "reason", "source", "expires")
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True, slots=True)
class HotlistEntry:
    """One plate on one list."""

    list_id: str
    plate: str
    priority: int
    reason: str | None = None
    source: str | None = None
    expires_ts: float | None = None
    created_ts: float = 0.0
    updated_ts: float = 0.0

    def expired(self, now: float) -> bool:
        return self.expires_ts is not None and self.expires_ts <= now

    def as_dict(self) -> dict[str, Any]:
        return {"list": self.list_id, "plate": self.plate, "priority": self.priority, "reason": self.reason,
                "source": self.source, "expires": _iso(self.expires_ts), "created": _iso(self.created_ts),
                "updated": _iso(self.updated_ts)}


@dataclass(frozen=True, slots=True)
class HotlistMatch:
    """A read that matched an entry, and how far apart they were."""

    list: ListConfig
    entry: HotlistEntry
    distance: float


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def parse_expiry(value: Any, now: float) -> float | None:
    """An expiry as a timestamp: None/'' (never), a timestamp, an ISO date (expires at the end of that
    day, UTC) or datetime (UTC unless it says), or a duration like '12h', '30d', '45m'."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() + 86400
    text = str(value).strip()
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return now + float(text[:-1]) * units[text[-1]]
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + 86400
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date, a date-time or a duration like 12h/30d: {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_csv(text: str, lists: Mapping[str, ListConfig], now: float, *, default_list: str | None = None,
              source: str | None = None, name: str = "csv") -> list[HotlistEntry]:
    """Entries from CSV text with a header (plate, and list, priority, reason, source, expires as needed).

    Raises ServiceValidationError listing every bad line as `name:line: what` (nothing is imported).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "plate" not in header:
        raise ServiceValidationError(f"{name}:1: the header must name a 'plate' column (got {header})")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ServiceValidationError(f"{name}:1: unknown column {unknown[0]!r} (expected {', '.join(CSV_COLUMNS)})")
    reader.fieldnames = header
    entries: list[HotlistEntry] = []
    errors: list[str] = []
    for row in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            errors.append(f"{name}:{line}: more fields than columns")
            continue
        if not any(values.values()):
            continue
        try:
            entries.append(_entry_from_row(values, lists, now, default_list, source))
        except ValueError as err:
            errors.append(f"{name}:{line}: {err}")
    if errors:
        more = f" (and {len(errors) - MAX_REPORTED_ERRORS} more)" if len(errors) > MAX_REPORTED_ERRORS else ""
        raise ServiceValidationError("; ".join(errors[:MAX_REPORTED_ERRORS]) + more)
    return entries


def _entry_from_row(values: dict[str, str], lists: Mapping[str, ListConfig], now: float,
                    default_list: str | None, source: str | None) -> HotlistEntry:
    plate = normalize(values.get("plate", ""))
    if not 2 <= len(plate) <= 16:
        raise ValueError(f"'plate': expected 2 to 16 letters and digits, got {values.get('plate', '')!r}")
    list_id = values.get("list") or default_list
    if not list_id:
        raise ValueError("'list': no list given and no default list")
    if list_id not in lists:
        raise ValueError(f"'list': no list {list_id!r} (configured: {', '.join(sorted(lists)) or 'none'})")
    priority = lists[list_id].priority
    if values.get("priority"):
        try:
            priority = int(values["priority"])
        except ValueError:
            raise ValueError(f"'priority': expected an integer 1-9, got {values['priority']!r}") from None
        if not 1 <= priority <= 9:
            raise ValueError(f"'priority': expected an integer 1-9, got {priority}")
    try:
        expires = parse_expiry(values.get("expires"), now)
    except ValueError as err:
        raise ValueError(f"'expires': {err}") from None
    return HotlistEntry(list_id, plate, priority, values.get("reason") or None,
                        values.get("source") or source, expires, now, now)


class Hotlists:
    """Every list's entries: in memory for matching, persisted through the recorder when it runs."""

    def __init__(self, hub: Hub, lists: Iterable[ListConfig], max_distance: float, confusion_cost: float) -> None:
        self.hub = hub
        self.lists = {lst.id: lst for lst in lists}
        self.max_distance = max_distance
        self.confusion_cost = confusion_cost
        depth = max([int(max_distance), *(int(lst.max_distance or 0) for lst in self.lists.values())])
        self._entries: dict[tuple[str, str], HotlistEntry] = {}
        self._lists_by_plate: dict[str, set[str]] = {}
        self._index = PlateIndex(depth=max(depth, 1))

    # ---- memory

    def _put(self, entry: HotlistEntry) -> None:
        self._entries[(entry.list_id, entry.plate)] = entry
        self._lists_by_plate.setdefault(entry.plate, set()).add(entry.list_id)
        self._index.add(entry.plate)

    def _drop(self, list_id: str, plate: str) -> bool:
        if self._entries.pop((list_id, plate), None) is None:
            return False
        owners = self._lists_by_plate.get(plate, set())
        owners.discard(list_id)
        if not owners:
            self._lists_by_plate.pop(plate, None)
            self._index.discard(plate)
        return True

    def get(self, list_id: str, plate: str) -> HotlistEntry | None:
        """One list's entry for a plate, or None."""
        return self._entries.get((list_id, plate))

    def entries(self, list_id: str | None = None) -> list[HotlistEntry]:
        """Entries of one list (or all), by plate."""
        return sorted((e for e in self._entries.values() if list_id is None or e.list_id == list_id),
                      key=lambda e: (e.list_id, e.plate))

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(self.lists, 0)
        for list_id, _plate in self._entries:
            out[list_id] = out.get(list_id, 0) + 1
        return out

    def match(self, plate: str, now: float) -> list[HotlistMatch]:
        """Entries a read matches (confusion-tolerant, within each list's distance), most urgent first."""
        text = normalize(plate)
        widest = max([self.max_distance, *(lst.max_distance or 0 for lst in self.lists.values())])
        found: list[HotlistMatch] = []
        for candidate in self._index.search(text, widest, self.confusion_cost):
            for list_id in self._lists_by_plate.get(candidate.key, ()):
                lst = self.lists.get(list_id)
                entry = self._entries.get((list_id, candidate.key))
                if lst is None or entry is None or entry.expired(now):
                    continue
                limit = lst.max_distance if lst.max_distance is not None else self.max_distance
                if candidate.distance <= limit + 1e-9:
                    found.append(HotlistMatch(lst, entry, candidate.distance))
        found.sort(key=lambda m: (m.entry.priority, m.distance, m.list.id))
        return found

    # ---- persistence

    async def _async_db(self, fn: Any) -> Any:
        from hub.recorder import get_recorder

        try:
            recorder = get_recorder(self.hub)
        except HubError:
            return None
        if not recorder.is_running:
            return None
        return await recorder.async_db_job(fn)

    async def async_load(self) -> int:
        """Load entries from the database (none without a recorder); returns how many."""
        def _load(session: Session) -> list[HotlistEntry]:
            return [HotlistEntry(r.list_id, r.plate, r.priority, r.reason, r.source, r.expires_ts, r.created_ts,
                                 r.updated_ts) for r in session.scalars(select(AnprHotlistEntry))]

        try:
            rows = await self._async_db(_load)
        except HubError as err:
            _LOGGER.warning("anpr: cannot load hotlists from the database: %s", err)
            rows = None
        for entry in rows or []:
            if entry.list_id in self.lists:
                self._put(entry)
        return len(self._entries)

    async def async_upsert(self, entries: list[HotlistEntry]) -> tuple[int, int]:
        """Add or replace entries; returns (added, updated)."""
        for entry in entries:
            if entry.list_id not in self.lists:
                raise ServiceValidationError(f"No hotlist {entry.list_id!r}")
        now = self.hub.clock.time()
        stamped = []
        added = updated = 0
        for entry in entries:
            old = self._entries.get((entry.list_id, entry.plate))
            created = old.created_ts if old else (entry.created_ts or now)
            stamped.append(replace(entry, created_ts=created, updated_ts=now))
            added += old is None
            updated += old is not None

        def _save(session: Session) -> None:
            for entry in stamped:
                row = session.scalars(select(AnprHotlistEntry).where(
                    AnprHotlistEntry.list_id == entry.list_id, AnprHotlistEntry.plate == entry.plate)).first()
                if row is None:
                    row = AnprHotlistEntry(list_id=entry.list_id, plate=entry.plate)
                    session.add(row)
                row.priority = entry.priority
                row.reason = entry.reason
                row.source = entry.source
                row.expires_ts = entry.expires_ts
                row.created_ts = entry.created_ts
                row.updated_ts = entry.updated_ts

        await self._async_db(_save)
        for entry in stamped:
            self._put(entry)
            _LOGGER.debug("anpr: %s on list %s", redact(entry.plate), entry.list_id)
        return added, updated

    async def async_remove(self, list_id: str, plate: str) -> bool:
        """Remove one entry; False when it was not there."""
        plate = normalize(plate)

        def _delete(session: Session) -> None:
            session.execute(delete(AnprHotlistEntry).where(AnprHotlistEntry.list_id == list_id,
                                                           AnprHotlistEntry.plate == plate))

        await self._async_db(_delete)
        return self._drop(list_id, plate)

    async def async_purge_expired(self) -> int:
        """Drop expired entries (memory and database); returns how many."""
        now = self.hub.clock.time()
        expired = [e for e in self._entries.values() if e.expired(now)]

        def _delete(session: Session) -> None:
            session.execute(delete(AnprHotlistEntry).where(AnprHotlistEntry.expires_ts.is_not(None),
                                                           AnprHotlistEntry.expires_ts <= now))

        if expired:
            await self._async_db(_delete)
        for entry in expired:
            self._drop(entry.list_id, entry.plate)
        return len(expired)

    def entry_from_data(self, data: Mapping[str, Any]) -> HotlistEntry:
        """An entry from a service call or REST body (validated): list, plate, priority, reason, source,
        expires."""
        list_id = data["list"]
        if list_id not in self.lists:
            raise ServiceValidationError(f"'list': no hotlist {list_id!r} "
                                         f"(configured: {', '.join(sorted(self.lists)) or 'none'})")
        plate = normalize(str(data["plate"]))
        if not 2 <= len(plate) <= 16:
            raise ServiceValidationError(f"'plate': expected 2 to 16 letters and digits, got {data['plate']!r}")
        now = self.hub.clock.time()
        try:
            expires = parse_expiry(data.get("expires"), now)
        except ValueError as err:
            raise ServiceValidationError(f"'expires': {err}") from None
        if expires is None and data.get("ttl") is not None:
            ttl = data["ttl"]
            expires = now + (ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl))
        priority = int(data.get("priority") or self.lists[list_id].priority)
        return HotlistEntry(list_id, plate, priority, data.get("reason"), data.get("source"), expires, now, now)
