"""`hacho blueprint import FILE` and `hacho import-ha PATH`: bringing Home Assistant material into a site."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.exceptions import ConfigError

__all__ = ["add_automation_cli"]


def _cmd_blueprint_import(args: argparse.Namespace) -> int:
    from .blueprint import import_blueprint

    try:
        target, blueprint = import_blueprint(args.config, args.file, force=args.force)
    except ConfigError as err:
        for line in err.errors or [str(err)]:
            print(line, file=sys.stderr)
        return 1
    relative = target.relative_to(args.config / "blueprints" / blueprint.domain)
    print(f"Imported blueprint {blueprint.name!r} to {target}")
    for name, spec in blueprint.inputs.items():
        required = "" if "default" in spec else " (required)"
        print(f"  input {name}{required}: {spec.get('name') or ''}")
    print(f"Use it with:\n  use_blueprint:\n    path: {relative.as_posix()}\n    input: ...")
    return 0


def _cmd_import_ha(args: argparse.Namespace) -> int:
    from .import_ha import run_import

    return run_import(args.path, args.config, write_files=not args.dry_run, out=sys.stdout)


def add_automation_cli(sub: Any, _config_dir: Callable[[str], Path]) -> None:
    """Register `hacho blueprint ...` and `hacho import-ha` (`_config_dir` checks a -c argument)."""
    blueprint = sub.add_parser("blueprint", help="blueprints (Home Assistant's format)")
    blueprint_sub = blueprint.add_subparsers(dest="blueprint_command", required=True)
    imp = blueprint_sub.add_parser("import", help="check a local blueprint file and copy it into the site")
    imp.add_argument("file", help="path of the blueprint YAML (no URLs: nothing is downloaded)")
    imp.add_argument("-c", "--config", type=_config_dir, default=Path("config/ceuta"))
    imp.add_argument("--force", action="store_true", help="replace a blueprint of the same name")
    imp.set_defaults(func=_cmd_blueprint_import)

    ha = sub.add_parser("import-ha", help="load a Home Assistant automations.yaml or config folder into the site")
    ha.add_argument("path", type=Path, help="a Home Assistant config folder or an automations.yaml")
    ha.add_argument("-c", "--config", type=_config_dir, default=Path("config/ceuta"))
    ha.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    ha.set_defaults(func=_cmd_import_ha)
