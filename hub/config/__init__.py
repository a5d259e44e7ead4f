"""Configuration: YAML loading with locations, validation with readable errors, the core `hub:` section."""

from __future__ import annotations

from .core import (
    CONFIG_FILE,
    CORE_CONFIG_SCHEMA,
    ControlCentre,
    CoreConfig,
    async_load_configuration,
    build_core_config,
    check_config,
    load_configuration,
)
from .validation import format_extra_key, humanize_error, validate
from .yaml_loader import NodeDict, NodeList, NodeStr, Secrets, get_location, load_yaml

__all__ = [
    "CONFIG_FILE",
    "CORE_CONFIG_SCHEMA",
    "ControlCentre",
    "CoreConfig",
    "NodeDict",
    "NodeList",
    "NodeStr",
    "Secrets",
    "async_load_configuration",
    "build_core_config",
    "check_config",
    "format_extra_key",
    "get_location",
    "humanize_error",
    "load_configuration",
    "load_yaml",
    "validate",
]
