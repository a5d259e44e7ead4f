"""Setting up, unloading and reloading integrations: dependency order, concurrency, timeouts, isolation."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .config.validation import validate
from .const import EVENT_HUB_STOP, EVENT_INTEGRATION_FAILED, EVENT_INTEGRATION_LOADED, EVENT_INTEGRATION_UNLOADED
from .core import Event, Hub, HubKey, callback
from .exceptions import ConfigError, DependencyError, HubError, IntegrationNotFound
from .helpers.entity_platform import async_remove_entities
from .loader import Integration, async_get_integrations, get_integration
from .setup_handle import async_drain_setup_handle

__all__ = [
    "DependencyError",
    "IntegrationState",
    "IntegrationStatus",
    "SetupManager",
    "async_get_setup_manager",
    "find_dependency_cycle",
    "validate_integration_config",
]

_LOGGER = logging.getLogger(__name__)

SETUP_MANAGER: HubKey[SetupManager] = HubKey("setup_manager")
DEFAULT_SETUP_TIMEOUT = 120.0


class IntegrationState(enum.Enum):
    """Where an integration stands."""

    not_loaded = "not_loaded"
    setting_up = "setting_up"
    loaded = "loaded"
    failed = "failed"
    config_error = "config_error"
    unloaded = "unloaded"


@dataclass(slots=True)
class IntegrationStatus:
    """State of one integration, with the reason when it failed."""

    domain: str
    state: IntegrationState = IntegrationState.not_loaded
    error: str | None = None
    setup_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "state": self.state.value, "error": self.error,
                "setup_seconds": self.setup_seconds}


def find_dependency_cycle(graph: Mapping[str, list[str] | tuple[str, ...]]) -> list[str] | None:
    """A dependency cycle as a list of domains (first == last), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for dep in graph.get(node, ()):
            if dep not in colour:
                continue
            if colour[dep] == grey:
                return [*stack[stack.index(dep):], dep]
            if colour[dep] == white and (cycle := visit(dep)):
                return cycle
        stack.pop()
        colour[node] = black
        return None

    for node in graph:
        if colour[node] == white and (cycle := visit(node)):
            return cycle
    return None


def validate_integration_config(module: ModuleType, domain: str, raw: Any) -> Any:
    """Validate a section with the integration's CONFIG_SCHEMA (defaults applied). Raises ConfigError."""
    schema = getattr(module, "CONFIG_SCHEMA", None)
    if raw is None:
        raw = {}
    if schema is None:
        return raw
    return validate(schema, raw, domain)


