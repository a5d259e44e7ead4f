"""Automation entities `automation.<id>` and the manager that loads, reloads (atomically) and stops them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.core import Context, Hub, HubKey, callback
from hub.exceptions import HubError
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.template import render_complex

from .conditions import ConditionCheck, compile_conditions
from .config import AutomationConfig
from .const import (
    ATTR_CURRENT,
    ATTR_ID,
    ATTR_LAST_TRIGGERED,
    ATTR_MAX,
    ATTR_MODE,
    DOMAIN,
    EVENT_AUTOMATION_TRIGGERED,
    MODE_PARALLEL,
    MODE_QUEUED,
)
from .durable import AutomationCheckpoints, ForRecords
from .script import Script, ScriptRun
from .storage import KIND_STATE, DurableRecord, get_store
from .trace import EXEC_ERROR, EXEC_FAILED_CONDITIONS, RunTrace, TraceStore, get_trace_store
from .triggers import async_attach_triggers

__all__ = ["DATA_AUTOMATIONS", "Automation", "AutomationManager", "get_manager"]

_LOGGER = logging.getLogger(__name__)

Resume = tuple[list[dict[str, Any]], dict[str, Any]]
_TRIGGER_PATHS = {str(idx): f"trigger/{idx}" for idx in range(32)}


class Automation(Entity):
    """One automation: triggers attached while on; conditions then the action script on each trigger."""

    domain = DOMAIN

    def __init__(self, hub: Hub, cfg: AutomationConfig, traces: TraceStore) -> None:
        config = cfg.config
        self.hub = hub
        self.entity_id = f"{DOMAIN}.{cfg.key}"
        self.automation_id: str | None = config.get("id")
        self.alias = cfg.alias
        self.fingerprint = cfg.fingerprint
        self.location = cfg.location
        self.on_restart: str = config["on_restart"]
        self.catch_up: bool | float = config["catch_up"]
        self._attr_name = cfg.alias
        self._attr_unique_id = self.automation_id
        self._triggers: list[dict[str, Any]] = config["triggers"]
        self._variables: dict[str, Any] | None = config.get("variables")
        self._trigger_variables: dict[str, Any] | None = config.get("trigger_variables")
        self._initial_state: bool | None = config.get("initial_state")
        self._condition: ConditionCheck | None = compile_conditions(hub, config["conditions"], "condition")
        self._traces = traces
        traces.configure(self.entity_id, config["trace"]["stored_traces"])
        self.script = Script(hub, config["actions"], name=cfg.alias, key=self.entity_id, mode=config["mode"],
                             max_runs=config["max"], max_exceeded=config["max_exceeded"], traces=traces,
                             on_run_end=self._run_ended)
        self._enabled = False
        self._unsub_triggers: Any = None
        self._last_triggered: float | None = None
        self._starting = False
        store = self._store = get_store(hub)
        self.script.checkpoints = AutomationCheckpoints(store, self)
        self._for_store = ForRecords(store, self.entity_id, cfg.fingerprint)

    # ---- entity

    @property
    def state(self) -> str:
        """'on' while triggers are attached."""
        return "on" if self._enabled else "off"

    @property
    def is_on(self) -> bool:
        """Whether the automation is enabled."""
        return self._enabled

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """id, last_triggered, mode, current runs (and max for queued/parallel)."""
        return self._attributes()

    def _attributes(self) -> dict[str, Any]:
        last = self._last_triggered
        attrs: dict[str, Any] = {
            ATTR_ID: self.automation_id,
            ATTR_LAST_TRIGGERED: None if last is None else datetime.fromtimestamp(last, UTC),
            ATTR_MODE: self.script.mode,
            ATTR_CURRENT: len(self.script.runs),
        }
        if self.script.mode in (MODE_QUEUED, MODE_PARALLEL):
            attrs[ATTR_MAX] = self.script.max_runs
        return attrs

    @callback
    def async_write_state(self) -> None:
        """Write on/off and the attributes directly (written on every trigger, so kept short)."""
        attrs = self._attributes()
        name = self.registry_name if self.registry_name is not None else self._attr_name
        if name is not None:
            attrs["friendly_name"] = name
        area = self.area_id
        if area is not None:
            attrs["area_id"] = area
        context, self._context = self._context, None
        self.hub.states.async_set(self.entity_id, self.state, attrs, context=context)

    async def async_added_to_hub(self) -> None:
        """Attach triggers: per `initial_state`, else as an operator last left it (on by default)."""
        initial = self._initial_state
        if initial is None:
            record = self._store.get(self._enabled_record_id)
            initial = record is None or record.data != b"0"
        if initial:
            await self.async_enable(write=False)

    async def async_set_enabled(self, enabled: bool, stop_actions: bool = True) -> None:
        """Turn on or off at someone's request, and remember it across restarts."""
        if enabled:
            await self.async_enable()
        else:
            await self.async_disable(stop_actions=stop_actions)
        self._store.save_durable(DurableRecord(self._enabled_record_id, KIND_STATE, self.entity_id, None, None,
                                               b"1" if enabled else b"0"))

    @property
    def _enabled_record_id(self) -> str:
        return f"{self.entity_id}:enabled"

    async def async_will_remove_from_hub(self) -> None:
        """Detach triggers and stop runs."""
        await self.async_disable(stop_actions=True, write=False)

    # ---- on/off

    async def async_enable(self, write: bool = True) -> None:
        """Attach the triggers (turn on)."""
        if self._enabled:
            return
        self._enabled = True
        variables: dict[str, Any] = {}
        if self._trigger_variables:
            for name, value in self._trigger_variables.items():
                try:
                    variables[name] = render_complex(self.hub, value, variables)
                except HubError as err:
                    _LOGGER.error("%s: trigger_variables %s: %s", self.alias, name, err)
        self._rendered_trigger_variables = variables
        self._unsub_triggers = await async_attach_triggers(
            self.hub, self._triggers, self._on_trigger, DOMAIN, self.alias, variables,
            hub_start=not self.hub.is_running, for_store=self._for_store,
        )
        if write:
            self.async_write_state()

    async def async_disable(self, stop_actions: bool = True, write: bool = True) -> None:
        """Detach the triggers (turn off); by default also stop running actions."""
        if self._unsub_triggers is not None:
            self._unsub_triggers()
            self._unsub_triggers = None
        self._enabled = False
        if stop_actions:
            await self.script.async_stop()
        if write and self.hub.states.get(self.entity_id) is not None:
            self.async_write_state()

    # ---- triggering

    _rendered_trigger_variables: dict[str, Any] = {}

    @callback
    def _on_trigger(self, payload: dict[str, Any], context: Context | None = None,
                    extra: Mapping[str, Any] | None = None) -> None:
        """A trigger fired: check the conditions, then start a run (inline until it waits)."""
        if not self._enabled:
            return
        run_context = context.child() if context is not None else Context()
        self.async_trigger_run(payload, run_context, extra)

    @callback
    def async_trigger_run(self, payload: Mapping[str, Any], run_context: Context,
                          extra: Mapping[str, Any] | None = None, skip_condition: bool = False,
                          resume: Resume | None = None) -> ScriptRun | None:
        """Evaluate conditions and start the action script; returns the run (None: not started)."""
        hub = self.hub
        variables: dict[str, Any] = {"this": hub.states.get(self.entity_id), "trigger": payload}
        if self._rendered_trigger_variables:
            variables.update(self._rendered_trigger_variables)
        if extra:
            variables.update(extra)
        trace = RunTrace(hub, self.entity_id, run_context, payload.get("description"))
        idx = payload.get("idx")
        path = _TRIGGER_PATHS.get(idx) if isinstance(idx, str) else None
        if path is None:
            path = f"trigger/{idx}" if idx is not None else "trigger"
        element = trace.add(path, None, {"trigger": payload})
        if self._variables and resume is None:
            try:
                for name, value in self._variables.items():
                    variables[name] = render_complex(hub, value, variables)
            except HubError as err:
                trace.set_error(err, element)
                self._traces.finish(trace, EXEC_ERROR)
                _LOGGER.error("%s: variables: %s", self.alias, err)
                return None
        if not skip_condition and resume is None and self._condition is not None \
                and not self._condition(variables, trace):
            self._traces.finish(trace, EXEC_FAILED_CONDITIONS)
            return None
        if self.script.refuses():
            self.script.async_start(variables, run_context, trace)  # records the refusal
            return None
        self._last_triggered = hub.clock.time()
        hub.bus.async_fire(EVENT_AUTOMATION_TRIGGERED,
                           {"name": self.alias, "entity_id": self.entity_id,
                            "source": payload.get("description")},
                           context=run_context)
        self._starting = True
        try:
            run = self.script.async_start(variables, run_context, trace, resume)
        finally:
            self._starting = False
        self.async_set_context(run_context)
        self.async_write_state()
        return run

    @callback
    def async_resume_run(self, variables: Mapping[str, Any], context: Context, description: str | None,
                         resume: Resume | None) -> ScriptRun | None:
        """Start a run saved before a restart: at its saved step (`resume`), or from the start."""
        trace = RunTrace(self.hub, self.entity_id, context, description)
        trace.add("resume", {"resumed": resume is not None}, {"trigger": variables.get("trigger")})
        if self.script.refuses():
            self.script.async_start(variables, context, trace)
            return None
        self._starting = True
        try:
            run = self.script.async_start(dict(variables), context, trace, resume)
        finally:
            self._starting = False
        self.async_write_state()
        return run

    @callback
    def _run_ended(self, run: ScriptRun) -> None:
        if not self._starting and self.hub.states.get(self.entity_id) is not None:
            self.async_write_state()


