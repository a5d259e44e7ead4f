"""From a config dir to a running hub: load and check the configuration, then set everything up in order."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from .clock import Clock
from .config.sections import is_automation_section
from .core import Hub, ServiceCall, SupportsResponse, callback
from .exceptions import ConfigError, HubError

__all__ = [
    "CORE_SECTIONS",
    "LoadedConfig",
    "async_run",
    "async_setup_hub",
    "check_config",
    "load_and_check_core",
]

_LOGGER = logging.getLogger(__name__)

# Sections owned by the hub itself rather than by an integration.
AUTOMATION_SECTIONS = ("automation", "automations", "script")
CORE_SECTIONS = ("hub", "recorder", "http", "logger", "areas", "frontend", *AUTOMATION_SECTIONS)


@dataclass(slots=True)
class LoadedConfig:
    """The raw configuration and the validated core sections."""

    raw: dict[str, Any]
    core: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _core_schemas() -> dict[str, Callable[[Any], Any]]:
    from frontend import CONFIG_SCHEMA as FRONTEND_SCHEMA

    from .config.core import CORE_CONFIG_SCHEMA
    from .helpers.area_registry import CONFIG_SCHEMA as AREAS_SCHEMA
    from .http import CONFIG_SCHEMA as HTTP_SCHEMA
    from .log import CONFIG_SCHEMA as LOGGER_SCHEMA
    from .recorder import CONFIG_SCHEMA as RECORDER_SCHEMA

    return {
        "hub": CORE_CONFIG_SCHEMA,
        "recorder": RECORDER_SCHEMA,
        "http": HTTP_SCHEMA,
        "logger": LOGGER_SCHEMA,
        "areas": AREAS_SCHEMA,
        "frontend": FRONTEND_SCHEMA,
    }


def load_and_check_core(config_dir: Path, collect: bool = False) -> LoadedConfig:
    """Read configuration.yaml and validate the core sections (blocking).

    Raises ConfigError when the file cannot be read at all. With `collect`, an included file that
    cannot be read is an error in `errors` and the rest is still loaded (for check-config).
    """
    from .config.core import load_configuration
    from .config.validation import validate

    file_errors: list[str] | None = [] if collect else None
    raw = load_configuration(config_dir, file_errors)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        path = config_dir / "configuration.yaml"
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    loaded = LoadedConfig(raw=raw, errors=list(file_errors or []))
    for section, schema in _core_schemas().items():
        value = raw.get(section)
        if value is None:
            value = [] if section == "areas" else {}
        try:
            loaded.core[section] = validate(schema, value, section)
        except ConfigError as err:
            loaded.errors.extend(err.errors)
    return loaded


def check_config(config_dir: Path) -> list[str]:
    """Every error in the configuration, core, integrations and automations alike (blocking)."""
    from .loader import discover_integrations
    from .setup import validate_integration_config

    try:
        loaded = load_and_check_core(config_dir, collect=True)
    except ConfigError as err:
        return list(err.errors)
    errors = list(loaded.errors)
    integrations, discovery_errors = discover_integrations(config_dir)
    errors.extend(discovery_errors)
    for domain, value in loaded.raw.items():
        if domain in CORE_SECTIONS or is_automation_section(domain):
            continue
        integration = integrations.get(domain)
        if integration is None:
            import difflib

            close = difflib.get_close_matches(str(domain), list(integrations), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            if domain == "homeassistant":
                hint = (" (Hacho's core section is `hub:`: name, latitude, longitude, time_zone...;"
                        " packages work in either)")
            errors.append(f"{_where(loaded.raw, domain)}No integration named '{domain}'{hint}")
            continue
        for dep in integration.manifest.dependencies:
            if dep not in integrations:
                errors.append(f"[{domain}] depends on '{dep}', which is not an integration")
        try:
            module = integration.get_module()
        except Exception as err:  # an integration that cannot import is a config problem here
            errors.append(f"[{domain}] cannot be imported: {type(err).__name__}: {err}")
            continue
        try:
            validate_integration_config(module, domain, value)
        except ConfigError as err:
            errors.extend(err.errors)
    errors.extend(_check_automations(loaded.raw))
    return errors


def _where(raw: Any, key: Any) -> str:
    from .config.yaml_loader import get_location

    location = get_location(raw, key)
    return f"{location[0]}:{location[1]}: " if location else ""


def _automation_sections(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if is_automation_section(key)}


def _check_automations(raw: dict[str, Any]) -> list[str]:
    sections = _automation_sections(raw)
    if not sections:
        return []
    from automations import check_config as check_automations

    return list(check_automations(sections))


async def async_setup_hub(config_dir: Path, loaded: LoadedConfig, *, clock: Clock | None = None,
                          start_http: bool = True) -> Hub:
    """Create the hub; set up registries, recorder, integrations, automations and the API, in that order."""
    from .config.core import CoreConfig
    from .helpers import area_registry, device_registry, entity_registry
    from .setup import async_get_setup_manager

    hub = Hub(config_dir, clock=clock)
    hub.config = CoreConfig.from_config(loaded.core["hub"])
    _register_core_services(hub)

    await entity_registry.async_load(hub)
    await device_registry.async_load(hub)
    await area_registry.async_setup_areas(hub, loaded.core["areas"])

    from .recorder import async_setup_recorder

    try:
        await async_setup_recorder(hub, loaded.core["recorder"])
    except Exception:
        _LOGGER.exception("Recorder could not start; the hub runs without history")

    from .http import async_setup_http

    http = await async_setup_http(hub, loaded.core["http"])

    from .audit import async_setup_audit
    from .auth import async_setup_permissions

    await async_setup_permissions(hub)  # role/centre checks on every service call, whatever the path
    try:
        await async_setup_audit(hub)  # before integrations, so their first commands are audited
    except HubError as err:
        _LOGGER.error("Audit log not running: %s", err)

    from .evidence import async_setup_evidence

    await async_setup_evidence(hub)  # evidence.export and GET /api/evidence (signed zips for Justice)

    from frontend import async_setup_frontend

    try:
        await async_setup_frontend(hub, loaded.core["frontend"])
    except HubError as err:
        _LOGGER.error("Operator frontend not running: %s", err)

    sections = {k: v for k, v in loaded.raw.items() if k not in CORE_SECTIONS and not is_automation_section(k)}
    manager = async_get_setup_manager(hub)
    await manager.async_setup_all(sections)

    from automations import async_setup as async_setup_automations

    try:
        await async_setup_automations(hub, _automation_sections(loaded.raw))
    except Exception:
        _LOGGER.exception("Automation engine failed to start; devices keep running")

    await hub.async_start()
    if start_http:
        await http.async_start()
    return hub


def _register_core_services(hub: Hub) -> None:
    from .setup import async_get_setup_manager

    @callback
    def stop(call: ServiceCall) -> None:
        hub.async_request_stop(0)

    async def reload_integration(call: ServiceCall) -> None:
        domain = call.data["domain"]
        loaded = await hub.async_add_executor_job(load_and_check_core, hub.config_dir)
        await async_get_setup_manager(hub).async_reload_integration(domain, loaded.raw.get(domain))

    async def check(call: ServiceCall) -> dict[str, Any]:
        errors = await hub.async_add_executor_job(check_config, hub.config_dir)
        return {"valid": not errors, "errors": errors}

    @callback
    def integrations(call: ServiceCall) -> dict[str, Any]:
        manager = async_get_setup_manager(hub)
        return {"integrations": [s.as_dict() for s in manager.status.values()]}

    hub.services.async_register("hub", "stop", stop)
    hub.services.async_register("hub", "reload_integration", reload_integration,
                                schema=vol.Schema({vol.Required("domain"): str}))
    hub.services.async_register("hub", "check_config", check, supports_response=SupportsResponse.ONLY)
    hub.services.async_register("hub", "integrations", integrations, supports_response=SupportsResponse.ONLY)


async def async_run(config_dir: Path, *, verbose: bool = False) -> int:
    """Run the hub until SIGINT/SIGTERM. Exit codes: 0 clean stop, 2 fatal configuration error."""
    from .log import setup_logging

    setup_logging(verbose=verbose)
    loop = asyncio.get_running_loop()
    try:
        loaded = await loop.run_in_executor(None, load_and_check_core, config_dir)
    except ConfigError as err:
        for line in err.errors:
            _LOGGER.critical("%s", line)
        return 2
    if loaded.errors:
        for line in loaded.errors:
            _LOGGER.critical("%s", line)
        _LOGGER.critical("Fatal configuration errors in core sections; not starting")
        return 2
    setup_logging(loaded.core["logger"], verbose=verbose)
    hub = await async_setup_hub(config_dir, loaded)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, hub.async_request_stop, 0)
    http_conf = loaded.core["http"]
    _LOGGER.info("Hacho is running on http://%s:%s", http_conf.get("host"), http_conf.get("port"))
    code = await hub.async_wait_stopped()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
    _LOGGER.info("Hacho stopped (exit %s)", code)
    return code
