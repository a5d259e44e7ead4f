"""`script:` definitions: entities and services `script.<name>` (with fields and a response)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.core import Context, Hub, HubKey, ServiceCall, SupportsResponse, callback
from hub.exceptions import HubError, ServiceValidationError
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.template import render_complex

from .config import ScriptConfig
from .const import MODE_PARALLEL, MODE_QUEUED, SCRIPT_DOMAIN
from .script import Script, ScriptRun
from .trace import EXEC_ERROR, RunTrace, TraceStore, get_trace_store

__all__ = ["DATA_SCRIPTS", "ScriptEntity", "ScriptManager", "get_script_manager"]

_LOGGER = logging.getLogger(__name__)

DATA_SCRIPTS: HubKey[ScriptManager] = HubKey("automations_scripts")


class ScriptEntity(Entity):
    """A reusable script: on while it runs; `script.<name>` runs it and returns its response."""

    domain = SCRIPT_DOMAIN

    def __init__(self, hub: Hub, cfg: ScriptConfig, traces: TraceStore) -> None:
        config = cfg.config
        self.hub = hub
        self.key = cfg.key
        self.entity_id = f"{SCRIPT_DOMAIN}.{cfg.key}"
        self.alias = cfg.alias
        self.fingerprint = cfg.fingerprint
        self._attr_name = cfg.alias
        self._attr_icon = config.get("icon")
        self.fields: dict[str, Any] = {name: field or {} for name, field in config["fields"].items()}
        self._variables: dict[str, Any] | None = config.get("variables")
        self._traces = traces
        traces.configure(self.entity_id, config["trace"]["stored_traces"])
        self.script = Script(hub, config["sequence"], name=cfg.alias, key=self.entity_id, mode=config["mode"],
                             max_runs=config["max"], max_exceeded=config["max_exceeded"], traces=traces,
                             path="sequence", on_run_end=self._run_ended)
        self._last_triggered: float | None = None

    @property
    def state(self) -> str:
        """'on' while a run is in progress."""
        return "on" if self.script.is_running else "off"

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """last_triggered, mode, current (and max)."""
        last = self._last_triggered
        attrs: dict[str, Any] = {
            "last_triggered": None if last is None else datetime.fromtimestamp(last, UTC),
            "mode": self.script.mode,
            "current": len(self.script.runs),
        }
        if self.script.mode in (MODE_QUEUED, MODE_PARALLEL):
            attrs["max"] = self.script.max_runs
        return attrs

    def _variables_for(self, data: Mapping[str, Any]) -> dict[str, Any]:
        missing = [name for name, field in self.fields.items()
                   if field.get("required") and name not in data and "default" not in field]
        if missing:
            raise ServiceValidationError(f"script.{self.key}: missing required field {missing[0]!r}",
                                         path=[missing[0]])
        variables: dict[str, Any] = {name: field["default"] for name, field in self.fields.items()
                                     if "default" in field}
        variables.update(data)
        variables["this"] = self.hub.states.get(self.entity_id)
        if self._variables:
            for name, value in self._variables.items():
                if name not in data:
                    variables[name] = render_complex(self.hub, value, variables)
        return variables

    @callback
    def async_start_run(self, data: Mapping[str, Any], context: Context) -> ScriptRun | None:
        """Start a run with `data` as variables (fields applied); returns it (None: refused by the mode)."""
        run_context = context.child()
        trace = RunTrace(self.hub, self.entity_id, run_context, "service call")
        try:
            variables = self._variables_for(data)
        except HubError as err:
            trace.set_error(err)
            self._traces.finish(trace, EXEC_ERROR)
            raise
        trace.add("sequence", None, {k: v for k, v in variables.items() if k != "this"})
        self._last_triggered = self.hub.clock.time()
        run = self.script.async_start(variables, run_context, trace)
        if self.hub.states.get(self.entity_id) is not None:
            self.async_set_context(run_context)
            self.async_write_state()
        return run

    async def async_call(self, call: ServiceCall) -> dict[str, Any] | None:
        """The `script.<name>` service: run and wait; the response of a `stop` step is returned."""
        run = self.async_start_run(dict(call.data), call.context)
        if run is None:
            raise HubError(f"script.{self.key} is already running (mode {self.script.mode})")
        if run.eager is not None:
            await run.eager.wait()
        if run.trace.error is not None and run.trace.execution == EXEC_ERROR:
            raise HubError(f"script.{self.key} failed: {run.trace.error}")
        response = run.response
        if response is not None and not isinstance(response, dict):
            response = {"value": response}
        return response if call.return_response else None

    @callback
    def _run_ended(self, run: ScriptRun) -> None:
        if self.hub.states.get(self.entity_id) is not None:
            self.async_write_state()


class ScriptManager:
    """The loaded scripts and their per-script services."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.traces = get_trace_store(hub)
        self.scripts: dict[str, ScriptEntity] = {}
        self._service_removers: dict[str, Any] = {}

    async def async_apply(self, configs: list[ScriptConfig]) -> list[str]:
        """Swap in a new set of scripts; unchanged ones (same content) keep running."""
        errors: list[str] = []
        new: dict[str, ScriptEntity] = {}
        for cfg in configs:
            current = self.scripts.get(cfg.key)
            if current is not None and current.fingerprint == cfg.fingerprint:
                new[cfg.key] = current
                continue
            try:
                new[cfg.key] = ScriptEntity(self.hub, cfg, self.traces)
            except Exception as err:
                errors.append(f"[script '{cfg.key}'] {type(err).__name__}: {err}")
        from hub.helpers import entity_platform

        for key, entity in list(self.scripts.items()):
            if new.get(key) is entity:
                continue
            del self.scripts[key]
            self._service_removers.pop(key)()
            await entity.script.async_stop()
            await entity_platform.async_remove_entity(self.hub, entity)
        added = [entity for key, entity in new.items() if key not in self.scripts]
        for entity in added:
            self.scripts[entity.key] = entity
            self._service_removers[entity.key] = self.hub.services.async_register(
                SCRIPT_DOMAIN, entity.key, entity.async_call, supports_response=SupportsResponse.OPTIONAL,
                description=entity.alias)
        if added:
            await async_add_entities(self.hub, SCRIPT_DOMAIN, added)
        return errors

    def by_entity_id(self, entity_id: str) -> ScriptEntity | None:
        """The script behind `script.<name>`."""
        return self.scripts.get(entity_id.partition(".")[2]) if entity_id.startswith("script.") else None


def get_script_manager(hub: Hub) -> ScriptManager:
    """The hub's script manager (created on first use)."""
    manager = hub.data.get(DATA_SCRIPTS)
    if manager is None:
        manager = hub.data[DATA_SCRIPTS] = ScriptManager(hub)
    return manager
