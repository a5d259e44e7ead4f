"""The hash chain: canonical JSON of an entry, its SHA-256, appending rows and verifying the whole chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import AuditEntry

__all__ = [
    "GENESIS_HASH",
    "PendingEntry",
    "VerifyResult",
    "append_entries",
    "canonical_json",
    "entry_hash",
    "row_as_dict",
    "verify_chain",
]

GENESIS_HASH: Final = "0" * 64
VERIFY_BATCH: Final = 1000


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept, no NaN: the same document always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=str)


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An entry waiting to be written (the chain fields are filled in when it is)."""

    time_ts: float
    action: str
    user_id: str | None
    centre: str | None
    context_id: str | None
    target: str | None
    outcome: str
    data: str  # canonical JSON


def entry_hash(seq: int, entry: Any, prev_hash: str) -> str:
    """SHA-256 (hex) over the canonical JSON of the entry's fields, its sequence number and `prev_hash`.

    `entry` is anything with the column attributes: a PendingEntry, an AuditEntry, a result row.
    """
    document = {
        "seq": seq,
        "time_ts": entry.time_ts,
        "action": entry.action,
        "user_id": entry.user_id,
        "centre": entry.centre,
        "context_id": entry.context_id,
        "target": entry.target,
        "outcome": entry.outcome,
        "data": entry.data,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def append_entries(session: Session, entries: Sequence[PendingEntry]) -> int:
    """Add entries after the newest row, chaining each to the one before; returns the last seq.

    Runs in the recorder thread (one writer), inside its transaction.
    """
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (int(last[0]), str(last[1])) if last is not None else (0, GENESIS_HASH)
    rows = []
    for entry in entries:
        seq += 1
        digest = entry_hash(seq, entry, prev)
        rows.append({"seq": seq, "time_ts": entry.time_ts, "action": entry.action, "user_id": entry.user_id,
                     "centre": entry.centre, "context_id": entry.context_id, "target": entry.target,
                     "outcome": entry.outcome, "data": entry.data, "prev_hash": prev, "hash": digest})
        prev = digest
    if rows:
        # Core insert: no ORM objects linger in the recorder's long-lived session
        session.execute(insert(AuditEntry), rows)
    return seq


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of a chain check: how many entries were good, and the first broken one."""

    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS_HASH

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"ok": self.ok, "entries": self.entries, "first_broken": self.first_broken,
                "reason": self.reason, "last_hash": self.last_hash}

    def describe(self) -> str:
        """One line for people."""
        if self.ok:
            return f"Audit chain OK: {self.entries} entries, last hash {self.last_hash[:16]}..."
        return (f"Audit chain BROKEN at entry {self.first_broken}: {self.reason} "
                f"({self.entries} entries before it verify)")


def verify_chain(session: Session) -> VerifyResult:
    """Walk the chain oldest first; stop at the first entry that is missing, re-linked or altered."""
    prev = GENESIS_HASH
    expected = 1
    good = 0
    # Plain rows, not ORM objects: what is in the database, never a cached copy.
    table = AuditEntry.__table__
    rows = session.execute(select(table).order_by(table.c.seq).execution_options(yield_per=VERIFY_BATCH))
    for row in rows:
        if row.seq != expected:
            missing = f"entry {expected}" if row.seq == expected + 1 else f"entries {expected} to {row.seq - 1}"
            return VerifyResult(False, good, row.seq, f"{missing} missing before it", prev)
        if row.prev_hash != prev:
            return VerifyResult(False, good, row.seq,
                                f"its prev_hash does not match the hash of entry {row.seq - 1} "
                                f"(entry {row.seq - 1} or {row.seq} was changed)", prev)
        if entry_hash(row.seq, row, prev) != row.hash:
            return VerifyResult(False, good, row.seq, "its content does not match its hash (changed after it "
                                                      "was written)", prev)
        prev = row.hash
        expected += 1
        good += 1
    return VerifyResult(True, good, None, None, prev)


def row_as_dict(row: Any) -> dict[str, Any]:
    """A stored entry as JSON-able data (its `data` parsed)."""
    def get(key: str) -> Any:
        return row[key] if isinstance(row, Mapping) else getattr(row, key)

    try:
        data = json.loads(get("data"))
    except (TypeError, ValueError):
        data = get("data")
    return {"seq": get("seq"), "time_ts": get("time_ts"), "action": get("action"), "user_id": get("user_id"),
            "centre": get("centre"), "context_id": get("context_id"), "target": get("target"),
            "outcome": get("outcome"), "data": data, "hash": get("hash")}
