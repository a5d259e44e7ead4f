"""`hacho evidence verify|export|key`: check a zip, export straight from the database, show the signing key."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path
from typing import Any

from ..exceptions import HubError
from .const import AUDIENCE_CASE, AUDIENCES

__all__ = ["add_evidence_cli", "run_evidence_command"]

DEFAULT_CONFIG_DIR = "config/ceuta"


def add_evidence_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add `evidence verify`, `evidence export` and `evidence key` to a CLI's subparsers (args carry `func`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("evidence", help="signed evidence exports for Justice")
    actions = parser.add_subparsers(dest="evidence_action", required=True)
    verify = actions.add_parser("verify", help="check a zip's signature and files; exit 1 naming what was changed")
    verify.add_argument("file", type=Path)
    verify.add_argument("--fingerprint", action="append", default=[],
                        help="SHA-256 of the public key the zip must be signed with (the hub's published one)")
    verify.add_argument("--key", type=Path, default=None, help="a public key PEM the zip must be signed with")
    export = actions.add_parser("export", help="export an alarm or a time window from the database (no hub needed)")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--alarm", default=None, help="an alarm id")
    which.add_argument("--start", default=None, help="start of the window (ISO 8601 or epoch seconds)")
    export.add_argument("--end", default=None, help="end of the window (with --start)")
    export.add_argument("--entity", action="append", default=[], help="an entity id (repeat for more)")
    export.add_argument("--reason", required=True)
    export.add_argument("--case", required=True, dest="case_reference", help="the court's case reference")
    export.add_argument("--exporter", default=None, help="who exports (default: cli:<login name>)")
    export.add_argument("--audience", choices=AUDIENCES, default=AUDIENCE_CASE,
                        help="who receives it: public and press get faces and plates blurred (docs/face.md)")
    export.add_argument("--no-blur", action="store_true", help="do not blur, whoever the audience")
    key = actions.add_parser("key", help="print the hub's public signing key and its fingerprint (made if needed)")
    for sub in (export, key):
        sub.add_argument("-c", "--config", type=Path, default=Path(DEFAULT_CONFIG_DIR),
                         help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    export.add_argument("--db-url", default=None, help="database URL (default: the recorder's)")
    parser.set_defaults(func=run_evidence_command)
    return parser


def run_evidence_command(args: argparse.Namespace) -> int:
    """Run a parsed `evidence` command. verify: 0 good, 1 tampered or damaged, 2 cannot read."""
    if args.evidence_action == "verify":
        return _verify(args)
    try:
        if args.evidence_action == "key":
            return _key(args)
        return _export(args)
    except (HubError, OSError, ValueError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2


def _verify(args: argparse.Namespace) -> int:
    from .keys import fingerprint, read_public_key
    from .verify import verify_bundle

    if not args.file.is_file():
        print(f"Error: {args.file} does not exist", file=sys.stderr)
        return 2
    trusted = list(args.fingerprint)
    if args.key is not None:
        try:
            trusted.append(fingerprint(read_public_key(args.key.read_bytes())))
        except (OSError, ValueError) as err:
            print(f"Error: cannot read the key {args.key}: {err}", file=sys.stderr)
            return 2
    result = verify_bundle(args.file, trusted)
    print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
    if result.ok and not trusted:
        print("  (the key came with the zip: compare its fingerprint with the one the hub's operator publishes, "
              "or pass --fingerprint)")
    return 0 if result.ok else 1


def _key(args: argparse.Namespace) -> int:
    from .keys import fingerprint, load_or_create_key, public_key_pem

    key = load_or_create_key(args.config)
    print(public_key_pem(key).decode(), end="")
    print(f"SHA-256 fingerprint: {fingerprint(key.public_key())}")
    return 0


def _timestamp(value: str) -> float:
    from . import _timestamp as parse

    try:
        return parse(float(value) if value.replace(".", "", 1).isdigit() else value)
    except Exception as err:
        raise ValueError(f"{value!r}: expected an ISO 8601 time or epoch seconds") from err


def _export(args: argparse.Namespace) -> int:
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    from ..audit.chain import PendingEntry, append_entries, canonical_json
    from ..audit.cli import database_url
    from ..audit.models import AuditEntry
    from ..config.core import build_core_config, load_configuration
    from ..recorder.engine import create_db_engine
    from .collect import Scope, collect
    from .const import AUDIT_TARGET_PREFIX
    from .export import alarm_scope, build_export
    from .providers import find_alarm_providers, load_alarm

    config_dir: Path = args.config
    core = build_core_config((load_configuration(config_dir) if (config_dir / "configuration.yaml").is_file()
                              else {}).get("hub"))
    engine = create_db_engine(args.db_url or database_url(config_dir))
    exporter = args.exporter or f"cli:{getpass.getuser()}"
    now = time.time()
    try:
        with Session(engine) as session:
            alarm = None
            if args.alarm is not None:
                alarm = load_alarm(session, find_alarm_providers(config_dir), args.alarm)
                if alarm is None:
                    raise HubError(f"no alarm {args.alarm!r} in the database")
                scope = alarm_scope(alarm, now, args.entity)
            else:
                if args.end is None:
                    raise HubError("--start needs --end")
                scope = Scope(_timestamp(args.start), _timestamp(args.end), tuple(dict.fromkeys(args.entity)))
                if scope.end_ts <= scope.start_ts:
                    raise HubError("--end must be after --start")
            collected = collect(session, scope)
        result = build_export(config_dir, collected, scope, alarm=alarm, reason=args.reason,
                              case_reference=args.case_reference, exporter={"user_id": exporter, "centre": None},
                              hub_info={"name": core.name, "site": core.site}, now=now,
                              allowed_dirs=core.allowlist_external_dirs,
                              blur=args.audience != AUDIENCE_CASE and not args.no_blur, audience=args.audience)
        with Session(engine) as session, session.begin():
            if inspect(session.connection()).has_table(AuditEntry.__tablename__):
                counts = result.manifest["counts"]
                append_entries(session, [PendingEntry(
                    time_ts=round(now, 6), action="export", user_id=exporter, centre=None, context_id=None,
                    target=f"{AUDIT_TARGET_PREFIX}{result.name}", outcome="ok",
                    data=canonical_json({"reason": args.reason, "case_reference": args.case_reference,
                                         "alarm_id": args.alarm, "sha256": result.sha256, "cli": True,
                                         "audience": args.audience, **counts}))])
            else:
                print("Warning: this database has no audit log; the export is not audited", file=sys.stderr)
    finally:
        engine.dispose()
    counts = result.manifest["counts"]
    print(f"{result.path}\n  {counts['events']} events, {counts['states']} states, {counts['images']} images; "
          f"SHA-256 {result.sha256}")
    return 0
