"""Services: automation.turn_on/turn_off/toggle/trigger/reload and script.turn_on/turn_off/toggle/reload."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv

from .const import DOMAIN, SCRIPT_DOMAIN
from .engine import Automation, get_manager
from .scripts import ScriptEntity, get_script_manager

__all__ = ["async_register_services"]

_LOGGER = logging.getLogger(__name__)


def _targets(value: Any) -> list[str] | str:
    if isinstance(value, str) and value.strip().lower() == "all":
        return "all"
    return cv.entity_ids(value)


_TARGET = {vol.Optional("entity_id", default="all"): _targets}
_TURN_OFF_SCHEMA = vol.Schema({**_TARGET, vol.Optional("stop_actions", default=True): cv.boolean})
_TRIGGER_SCHEMA = vol.Schema({
    **_TARGET,
    vol.Optional("skip_condition", default=True): cv.boolean,
    vol.Optional("variables", default=dict): dict,
})
_SCRIPT_ON_SCHEMA = vol.Schema({**_TARGET, vol.Optional("variables", default=dict): dict})


def _selected_automations(hub: Hub, call: ServiceCall) -> list[Automation]:
    manager = get_manager(hub)
    wanted = call.data["entity_id"]
    if wanted == "all":
        return list(manager.automations.values())
    found = []
    for entity_id in wanted:
        automation = manager.get(entity_id)
        if automation is None:
            raise ServiceValidationError(f"{entity_id} is not an automation", path=["entity_id"])
        found.append(automation)
    return found


def _selected_scripts(hub: Hub, call: ServiceCall) -> list[ScriptEntity]:
    manager = get_script_manager(hub)
    wanted = call.data["entity_id"]
    if wanted == "all":
        return list(manager.scripts.values())
    found = []
    for entity_id in wanted:
        script = manager.by_entity_id(entity_id)
        if script is None:
            raise ServiceValidationError(f"{entity_id} is not a script", path=["entity_id"])
        found.append(script)
    return found


def async_register_services(hub: Hub, reload_automations: Callable[[], Awaitable[dict[str, Any]]],
                            reload_scripts: Callable[[], Awaitable[dict[str, Any]]]) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""

    async def turn_on(call: ServiceCall) -> None:
        for automation in _selected_automations(hub, call):
            await automation.async_set_enabled(True)

    async def turn_off(call: ServiceCall) -> None:
        for automation in _selected_automations(hub, call):
            await automation.async_set_enabled(False, stop_actions=call.data["stop_actions"])

    async def toggle(call: ServiceCall) -> None:
        for automation in _selected_automations(hub, call):
            await automation.async_set_enabled(not automation.is_on)

    async def trigger(call: ServiceCall) -> None:
        for automation in _selected_automations(hub, call):
            payload = {"platform": None, "description": "automation.trigger service", "idx": None}
            run = automation.async_trigger_run(payload, call.context.child(), call.data["variables"],
                                               skip_condition=call.data["skip_condition"])
            if run is not None and run.eager is not None:
                await run.eager.wait()

    async def script_turn_on(call: ServiceCall) -> None:
        for script in _selected_scripts(hub, call):
            script.async_start_run(call.data["variables"], call.context)

    async def script_turn_off(call: ServiceCall) -> None:
        for script in _selected_scripts(hub, call):
            await script.script.async_stop()

    async def script_toggle(call: ServiceCall) -> None:
        for script in _selected_scripts(hub, call):
            if script.script.is_running:
                await script.script.async_stop()
            else:
                script.async_start_run({}, call.context)

    async def reload(call: ServiceCall) -> dict[str, Any] | None:
        result = await reload_automations()
        return result if call.return_response else None

    async def script_reload(call: ServiceCall) -> dict[str, Any] | None:
        result = await reload_scripts()
        return result if call.return_response else None

    register = hub.services.async_register
    target = vol.Schema(_TARGET)
    return [
        register(DOMAIN, "turn_on", turn_on, target, description="Turn automations on (attach triggers)"),
        register(DOMAIN, "turn_off", turn_off, _TURN_OFF_SCHEMA, description="Turn automations off"),
        register(DOMAIN, "toggle", toggle, target, description="Toggle automations"),
        register(DOMAIN, "trigger", trigger, _TRIGGER_SCHEMA,
                 description="Run automations' actions now (conditions skipped by default)"),
        register(DOMAIN, "reload", reload, vol.Schema({}), SupportsResponse.OPTIONAL,
                 description="Re-read automations: all valid, or nothing changes"),
        register(SCRIPT_DOMAIN, "turn_on", script_turn_on, _SCRIPT_ON_SCHEMA, description="Start scripts"),
        register(SCRIPT_DOMAIN, "turn_off", script_turn_off, target, description="Stop scripts"),
        register(SCRIPT_DOMAIN, "toggle", script_toggle, target, description="Start or stop scripts"),
        register(SCRIPT_DOMAIN, "reload", script_reload, vol.Schema({}), SupportsResponse.OPTIONAL,
                 description="Re-read scripts"),
    ]

