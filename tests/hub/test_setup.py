"""Tests of integration discovery and setup: dependencies, cycles, isolation, timeouts, unload and reload."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from hub.core import Hub
from hub.exceptions import ConfigError
from hub.loader import discover_integrations, load_manifest
from hub.setup import IntegrationState, SetupManager, find_dependency_cycle

_INIT = '''
"""Test integration {domain}."""
import asyncio
import voluptuous as vol
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import async_add_entities
from hub.setup_handle import async_get_setup_handle

CONFIG_SCHEMA = vol.Schema({{vol.Optional("value", default=1): int, vol.Optional("mode", default="ok"): str}})
CALLS = []


class Thing(Entity):
    domain = "sensor"

    def __init__(self, value):
        self._attr_name = "{domain} thing"
        self._attr_state = value


async def _ping(call):
    return None


async def async_setup(hub, config):
    CALLS.append(("setup", config["value"]))
    handle = async_get_setup_handle(hub, "{domain}")
    handle.async_on_unload(hub.services.async_register("{domain}", "ping", _ping))
    handle.async_on_unload(lambda: CALLS.append(("undone",)))
    if config["mode"] == "raise":
        raise RuntimeError("device exploded")
    if config["mode"] == "false":
        return False
    if config["mode"] == "hang":
        await asyncio.sleep(3600)
    hub.data["{domain}"] = config["value"]
    await async_add_entities(hub, "{domain}", [Thing(config["value"])])
    return True


async def async_unload(hub):
    CALLS.append(("unload",))
    hub.data.pop("{domain}", None)
    return True
'''


def make_integration(root: Path, domain: str, deps: list[str] | None = None, after: list[str] | None = None) -> None:
    pkg = root / "custom_integrations" / domain
    pkg.mkdir(parents=True)
    (root / "custom_integrations" / "__init__.py").touch()
    (pkg / "manifest.json").write_text(json.dumps({
        "domain": domain, "name": domain.title(), "version": "1.0.0",
        "dependencies": deps or [], "after_dependencies": after or [], "iot_class": "local_push",
    }))
    (pkg / "__init__.py").write_text(textwrap.dedent(_INIT.format(domain=domain)))


def test_custom_integrations_follow_the_config_dir(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    make_integration(first, "one")
    make_integration(second, "two")
    found, _ = discover_integrations(first)
    found["one"].get_module()
    found, _ = discover_integrations(second)
    assert found["two"].get_module().__file__.startswith(str(second.resolve()))


def test_find_dependency_cycle() -> None:
    assert find_dependency_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_dependency_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]


def test_bad_manifest(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"name": "x"}')
    with pytest.raises(ConfigError, match="missing domain"):
        load_manifest(path)


def test_discovery_finds_custom_and_builtin(config_dir: Path) -> None:
    make_integration(config_dir, "alpha")
    found, errors = discover_integrations(config_dir)
    assert errors == []
    assert found["alpha"].source == "custom"


async def test_setup_in_dependency_order_and_entities(hub: Hub) -> None:
    make_integration(hub.config_dir, "base")
    make_integration(hub.config_dir, "top", deps=["base"])
    manager = SetupManager(hub)
    status = await manager.async_setup_all({"top": {"value": 5}})
    assert status["base"].state is IntegrationState.loaded  # pulled in as a dependency
    assert status["top"].state is IntegrationState.loaded
    assert hub.states.get("sensor.top_thing").state == "5"  # type: ignore[union-attr]
    assert hub.data["top"] == 5 and hub.data["base"] == 1


async def test_failing_integration_isolated(hub: Hub) -> None:
    make_integration(hub.config_dir, "good")
    make_integration(hub.config_dir, "bad")
    make_integration(hub.config_dir, "needs_bad", deps=["bad"])
    manager = SetupManager(hub)
    status = await manager.async_setup_all({"good": {}, "bad": {"mode": "raise"}, "needs_bad": {}})
    assert status["good"].state is IntegrationState.loaded
    assert status["bad"].state is IntegrationState.failed
    assert "device exploded" in (status["bad"].error or "")
    assert status["needs_bad"].state is IntegrationState.failed
    assert "Dependency failed: bad" in (status["needs_bad"].error or "")


async def test_invalid_config_disables_only_that_integration(hub: Hub) -> None:
    make_integration(hub.config_dir, "one")
    make_integration(hub.config_dir, "two")
    manager = SetupManager(hub)
    status = await manager.async_setup_all({"one": {"value": "not a number"}, "two": {}})
    assert status["one"].state is IntegrationState.config_error
    assert "value" in (status["one"].error or "")
    assert status["two"].state is IntegrationState.loaded


async def test_unknown_integration_and_cycle(hub: Hub) -> None:
    make_integration(hub.config_dir, "c1", deps=["c2"])
    make_integration(hub.config_dir, "c2", deps=["c1"])
    make_integration(hub.config_dir, "fine")
    manager = SetupManager(hub)
    status = await manager.async_setup_all({"c1": {}, "fine": {}, "modbuss": {}})
    assert status["c1"].state is IntegrationState.config_error
    assert "Dependency cycle" in (status["c1"].error or "")
    assert status["modbuss"].state is IntegrationState.config_error
    assert status["fine"].state is IntegrationState.loaded


async def test_setup_timeout(hub: Hub) -> None:
    make_integration(hub.config_dir, "slow")
    manager = SetupManager(hub)
    manager.setup_timeout = 0.05
    status = await manager.async_setup_all({"slow": {"mode": "hang"}})
    assert status["slow"].state is IntegrationState.failed
    assert "timed out" in (status["slow"].error or "")


async def test_unload_and_reload(hub: Hub) -> None:
    make_integration(hub.config_dir, "dev")
    manager = SetupManager(hub)
    await manager.async_setup_all({"dev": {"value": 1}})
    assert hub.states.get("sensor.dev_thing").state == "1"  # type: ignore[union-attr]
    with pytest.raises(ConfigError):
        await manager.async_reload_integration("dev", {"value": "x"})
    assert manager.status["dev"].state is IntegrationState.loaded  # bad reload touched nothing
    assert hub.states.get("sensor.dev_thing").state == "1"  # type: ignore[union-attr]
    assert await manager.async_reload_integration("dev", {"value": 2})
    assert hub.states.get("sensor.dev_thing").state == "2"  # type: ignore[union-attr]
    assert await manager.async_unload_integration("dev")
    assert hub.states.get("sensor.dev_thing") is None
    assert "dev" not in hub.data


@pytest.mark.parametrize("mode", ["raise", "false", "hang"])
async def test_failed_setup_undoes_what_its_handle_holds(hub: Hub, mode: str) -> None:
    make_integration(hub.config_dir, "half")
    manager = SetupManager(hub)
    manager.setup_timeout = 0.5
    status = await manager.async_setup_all({"half": {"mode": mode}})
    assert status["half"].state is IntegrationState.failed
    assert not hub.services.has_service("half", "ping")


async def test_unload_and_reload_drain_the_handle(hub: Hub) -> None:
    make_integration(hub.config_dir, "svc")
    manager = SetupManager(hub)
    await manager.async_setup_all({"svc": {}})
    assert hub.services.has_service("svc", "ping")
    module = manager._integrations["svc"].get_module()
    assert await manager.async_reload_integration("svc", {"value": 2})
    assert hub.services.has_service("svc", "ping")
    assert module.CALLS.count(("undone",)) == 1  # the first setup's removers ran once, before the second setup
    assert await manager.async_unload_integration("svc")
    assert not hub.services.has_service("svc", "ping")
    assert module.CALLS.count(("undone",)) == 2


async def test_a_stopping_hub_unloads_its_integrations(hub: Hub) -> None:
    """`hacho run` stopped by SIGINT/SIGTERM must not hang on what an integration runs: hub_stop unloads them."""
    make_integration(hub.config_dir, "svc")
    manager = SetupManager(hub)
    await manager.async_setup_all({"svc": {}})
    module = manager._integrations["svc"].get_module()
    await hub.async_stop()
    assert manager.status["svc"].state is IntegrationState.unloaded
    assert not hub.services.has_service("svc", "ping")
    assert module.CALLS.count(("undone",)) == 1
