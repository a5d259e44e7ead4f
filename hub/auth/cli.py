"""`hacho token create|revoke|list`: manage long-lived access tokens without a running hub."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .tokens import TokenError, create_token, list_tokens, revoke_token

__all__ = ["add_token_cli", "run_token_command"]

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
    create.add_argument("name", help="token name; also the user id recorded in contexts unless --user")
    create.add_argument("--centre", default=None, help="control centre the token acts from")
    create.add_argument("--user", default=None, help="user id recorded in contexts (default: the name)")
    revoke = actions.add_parser("revoke", help="revoke a token by name or id")
    revoke.add_argument("name_or_id")
    actions.add_parser("list", help="list tokens (never their values)")
    parser.set_defaults(func=run_token_command)
    return parser


def run_token_command(args: argparse.Namespace) -> int:
    """Run a parsed `token` command; returns the process exit code."""
    config_dir = getattr(args, "config", None) or DEFAULT_CONFIG_DIR
    try:
        if args.token_action == "create":
            token = create_token(config_dir, args.name, args.centre, user_id=args.user)
            print(token)
            print(f"Token {args.name!r} created; store it now, it cannot be shown again.", file=sys.stderr)
            return 0
        if args.token_action == "revoke":
            if revoke_token(config_dir, args.name_or_id):
                print(f"Token {args.name_or_id!r} revoked.")
                return 0
            print(f"No token named or with id {args.name_or_id!r}.", file=sys.stderr)
            return 1
        for info in list_tokens(config_dir):
            print(f"{info.id}  {info.name}  user={info.user_id}  centre={info.centre or '-'}  "
                  f"created={info.created}  last_used={info.last_used or 'never'}")
        return 0
    except (TokenError, OSError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
