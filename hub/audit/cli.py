"""`hacho audit verify|list`: check the hash chain or print entries, straight from the database (no hub)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ..exceptions import HubError
from .chain import row_as_dict, verify_chain
from .models import AuditEntry

__all__ = ["add_audit_cli", "database_url", "run_audit_command"]

DEFAULT_CONFIG_DIR = "config/ceuta"


def database_url(config_dir: str | Path) -> str:
    """The recorder database of a config dir: `recorder: db_url:` in configuration.yaml, else its hacho.db."""
    from ..config.core import CONFIG_FILE, load_configuration
    from ..recorder.const import CONF_DB_URL, DEFAULT_DB_FILE

    directory = Path(config_dir)
    if (directory / CONFIG_FILE).is_file():
        config = load_configuration(directory)
        recorder = config.get("recorder") or {}
        if isinstance(recorder, dict) and recorder.get(CONF_DB_URL):
            return str(recorder[CONF_DB_URL])
    return f"sqlite:///{directory / DEFAULT_DB_FILE}"


def add_audit_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add `audit verify` and `audit list` to a CLI's subparsers (args carry `func`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("audit", help="check or read the audit log")
    actions = parser.add_subparsers(dest="audit_action", required=True)
    verify = actions.add_parser("verify", help="check the hash chain; exit 1 naming the first broken entry")
    listing = actions.add_parser("list", help="print the newest entries")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--action", default=None, help="only this action (login, command, ...)")
    for sub in (verify, listing):
        sub.add_argument("-c", "--config", default=DEFAULT_CONFIG_DIR,
                         help=f"config directory (default {DEFAULT_CONFIG_DIR})")
        sub.add_argument("--db-url", default=None, help="database URL (default: the recorder's)")
    parser.set_defaults(func=run_audit_command)
    return parser


def run_audit_command(args: argparse.Namespace) -> int:
    """Run a parsed `audit` command. Exit codes: 0 good, 1 broken chain, 2 cannot read."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ..recorder.engine import create_db_engine

    try:
        url = args.db_url or database_url(args.config)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
                and not Path(parsed.database).is_file():
            raise HubError(f"database file {parsed.database} does not exist")
        engine = create_db_engine(url)
    except (HubError, OSError, ValueError, ArgumentError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(AuditEntry.__tablename__):
                print("Error: this database has no audit log (has the hub run with the audit log?)",
                      file=sys.stderr)
                return 2
        with Session(engine) as session:
            if args.audit_action == "verify":
                result = verify_chain(session)
                print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
                return 0 if result.ok else 1
            statement = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(max(1, args.limit))
            if args.action:
                statement = statement.where(AuditEntry.action == args.action)
            for row in session.execute(statement).scalars():
                entry = row_as_dict(row)
                when = datetime.fromtimestamp(entry["time_ts"], UTC).isoformat(timespec="seconds")
                print(f"{entry['seq']:>8}  {when}  {entry['action']:<15} {entry['outcome']:<7} "
                      f"user={entry['user_id'] or '-'} centre={entry['centre'] or '-'} "
                      f"target={entry['target'] or '-'}")
            return 0
    except Exception as err:  # a CLI: say what went wrong instead of a traceback
        print(f"Error reading the audit log: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