class SetupManager:
    """Tracks every integration's status and runs setup, unload and reload."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.status: dict[str, IntegrationStatus] = {}
        self.configs: dict[str, Any] = {}
        self._integrations: dict[str, Integration] = {}
        self._done: dict[str, asyncio.Future[bool]] = {}
        self.setup_timeout = DEFAULT_SETUP_TIMEOUT
        # What the start still sets up (integrations, then the components after them), in order; shown by `/api/`
        self.starting: dict[str, None] = {}
        # A stopping hub unloads its integrations (their threads, processes and servers end with them), so that
        # `hacho run` exits on SIGINT/SIGTERM instead of hanging on an integration's running thread.
        hub.bus.async_listen_once(EVENT_HUB_STOP, self._async_hub_stop)

    async def _async_hub_stop(self, event: Event) -> None:
        await self.async_unload_all()

    @callback
    def loaded(self) -> list[str]:
        """Domains that are set up."""
        return [d for d, s in self.status.items() if s.state is IntegrationState.loaded]

    def _status(self, domain: str) -> IntegrationStatus:
        if domain not in self.status:
            self.status[domain] = IntegrationStatus(domain)
        return self.status[domain]

    @callback
    def _fail(self, domain: str, state: IntegrationState, message: str) -> None:
        status = self._status(domain)
        status.state = state
        status.error = message
        self.hub.bus.async_fire(EVENT_INTEGRATION_FAILED, {"domain": domain, "error": message})

    async def async_setup_all(self, sections: Mapping[str, Any]) -> dict[str, IntegrationStatus]:
        """Set up every configured domain and its dependencies; one failing never stops the others."""
        self._integrations = await async_get_integrations(self.hub)
        wanted: dict[str, Any] = {}
        pending = list(sections)
        raw_configs = dict(sections)
        while pending:
            domain = pending.pop()
            if domain in wanted:
                continue
            try:
                integration = get_integration(self._integrations, domain)
            except IntegrationNotFound as err:
                self._fail(domain, IntegrationState.config_error, str(err))
                _LOGGER.error("%s", err)
                continue
            wanted[domain] = raw_configs.get(domain)
            for dep in integration.manifest.dependencies:
                if dep not in wanted:
                    pending.append(dep)
        graph = {d: list(self._integrations[d].manifest.dependencies) for d in wanted}
        cycle = find_dependency_cycle(graph)
        if cycle:
            message = f"Dependency cycle: {' -> '.join(cycle)}"
            _LOGGER.error("%s", message)
            for domain in set(cycle):
                self._fail(domain, IntegrationState.config_error, message)
                wanted.pop(domain, None)
        loop = self.hub.loop
        for domain in wanted:
            self._done[domain] = loop.create_future()
        self.starting.update(dict.fromkeys(sorted(wanted)))
        for domain in set(sections) - set(wanted):  # not found, or in a cycle: nothing to wait for
            self.starting.pop(domain, None)
        await asyncio.gather(*(self._async_setup_when_ready(d, wanted[d], set(wanted)) for d in wanted))
        return dict(self.status)

    async def _async_setup_when_ready(self, domain: str, raw: Any, wanted: set[str]) -> None:
        integration = self._integrations[domain]
        deps = list(integration.manifest.dependencies)
        after = [d for d in integration.manifest.after_dependencies if d in wanted and d != domain]
        failed_deps = []
        for dep in deps:
            fut = self._done.get(dep)
            ok = await fut if fut is not None else self._status(dep).state is IntegrationState.loaded
            if not ok:
                failed_deps.append(dep)
        for dep in after:
            fut = self._done.get(dep)
            if fut is not None:
                await fut
        if failed_deps:
            message = f"Dependency failed: {', '.join(failed_deps)}"
            self._fail(domain, IntegrationState.failed, message)
            _LOGGER.error("Not setting up %s: %s", domain, message)
            result = False
        else:
            result = await self.async_setup_integration(domain, raw)
        self.starting.pop(domain, None)
        fut = self._done.get(domain)
        if fut is not None and not fut.done():
            fut.set_result(result)

    async def async_setup_integration(self, domain: str, raw: Any) -> bool:
        """Import, validate and set up one integration, isolated: any failure is logged and recorded."""
        status = self._status(domain)
        if status.state is IntegrationState.loaded:
            return True
        if not self._integrations:
            self._integrations = await async_get_integrations(self.hub)
        try:
            integration = get_integration(self._integrations, domain)
            module = await self.hub.async_add_executor_job(integration.get_module)
        except IntegrationNotFound as err:
            self._fail(domain, IntegrationState.config_error, str(err))
            return False
        except Exception as err:
            _LOGGER.exception("Cannot import integration %s", domain)
            self._fail(domain, IntegrationState.failed, f"import failed: {err}")
            return False
        try:
            config = validate_integration_config(module, domain, raw)
        except ConfigError as err:
            for line in err.errors:
                _LOGGER.error("Invalid config for %s: %s", domain, line)
            self._fail(domain, IntegrationState.config_error, "; ".join(err.errors))
            return False
        setup = getattr(module, "async_setup", None)
        if setup is None:
            self._fail(domain, IntegrationState.failed, "integration has no async_setup")
            return False
        status.state = IntegrationState.setting_up
        await async_drain_setup_handle(self.hub, domain)  # nothing left over from an earlier setup
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.setup_timeout):
                result = await setup(self.hub, config)
        except TimeoutError:
            message = f"setup timed out after {self.setup_timeout:.0f} s"
            _LOGGER.error("Setup of %s: %s", domain, message)
            self._fail(domain, IntegrationState.failed, message)
            await self._async_cleanup_failed(domain, module)
            return False
        except HubError as err:
            _LOGGER.error("Setup of %s failed: %s", domain, err)
            self._fail(domain, IntegrationState.failed, str(err))
            await self._async_cleanup_failed(domain, module)
            return False
        except Exception as err:
            _LOGGER.exception("Setup of %s failed", domain)
            self._fail(domain, IntegrationState.failed, f"{type(err).__name__}: {err}")
            await self._async_cleanup_failed(domain, module)
            return False
        if result is False:
            self._fail(domain, IntegrationState.failed, "setup returned False")
            await self._async_cleanup_failed(domain, module)
            return False
        status.state = IntegrationState.loaded
        status.error = None
        status.setup_seconds = round(time.monotonic() - started, 3)
        self.configs[domain] = config
        self.hub.bus.async_fire(EVENT_INTEGRATION_LOADED, {"domain": domain})
        _LOGGER.info("Set up %s in %.2f s", domain, status.setup_seconds)
        return True

    async def _async_cleanup_failed(self, domain: str, module: ModuleType) -> None:
        unload = getattr(module, "async_unload", None)
        if unload is not None:
            try:
                await unload(self.hub)
            except Exception:
                _LOGGER.debug("Unload after failed setup of %s raised", domain, exc_info=True)
        await async_drain_setup_handle(self.hub, domain)
        await async_remove_entities(self.hub, domain)

    def dependents(self, domain: str) -> list[str]:
        """Loaded integrations that depend on `domain`."""
        return [
            d for d in self.loaded()
            if d in self._integrations and domain in self._integrations[d].manifest.dependencies
        ]

    async def async_unload_integration(self, domain: str) -> bool:
        """Unload one integration (its dependents first) and remove its entities."""
        status = self.status.get(domain)
        if status is None or status.state is not IntegrationState.loaded:
            return False
        for dependent in self.dependents(domain):
            await self.async_unload_integration(dependent)
        module = self._integrations[domain].get_module()
        unload = getattr(module, "async_unload", None)
        ok = True
        if unload is not None:
            try:
                ok = (await unload(self.hub)) is not False
            except Exception:
                _LOGGER.exception("Error unloading %s", domain)
                ok = False
        await async_drain_setup_handle(self.hub, domain)
        await async_remove_entities(self.hub, domain)
        status.state = IntegrationState.unloaded
        self.hub.bus.async_fire(EVENT_INTEGRATION_UNLOADED, {"domain": domain})
        return ok

    async def async_reload_integration(self, domain: str, raw: Any) -> bool:
        """Validate new config first (keep the running one on error), then unload and set up again."""
        integration = get_integration(self._integrations or await async_get_integrations(self.hub), domain)
        module = await self.hub.async_add_executor_job(integration.get_module)
        validate_integration_config(module, domain, raw)  # raises ConfigError: nothing touched
        dependents = self.dependents(domain)
        await self.async_unload_integration(domain)
        ok = await self.async_setup_integration(domain, raw)
        for dependent in dependents:
            await self.async_setup_integration(dependent, self.configs.get(dependent))
        return ok

    async def async_unload_all(self) -> None:
        """Unload everything, dependents before their dependencies."""
        for domain in reversed(list(self.loaded())):
            if self.status[domain].state is IntegrationState.loaded:
                await self.async_unload_integration(domain)


@callback
def async_get_setup_manager(hub: Hub) -> SetupManager:
    """The hub's SetupManager (created on first use)."""
    manager = hub.data.get(SETUP_MANAGER)
    if manager is None:
        manager = hub.data[SETUP_MANAGER] = SetupManager(hub)
    return manager
