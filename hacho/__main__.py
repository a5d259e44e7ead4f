"""The `hacho` command (`python -m hacho`): run the hub, check a configuration, manage tokens, test automations.

`run`, `check-config` and `test-automations` import the whole hub (`hacho.bootstrap`) only when chosen.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hub.audit.cli import add_audit_cli
from hub.cli.tokens import run_token_command
from hub.cli.users import add_user_cli
from hub.const import __version__
from hub.evidence.cli import add_evidence_cli

__all__ = ["main"]


def _config_dir(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"config dir {value!r} does not exist")
    return path


def _cmd_run(args: argparse.Namespace) -> int:
    from hub.helpers.memory import limit_malloc_arenas

    from .bootstrap import async_run

    limit_malloc_arenas()  # before any thread or worker process starts
    return asyncio.run(async_run(args.config, verbose=args.verbose))


def _cmd_check_config(args: argparse.Namespace) -> int:
    from .bootstrap import check_config

    errors = check_config(args.config)
    if getattr(args, "format", "text") == "json":
        import json

        from hub.config.report import report

        print(json.dumps(report(errors), indent=2))
        return 1 if errors else 0
    if errors:
        print(f"Configuration in {args.config} has {len(errors)} error(s):", file=sys.stderr)
        for error in errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    print(f"Configuration in {args.config} is valid.")
    return 0


def _cmd_lint(args: argparse.Namespace) -> int:
    import time

    from automations.lint import lint_config

    from .bootstrap import COMPONENTS

    errors, warnings = lint_config(args.config, time.time(), COMPONENTS)
    if args.format == "json":
        import json

        from hub.config.report import report

        print(json.dumps(report(errors, warnings), indent=2))
    else:
        for line in errors:
            print(f"error: {line}")
        for line in warnings:
            print(f"warning: {line}")
        print(f"{len(errors)} error(s), {len(warnings)} warning(s) in {args.config}")
    return 1 if errors or warnings else 0


def _cmd_token(args: argparse.Namespace) -> int:
    name = getattr(args, "name", None)
    return run_token_command(argparse.Namespace(
        config=args.config, token_action=args.token_command, name=name, name_or_id=name,
        centre=getattr(args, "centre", None), user=getattr(args, "user", None),
        service_account=getattr(args, "service_account", None), role=getattr(args, "role", None),
    ))


def _cmd_test_automations(args: argparse.Namespace) -> int:
    from automations.rule_tests import async_run_rule_tests

    return asyncio.run(async_run_rule_tests(args.config, args.tests))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (sub-commands register here)."""
    parser = argparse.ArgumentParser(prog="hacho", description="Hacho safe-city automation hub")
    parser.add_argument("--version", action="version", version=f"hacho {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the hub")
    run.add_argument("-c", "--config", type=_config_dir, default=Path("config/ceuta"))
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    run.set_defaults(func=_cmd_run)

    check = sub.add_parser("check-config", help="print every configuration error; exit 1 if any")
    check.add_argument("-c", "--config", type=_config_dir, default=Path("config/ceuta"))
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="json: one document with file, line, column, key path, message and severity")
    check.set_defaults(func=_cmd_check_config)

    lint = sub.add_parser("lint", help="warnings Home Assistant users trip on (unknown entities, triggers that "
                                       "never fire, skipped single-mode runs); exit 1 if any")
    lint.add_argument("-c", "--config", type=_config_dir, default=Path("config/ceuta"))
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.set_defaults(func=_cmd_lint)

    token = sub.add_parser("token", help="long-lived access tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token; prints it on the last line")
    create.add_argument("-c", "--config", type=_config_dir, required=True)
    create.add_argument("--name", required=True)
    from hub.cli.tokens import add_owner_arguments

    add_owner_arguments(create)  # --user USER, or --service-account NAME --role ROLE
    revoke = token_sub.add_parser("revoke", help="revoke a token by name or id")
    revoke.add_argument("-c", "--config", type=_config_dir, required=True)
    revoke.add_argument("--name", required=True)
    listing = token_sub.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("-c", "--config", type=_config_dir, required=True)
    token.set_defaults(func=_cmd_token)

    tests = sub.add_parser("test-automations", help="replay rule tests against the automations")
    tests.add_argument("-c", "--config", type=_config_dir, required=True)
    tests.add_argument("tests", type=Path)
    tests.set_defaults(func=_cmd_test_automations)

    add_user_cli(sub)  # hacho user add|passwd|list|disable|enable|remove
    add_audit_cli(sub)  # hacho audit verify|list
    add_evidence_cli(sub)  # hacho evidence verify|export|key

    from integrations.face.cli import add_face_cli

    add_face_cli(sub)  # hacho face report --year Y

    from automations.cli import add_automation_cli
    from integrations.anpr.cli import add_anpr_cli

    add_automation_cli(sub, _config_dir)  # hacho blueprint import, hacho import-ha
    add_anpr_cli(sub)  # hacho anpr train|evaluate|promote|rollback
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hacho` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
