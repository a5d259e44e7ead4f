"""From a config dir to a running hub: load and check the configuration, then set everything up in order."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from .audit import async_setup_audit
from .auth import async_setup_permissions
from .clock import Clock
from .config.core import CORE_CONFIG_SCHEMA, CoreConfig, load_configuration
from .config.validation import validate
from .config.yaml_loader import get_location
from .core import Hub, HubKey, ServiceCall, SupportsResponse, callback
from .evidence import async_setup_evidence
from .exceptions import ConfigError, HubError
from .helpers import area_registry, device_registry, entity_registry
from .helpers.area_registry import CONFIG_SCHEMA as AREAS_SCHEMA
from .http import CONFIG_SCHEMA as HTTP_SCHEMA
from .http import async_setup_http
from .loader import discover_integrations
from .log import CONFIG_SCHEMA as LOGGER_SCHEMA
from .log import setup_logging
from .recorder import CONFIG_SCHEMA as RECORDER_SCHEMA
from .recorder import async_setup_recorder
from .recorder.migration import VersionLocation, async_register_version_location
from .setup import async_get_setup_manager, validate_integration_config

__all__ = [
    "CORE_SECTIONS",
    "Component",
    "LoadedConfig",
    "async_run",
    "async_setup_hub",
    "check_config",
    "load_and_check_core",
]

_LOGGER = logging.getLogger(__name__)

# Sections owned by the hub itself rather than by an integration (components add their own).
CORE_SECTIONS = ("hub", "recorder", "http", "logger", "areas")


@dataclass(frozen=True, slots=True)
class Component:
    """A part above the core that the composition root plugs in (the automation engine, the frontend).

    The core never imports it: `hacho.bootstrap` hands the components to the functions below.
    `sections` are the top-level keys of configuration.yaml it owns. A section with a `schema` is
    validated with the core sections (an error there stops the start); `check` returns the errors
    of the raw sections for `check-config` (blocking). `async_setup(hub, sections)` receives the
    owned sections (validated where a schema is given); it runs after HTTP and the evidence
    service, before the integrations when `before_integrations`, else after them. `migrations` is its
    folder of alembic revisions, which the recorder upgrades with the core's when it starts.
    """

    name: str
    sections: tuple[str, ...]
    async_setup: Callable[[Hub, dict[str, Any]], Awaitable[Any]]
    schema: Callable[[Any], Any] | None = None
    check: Callable[[dict[str, Any]], list[str]] | None = None
    before_integrations: bool = False
    migrations: VersionLocation | None = None  # its alembic revisions (its tables), migrated with the core's
    owns: Callable[[Any], bool] | None = None  # for keys that vary (`automation ui:`): True for each it owns

    def owns_key(self, key: Any) -> bool:
        """Whether this component owns the top-level key `key`."""
        return key in self.sections or (self.owns is not None and self.owns(key))

    def owned(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The raw sections this component owns, in the file's order."""
        return {key: value for key, value in raw.items() if self.owns_key(key)}


_COMPONENTS: HubKey[tuple[Component, ...]] = HubKey("bootstrap_components")


def _is_owned(key: Any, components: Sequence[Component]) -> bool:
    """Whether a top-level key belongs to the core or a component (not to an integration)."""
    return key in CORE_SECTIONS or any(component.owns_key(key) for component in components)


@dataclass(slots=True)
class LoadedConfig:
    """The raw configuration and the validated core sections."""

    raw: dict[str, Any]
    core: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _core_schemas(components: Sequence[Component]) -> dict[str, Callable[[Any], Any]]:
    return {
        "hub": CORE_CONFIG_SCHEMA,
        "recorder": RECORDER_SCHEMA,
        "http": HTTP_SCHEMA,
        "logger": LOGGER_SCHEMA,
        "areas": AREAS_SCHEMA,
        **{c.sections[0]: c.schema for c in components if c.schema is not None},
    }


def load_and_check_core(config_dir: Path, components: Sequence[Component] = (), collect: bool = False) -> LoadedConfig:
    """Read configuration.yaml and validate the core sections and the components' schemas (blocking).

    Raises ConfigError when the file cannot be read at all. With `collect`, an included file that
    cannot be read is an error in `errors` and the rest is still loaded (for check-config).
    """
    file_errors: list[str] | None = [] if collect else None
    raw = load_configuration(config_dir, file_errors)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        path = config_dir / "configuration.yaml"
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    loaded = LoadedConfig(raw=raw, errors=list(file_errors or []))
    for section, schema in _core_schemas(components).items():
        value = raw.get(section)
        if value is None:
            value = [] if section == "areas" else {}
        try:
            loaded.core[section] = validate(schema, value, section)
        except ConfigError as err:
            loaded.errors.extend(err.errors)
    return loaded


def check_config(config_dir: Path, components: Sequence[Component] = ()) -> list[str]:
    """Every error in the configuration, core, components and integrations alike (blocking)."""
    try:
        loaded = load_and_check_core(config_dir, components, collect=True)
    except ConfigError as err:
        return list(err.errors)
    errors = list(loaded.errors)
    integrations, discovery_errors = discover_integrations(config_dir)
    errors.extend(discovery_errors)
    for domain, value in loaded.raw.items():
        if _is_owned(domain, components):
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
    for component in components:
        sections = component.owned(loaded.raw)
        if component.check is not None and sections:
            errors.extend(component.check(sections))
    return errors