DATA_AUTOMATIONS: HubKey[AutomationManager] = HubKey("automations")


class AutomationManager:
    """The loaded automations; `async_apply` swaps in a new set, keeping unchanged ones untouched."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.traces = get_trace_store(hub)
        self.automations: dict[str, Automation] = {}
        self.errors: list[str] = []

    @callback
    def get(self, entity_id: str) -> Automation | None:
        """The automation with this entity id."""
        return self.automations.get(entity_id)

    def build(self, configs: list[AutomationConfig]) -> tuple[dict[str, Automation], list[str]]:
        """Compile new automations (not added yet), reusing unchanged ones: (by entity id, errors)."""
        result: dict[str, Automation] = {}
        errors: list[str] = []
        for cfg in configs:
            entity_id = f"{DOMAIN}.{cfg.key}"
            current = self.automations.get(entity_id)
            if current is not None and current.fingerprint == cfg.fingerprint:
                result[entity_id] = current
                continue
            try:
                result[entity_id] = Automation(self.hub, cfg, self.traces)
            except Exception as err:  # compile errors (a trigger platform that changed since validation)
                where = f"{cfg.location[0]}:{cfg.location[1]}: " if cfg.location else ""
                errors.append(f"{where}[automation '{cfg.alias}'] {type(err).__name__}: {err}")
        return result, errors

    async def async_apply(self, new: dict[str, Automation]) -> None:
        """Swap: remove automations that are gone or changed, add the new ones; others keep running."""
        from hub.helpers import entity_platform

        for entity_id, automation in list(self.automations.items()):
            if new.get(entity_id) is automation:
                continue
            del self.automations[entity_id]
            await entity_platform.async_remove_entity(self.hub, automation)
            if entity_id not in new:
                self.traces.drop(entity_id)
        added = [automation for entity_id, automation in new.items() if entity_id not in self.automations]
        for automation in added:
            automation.entity_id = automation.entity_id  # fixed id: automation.<id>
        self.automations.update({a.entity_id: a for a in added})
        if added:
            await async_add_entities(self.hub, DOMAIN, added)

    async def async_stop_all(self) -> None:
        """Detach every trigger and stop every run (hub stop)."""
        for automation in list(self.automations.values()):
            await automation.async_disable(stop_actions=True, write=False)


def get_manager(hub: Hub) -> AutomationManager:
    """The hub's automation manager (created on first use)."""
    manager = hub.data.get(DATA_AUTOMATIONS)
    if manager is None:
        manager = hub.data[DATA_AUTOMATIONS] = AutomationManager(hub)
    return manager
