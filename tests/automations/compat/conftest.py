"""The Home Assistant compatibility suite: Home Assistant-style YAML, loaded and run on the real hub.

Each test loads a short example written as Home Assistant's documentation writes it (YAML text,
read by the hub's own loader so errors carry file:line), runs it on a hub at the Ceuta site on a
FakeClock (2026-01-01 12:00 UTC, 13:00 local), and asserts on its effect: a service call, a state,
an event. docs/ha-compatibility.md points at these tests by name.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import automations
from hub.config.core import CoreConfig
from hub.config.yaml_loader import load_yaml
from hub.core import Hub
from tests.integrations.mqtt.conftest import prefix, publisher, setup_mqtt  # noqa: F401 - fixtures for MQTT

from ..conftest import Setup

# Ceuta: the site's coordinates, elevation and time zone (sunrise 08:31, sunset 18:18 on 1 January).
CEUTA = CoreConfig(latitude=35.8894, longitude=-5.3198, elevation=10.0, time_zone="Africa/Ceuta")

LoadHa = Callable[..., Awaitable[None]]


@pytest.fixture
def site(hub: Hub) -> Hub:
    """The hub, configured for the Ceuta site."""
    hub.config = CEUTA
    return hub


def read_yaml(path: Path, text: str) -> Any:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_yaml(path)


@pytest.fixture
def ha(site: Hub, setup: Setup, tmp_path: Path) -> LoadHa:
    """`await ha(automations_yaml, scripts=scripts_yaml, start=True)`: load Home Assistant YAML text."""

    async def _load(automations_text: str, scripts: str | None = None, start: bool = True) -> None:
        autos = read_yaml(tmp_path / "automations.yaml", automations_text)
        autos = autos if isinstance(autos, list) else [autos]
        script_config = read_yaml(tmp_path / "scripts.yaml", scripts) if scripts is not None else None
        assert config_errors(tmp_path, automations_text, scripts) == []  # it loads as is
        await setup(*autos, scripts=script_config, start=start)

    return _load


def config_errors(tmp_path: Path, automations_text: str, scripts: str | None = None) -> list[str]:
    """What check-config says about Home Assistant YAML text (each error with file:line)."""
    sections: dict[str, Any] = {"automations": read_yaml(tmp_path / "automations.yaml", automations_text)}
    if scripts is not None:
        sections["script"] = read_yaml(tmp_path / "scripts.yaml", scripts)
    return automations.check_config(sections)


async def settle() -> None:
    """Let the loop run (runs waiting on the fake clock stay pending)."""
    for _ in range(20):
        await asyncio.sleep(0)
