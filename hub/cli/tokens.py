"""`hacho token create|revoke|list`: manage long-lived access tokens without a running hub."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..auth.tokens import TokenError, create_token, list_tokens, revoke_token
from ..auth.users import Role, UserError, UserRecord, add_user, list_users
from ..exceptions import HubError

__all__ = ["add_owner_arguments", "add_token_cli", "run_token_command"]

DEFAULT_CONFIG_DIR = "config/ceuta"


def add_token_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `token` command to a CLI's subparsers; the parsed args carry `func(args) -> exit code`.

    The config dir is read from `args.config` (the main parser's `-c`); `token` also accepts its
    own `-c` so it works either before or after the subcommand.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser("token", help="manage long-lived access tokens")
    parser.add_argument("-c", "--config", default=argparse.SUPPRESS,
                        help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    actions = parser.add_subparsers(dest="token_action", required=True)
    create = actions.add_parser("create", help="create a token and print it once")
    create.add_argument("name", help="token name")
    add_owner_arguments(create)
    revoke = actions.add_parser("revoke", help="revoke a token by name or id")
    revoke.add_argument("name_or_id")
    actions.add_parser("list", help="list tokens (never their values)")
    parser.set_defaults(func=run_token_command)
    return parser


def add_owner_arguments(create: argparse.ArgumentParser) -> None:
    """`--user USER`, or `--service-account NAME --role ROLE`: who the token acts as (one is required)."""
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--user", default=None, help="the existing user the token acts as")
    owner.add_argument("--service-account", default=None, dest="service_account",
                       help="a service account (a user without a password) the token acts as; added if new")
    create.add_argument("--role", default=None, choices=[role.value for role in Role],
                        help="the service account's role (required with --service-account)")
    create.add_argument("--centre", default=None,
                        help="control centre (default: the user's; required for a new service account "
                             "when the configuration names several)")


def _token_owner(config_dir: str, args: argparse.Namespace) -> tuple[UserRecord, bool]:
    """The user the token acts as (a new service account is added); (user, added)."""
    from .users import configured_centres

    users = {user.id: user for user in list_users(config_dir)}
    if getattr(args, "service_account", None):
        if not args.role:
            raise UserError("--service-account needs --role (what the account may do)")
        existing = users.get(args.service_account.strip().lower())
        if existing is not None:
            if existing.password_hash or existing.role.value != args.role:
                raise UserError(f"{existing.id!r} exists and is not a {args.role} service account; "
                                f"use --user {existing.id} or another name")
            return existing, False
        centres = configured_centres(config_dir)
        centre = args.centre or (centres[0] if centres and len(centres) == 1 else None)
        if centre is None:
            raise UserError("--centre is needed for a new service account")
        return add_user(config_dir, args.service_account, role=args.role, centre=centre, password=None,
                        name=f"{args.service_account} (service account)", known_centres=centres,
                        service_account=True), True
    user_id = str(getattr(args, "user", None) or "").strip().lower()
    if not user_id:
        raise UserError("a token needs --user USER, or --service-account NAME --role ROLE")
    user = users.get(user_id)
    if user is None:
        raise UserError(f"no user {user_id!r}: add it first (hacho user add) or use --service-account")
    return user, False


def _create(config_dir: str, args: argparse.Namespace) -> int:
    from ..audit.offline import ACTION_TOKEN_CHANGE, audit_cli_change

    target = f"token/{str(args.name)[:64]}"
    try:
        owner, added = _token_owner(config_dir, args)
        if args.centre and args.centre != owner.centre:
            raise UserError(f"{owner.id!r} belongs to {owner.centre}, not {args.centre}")
        token = create_token(config_dir, args.name, owner.centre, user_id=owner.id)
    except (UserError, TokenError) as err:
        audit_cli_change(config_dir, ACTION_TOKEN_CHANGE, target=target, outcome="refused",
                         data={"change": "create", "reason": str(err)})
        print(f"Error: {err}", file=sys.stderr)
        return 2
    print(token)
    print(f"Token {args.name!r} created for {owner.id} ({owner.role.value}, {owner.centre}); store it now, "
          f"it cannot be shown again.", file=sys.stderr)
    problem = audit_cli_change(config_dir, ACTION_TOKEN_CHANGE, target=target, centre=owner.centre, data={
        "change": "create", "user": owner.id, "role": owner.role.value, "service_account": not owner.password_hash,
        "account_added": added})
    if problem is not None:
        print(f"Error: the token was created but could not be audited: {problem}", file=sys.stderr)
        return 2
    return 0


def run_token_command(args: argparse.Namespace) -> int:
    """Run a parsed `token` command; returns the process exit code. Creating and revoking are audited
    (hub.audit.offline)."""
    from ..audit.offline import ACTION_TOKEN_CHANGE, audit_cli_change

    config_dir = getattr(args, "config", None) or DEFAULT_CONFIG_DIR
    try:
        if args.token_action == "create":
            return _create(str(config_dir), args)
        if args.token_action == "revoke":
            target = f"token/{str(args.name_or_id)[:64]}"
            if revoke_token(config_dir, args.name_or_id):
                print(f"Token {args.name_or_id!r} revoked.")
                problem = audit_cli_change(config_dir, ACTION_TOKEN_CHANGE, target=target,
                                           data={"change": "revoke"})
                if problem is not None:
                    print(f"Error: the token was revoked but could not be audited: {problem}", file=sys.stderr)
                    return 2
                return 0
            print(f"No token named or with id {args.name_or_id!r}.", file=sys.stderr)
            return 1
        for info in list_tokens(config_dir):
            print(f"{info.id}  {info.name}  user={info.user_id}  centre={info.centre or '-'}  "
                  f"created={info.created}  last_used={info.last_used or 'never'}")
        return 0
    except (TokenError, UserError, HubError, OSError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
