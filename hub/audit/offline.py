"""Audit entries written without a running hub: the CLI's user and token changes.

`record_offline` appends one entry to the same hash-chained `audit_log` table the hub writes (the
recorder's migrations create the tables if the hub has not run yet). A hub writing at the same moment
cannot fork the chain: `seq` is the primary key, so one of the two inserts fails and is retried after
the new last entry.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..exceptions import HubError
from ..recorder.migration import migrate_schema
from .chain import PendingEntry, append_entries, canonical_json
from .log import redact

__all__ = ["ACTION_TOKEN_CHANGE", "ACTION_USER_CHANGE", "audit_cli_change", "cli_actor", "record_offline"]

ACTION_USER_CHANGE: Final = "user_change"
ACTION_TOKEN_CHANGE: Final = "token_change"
ATTEMPTS: Final = 5


def cli_actor() -> str:
    """Who runs the command: `cli:<login name of the operating-system account>`."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return f"cli:{name}"[:64]


def record_offline(config_dir: str | Path, action: str, *, target: str, outcome: str = "ok",
                   data: Mapping[str, Any] | None = None, centre: str | None = None,
                   db_url: str | None = None) -> int:
    """Append one entry for a change made from the command line; returns its seq. Raises HubError
    when the database cannot be written (the caller says the change was not audited)."""
    from ..recorder.engine import create_db_engine
    from .cli import database_url

    entry = PendingEntry(time_ts=round(time.time(), 6), action=action[:64], user_id=cli_actor(), centre=centre,
                         context_id=None, target=target[:255], outcome=outcome[:32],
                         data=canonical_json(redact({"via": "cli", **dict(data or {})})))
    try:
        engine = create_db_engine(db_url or database_url(config_dir))
    except Exception as err:  # a bad URL or driver: name it
        raise HubError(f"Cannot open the audit database: {err}") from err
    try:
        migrate_schema(engine)  # the recorder's migrations: a database the hub has not opened yet gets its tables
        for attempt in range(ATTEMPTS):
            try:
                with Session(engine) as session, session.begin():
                    return append_entries(session, [entry])
            except IntegrityError:  # the hub appended at the same moment: chain after its entry
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")
    except (IntegrityError, OperationalError) as err:
        raise HubError(f"Cannot write the audit log: {err}") from err
    finally:
        engine.dispose()


def audit_cli_change(config_dir: str | Path, action: str, *, target: str, outcome: str = "ok",
                     data: Mapping[str, Any] | None = None, centre: str | None = None) -> str | None:
    """Record a CLI change; None when recorded, else the reason it was not (for the command to print)."""
    try:
        record_offline(config_dir, action, target=target, outcome=outcome, data=data, centre=centre)
    except (HubError, OSError) as err:
        return str(err)
    return None
