"""`hacho user add|passwd|list|disable|enable|remove`: manage control-centre users without a running hub."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from ..auth.passwords import PasswordError
from ..auth.users import Role, UserError, add_user, list_users, remove_user, set_disabled, set_password, set_role
from ..exceptions import HubError

__all__ = ["add_user_cli", "configured_centres", "run_user_command"]

DEFAULT_CONFIG_DIR = "config/ceuta"


def configured_centres(config_dir: str | Path) -> list[str] | None:
    """The control centre ids of the config dir's `hub:` section; None without a configuration.yaml."""
    from ..config.core import CONFIG_FILE, CORE_DOMAIN, build_core_config, load_configuration

    if not (Path(config_dir) / CONFIG_FILE).is_file():
        return None
    config = load_configuration(config_dir)
    return [centre.id for centre in build_core_config(config.get(CORE_DOMAIN)).control_centres]


def add_user_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `user` command to a CLI's subparsers; the parsed args carry `func(args) -> exit code`."""
    parser: argparse.ArgumentParser = subparsers.add_parser("user", help="manage control-centre users")
    actions = parser.add_subparsers(dest="user_action", required=True)
    add = actions.add_parser("add", help="add a user (asks for the password twice)")
    add.add_argument("user_id", help="login name; also the user id recorded in contexts and the audit log")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--centre", required=True, help="the control centre the user belongs to")
    add.add_argument("--name", default=None, help="display name")
    add.add_argument("--webhook", action="append", default=[], dest="webhooks",
                     help="agency users: a webhook id it may call (repeat)")
    add.add_argument("--no-password", action="store_true", help="agency users: token access only")
    passwd = actions.add_parser("passwd", help="set a user's password")
    passwd.add_argument("user_id")
    for sub in (add, passwd):
        sub.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    actions.add_parser("list", help="list users (never their password hashes)")
    for name, text in (("disable", "disable a user (no login, sessions end)"), ("enable", "enable a user"),
                       ("remove", "delete a user")):
        actions.add_parser(name, help=text).add_argument("user_id")
    role = actions.add_parser("role", help="give a user another role")
    role.add_argument("user_id")
    role.add_argument("role", choices=[role.value for role in Role])
    for sub in actions.choices.values():
        sub.add_argument("-c", "--config", default=DEFAULT_CONFIG_DIR,
                         help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    parser.set_defaults(func=run_user_command)
    return parser


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UserError("The two passwords differ")
    return first


def _change(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """Make the change; (what to print, what the audit entry records). Raises UserError/PasswordError."""
    config_dir, action = args.config, args.user_action
    if action == "add":
        password = None if args.no_password else _read_password(args)
        user = add_user(config_dir, args.user_id, role=args.role, centre=args.centre, password=password,
                        name=args.name, webhooks=args.webhooks, known_centres=configured_centres(config_dir))
        return (f"User {user.id!r} added ({user.role.value}, {user.centre}).",
                {"role": user.role.value, "centre": user.centre, "password": password is not None})
    if action == "passwd":
        set_password(config_dir, args.user_id, _read_password(args))
        return f"Password of {args.user_id!r} changed; its sessions end.", {}
    if action in ("disable", "enable"):
        set_disabled(config_dir, args.user_id, action == "disable")
        return f"User {args.user_id!r} {action}d.", {}
    if action == "role":
        user = set_role(config_dir, args.user_id, args.role)
        return f"User {user.id!r} is now {user.role.value}; its sessions end.", {"role": user.role.value}
    remove_user(config_dir, args.user_id)
    return f"User {args.user_id!r} removed.", {}


def run_user_command(args: argparse.Namespace) -> int:
    """Run a parsed `user` command; exit code 0 on success, 1 for a refused change, 2 for an error.
    Every change, made or refused, is recorded in the audit log (hub.audit.offline), as the web's are."""
    from ..audit.offline import ACTION_USER_CHANGE, audit_cli_change

    if args.user_action == "list":
        try:
            users = list_users(args.config)
        except (UserError, HubError, OSError) as err:
            print(f"Error: {err}", file=sys.stderr)
            return 2
        for user in users:
            flags = " disabled" if user.disabled else ""
            login = "password" if user.password_hash else "token only"
            print(f"{user.id}  role={user.role.value}  centre={user.centre}  login={login}{flags}  "
                  f"name={user.name}")
        return 0
    target = f"user/{str(args.user_id).strip().lower()[:64]}"
    try:
        message, data = _change(args)
    except (UserError, PasswordError) as err:
        audit_cli_change(args.config, ACTION_USER_CHANGE, target=target, outcome="refused",
                         data={"change": args.user_action, "reason": str(err)})
        print(f"Error: {err}", file=sys.stderr)
        return 1
    except (HubError, OSError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    print(message)
    problem = audit_cli_change(args.config, ACTION_USER_CHANGE, target=target,
                               data={"change": args.user_action, **data}, centre=data.get("centre"))
    if problem is not None:
        print(f"Error: the change was made but could not be audited: {problem}", file=sys.stderr)
        return 2
    return 0
