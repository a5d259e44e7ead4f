"""`hacho face report --year Y`: the yearly statistics an authority publishes, read from the database
(no hub needed); counts only, no personal data (see docs/face.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hub.evidence.cli import DEFAULT_CONFIG_DIR

__all__ = ["add_face_cli", "run_face_command"]


def add_face_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add `face report` to a CLI's subparsers (args carry `func`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("face", help="face identification: yearly report")
    actions = parser.add_subparsers(dest="face_action", required=True)
    report = actions.add_parser("report", help="yearly statistics without personal data (JSON)")
    report.add_argument("--year", type=int, required=True, help="calendar year (UTC)")
    report.add_argument("-c", "--config", type=Path, default=Path(DEFAULT_CONFIG_DIR),
                        help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    report.add_argument("--db-url", default=None, help="database URL (default: the recorder's)")
    parser.set_defaults(func=run_face_command)
    return parser


def run_face_command(args: argparse.Namespace) -> int:
    """Print the report as JSON; 2 when the database cannot be read."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from hub.audit.cli import database_url
    from hub.recorder.engine import create_db_engine

    from .models import FaceAuthorisation
    from .store import yearly_report

    engine = create_db_engine(args.db_url or database_url(args.config))
    try:
        with Session(engine) as session:
            if not inspect(session.connection()).has_table(FaceAuthorisation.__tablename__):
                print("Error: this database has no face tables (the recorder never ran here?)", file=sys.stderr)
                return 2
            report = yearly_report(session, args.year)
    except SQLAlchemyError as err:
        print(f"Error: cannot read the database: {err}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0
