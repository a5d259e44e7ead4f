"""The hub as `hacho run` assembles it: the core (`hub.bootstrap`) plus the frontend and the automation engine.

The core knows them only as `hub.bootstrap.Component`s: this module is where they are named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automations.component import ENGINE_COMPONENT
from frontend import CONFIG_SCHEMA as FRONTEND_SCHEMA
from frontend import DOMAIN as FRONTEND
from frontend import async_setup_frontend
from hub import bootstrap as core
from hub.clock import Clock
from hub.core import Hub

__all__ = ["COMPONENTS", "async_run", "async_setup_hub", "check_config", "load_and_check_core"]


async def _async_setup_frontend(hub: Hub, sections: dict[str, Any]) -> None:
    await async_setup_frontend(hub, sections[FRONTEND])


# The frontend before the integrations (their views and panels register with it), the engine after them
# (its triggers attach to their entities).
COMPONENTS: tuple[core.Component, ...] = (
    core.Component("Operator frontend", (FRONTEND,), _async_setup_frontend, schema=FRONTEND_SCHEMA,
                   before_integrations=True),
    ENGINE_COMPONENT,
)


def load_and_check_core(config_dir: Path) -> core.LoadedConfig:
    """`hub.bootstrap.load_and_check_core` with the components' sections (blocking)."""
    return core.load_and_check_core(config_dir, COMPONENTS)


def check_config(config_dir: Path) -> list[str]:
    """Every error in the configuration: core, frontend, integrations and automations (blocking)."""
    return core.check_config(config_dir, COMPONENTS)


async def async_setup_hub(config_dir: Path, loaded: core.LoadedConfig, *, clock: Clock | None = None,
                          start_http: bool = True) -> Hub:
    """The whole hub, set up and started (see `hub.bootstrap.async_setup_hub`)."""
    return await core.async_setup_hub(config_dir, loaded, clock=clock, start_http=start_http,
                                      components=COMPONENTS)


async def async_run(config_dir: Path, *, verbose: bool = False) -> int:
    """Run the whole hub until SIGINT/SIGTERM (exit codes as `hub.bootstrap.async_run`)."""
    return await core.async_run(config_dir, verbose=verbose, components=COMPONENTS)