def _where(raw: Any, key: Any) -> str:
    location = get_location(raw, key)
    return f"{location[0]}:{location[1]}: " if location else ""


async def async_setup_hub(config_dir: Path, loaded: LoadedConfig, *, clock: Clock | None = None,
                          start_http: bool = True, components: Sequence[Component] = ()) -> Hub:
    """Create the hub; set up registries, recorder, the API, components and integrations, in that order.

    With `start_http` the server listens before the integrations set up; this returns when everything is set up
    and the hub has started (`hub_started` fired).
    """
    hub = Hub(config_dir, clock=clock)
    hub.config = CoreConfig.from_config(loaded.core["hub"])
    hub.data[_COMPONENTS] = tuple(components)
    _register_core_services(hub)

    await entity_registry.async_load(hub)
    await device_registry.async_load(hub)
    await area_registry.async_setup_areas(hub, loaded.core["areas"])

    for component in components:
        if component.migrations is not None:
            async_register_version_location(hub, component.migrations.owner, component.migrations.path)
    try:
        await async_setup_recorder(hub, loaded.core["recorder"])
    except Exception:
        _LOGGER.exception("Recorder could not start; the hub runs without history")

    http = await async_setup_http(hub, loaded.core["http"])

    await async_setup_permissions(hub)  # role/centre checks on every service call, whatever the path
    try:
        await async_setup_audit(hub)  # before integrations, so their first commands are audited
    except HubError as err:
        _LOGGER.error("Audit log not running: %s", err)

    await async_setup_evidence(hub)  # evidence.export and GET /api/evidence (signed zips for Justice)

    for component in components:
        if component.before_integrations:
            await _async_setup_component(hub, component, loaded)

    sections = {k: v for k, v in loaded.raw.items() if not _is_owned(k, components)}
    later = [component for component in components if not component.before_integrations]
    manager = async_get_setup_manager(hub)
    manager.starting.update(dict.fromkeys([*sections, *(component.sections[0] for component in later)]))
    if start_http:
        # The API and the login page answer from here on, while the integrations set up (their views come as
        # they do); `/api/` lists what is still starting, and the hub's state turns RUNNING when all is set up.
        await http.async_start()
    await manager.async_setup_all(sections)

    for component in later:
        await _async_setup_component(hub, component, loaded)
        manager.starting.pop(component.sections[0], None)

    await hub.async_start()
    return hub


async def _async_setup_component(hub: Hub, component: Component, loaded: LoadedConfig) -> None:
    """Set one component up; a failing one is logged and the hub keeps running without it."""
    sections = component.owned(loaded.raw)
    if component.schema is not None:
        sections = {section: loaded.core[section] for section in component.sections}
    try:
        await component.async_setup(hub, sections)
    except HubError as err:
        _LOGGER.error("%s not running: %s", component.name, err)
    except Exception:
        _LOGGER.exception("%s failed to start; the rest of the hub keeps running", component.name)


def _register_core_services(hub: Hub) -> None:
    @callback
    def stop(call: ServiceCall) -> None:
        hub.async_request_stop(0)

    async def reload_integration(call: ServiceCall) -> None:
        domain = call.data["domain"]
        loaded = await hub.async_add_executor_job(load_and_check_core, hub.config_dir, hub.data[_COMPONENTS])
        await async_get_setup_manager(hub).async_reload_integration(domain, loaded.raw.get(domain))

    async def check(call: ServiceCall) -> dict[str, Any]:
        errors = await hub.async_add_executor_job(check_config, hub.config_dir, hub.data[_COMPONENTS])
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


async def async_run(config_dir: Path, *, verbose: bool = False, components: Sequence[Component] = ()) -> int:
    """Run the hub until SIGINT/SIGTERM. Exit codes: 0 clean stop, 2 fatal configuration error."""
    setup_logging(verbose=verbose)
    loop = asyncio.get_running_loop()
    try:
        loaded = await loop.run_in_executor(None, load_and_check_core, config_dir, components)
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
    started: list[Hub] = []
    stop_asked = asyncio.Event()

    def _request_stop() -> None:
        if started:
            started[0].async_request_stop(0)
        elif not stop_asked.is_set():  # the API answers during the start, so a stop can come before it ends
            _LOGGER.info("Stop requested while starting: stopping once every integration is set up")
            stop_asked.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _request_stop)
    try:
        hub = await async_setup_hub(config_dir, loaded, components=components)
        started.append(hub)
        if stop_asked.is_set():
            hub.async_request_stop(0)
        http_conf = loaded.core["http"]
        _LOGGER.info("Hacho is running on http://%s:%s", http_conf.get("host"), http_conf.get("port"))
        code = await hub.async_wait_stopped()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    _LOGGER.info("Hacho stopped (exit %s)", code)
    return code
