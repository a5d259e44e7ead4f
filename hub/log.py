"""Logging set-up from the `logger:` section: a default level and per-logger levels."""

from __future__ import annotations

import logging
import sys
from typing import Any

import voluptuous as vol

__all__ = ["CONFIG_SCHEMA", "setup_logging"]

LEVELS = {"critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING,
          "info": logging.INFO, "debug": logging.DEBUG}

_level = vol.All(vol.Lower, vol.In(list(LEVELS)))

CONFIG_SCHEMA = vol.Schema({
    vol.Optional("default", default="info"): _level,
    vol.Optional("logs", default=dict): {str: _level},
    vol.Optional("file"): str,
})

_FORMAT = "%(asctime)s %(levelname)s (%(threadName)s) [%(name)s] %(message)s"


def setup_logging(config: dict[str, Any] | None = None, *, verbose: bool = False) -> None:
    """Configure the root logger once; later calls only change levels."""
    config = CONFIG_SCHEMA(config or {})
    root = logging.getLogger()
    if not getattr(root, "_hacho_configured", False):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        if config.get("file"):
            file_handler = logging.FileHandler(config["file"], encoding="utf-8")
            file_handler.setFormatter(logging.Formatter(_FORMAT))
            root.addHandler(file_handler)
        root._hacho_configured = True  # type: ignore[attr-defined]
    root.setLevel(logging.DEBUG if verbose else LEVELS[config["default"]])
    for name, level in config["logs"].items():
        logging.getLogger(name).setLevel(LEVELS[level])
    # Libraries that are chatty at INFO
    for noisy in ("aiohttp.access", "sqlalchemy.engine", "alembic", "pymodbus"):
        if noisy not in config["logs"]:
            logging.getLogger(noisy).setLevel(logging.WARNING)
