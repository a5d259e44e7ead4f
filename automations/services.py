"""Services: automation.turn_on/turn_off/toggle/trigger/reload and script.turn_on/turn_off/toggle/reload."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.helpers import config_validation as cv
from hub.helpers.entity_service import EntityServiceHandler, async_register_entity_service

from .const import DOMAIN, SCRIPT_DOMAIN
from .engine import Automation
from .scripts import ScriptEntity

__all__ = ["async_register_services"]

_LOGGER = logging.getLogger(__name__)


_TURN_OFF_FIELDS = {vol.Optional("stop_actions", default=True): cv.boolean}
_TRIGGER_FIELDS = {
    vol.Optional("skip_condition", default=True): cv.boolean,
    vol.Optional("variables", default=dict): dict,
}
_SCRIPT_ON_FIELDS = {vol.Optional("variables", default=dict): dict}


def async_register_services(hub: Hub, reload_automations: Callable[[], Awaitable[dict[str, Any]]],
                            reload_scripts: Callable[[], Awaitable[dict[str, Any]]]) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""

    async def turn_on(_call: ServiceCall, automations: list[Automation]) -> None:
        for automation in automations:
            await automation.async_set_enabled(True)

    async def turn_off(call: ServiceCall, automations: list[Automation]) -> None:
        for automation in automations:
            await automation.async_set_enabled(False, stop_actions=call.data["stop_actions"])

    async def toggle(_call: ServiceCall, automations: list[Automation]) -> None:
        for automation in automations:
            await automation.async_set_enabled(not automation.is_on)

    async def trigger(call: ServiceCall, automations: list[Automation]) -> None:
        for automation in automations:
            payload = {"platform": None, "description": "automation.trigger service", "idx": None}
            run = automation.async_trigger_run(payload, call.context.child(), call.data["variables"],
                                               skip_condition=call.data["skip_condition"])
            if run is not None and run.eager is not None:
                await run.eager.wait()

    async def script_turn_on(call: ServiceCall, scripts: list[ScriptEntity]) -> None:
        for script in scripts:
            script.async_start_run(call.data["variables"], call.context)

    async def script_turn_off(_call: ServiceCall, scripts: list[ScriptEntity]) -> None:
        for script in scripts:
            await script.script.async_stop()

    async def script_toggle(call: ServiceCall, scripts: list[ScriptEntity]) -> None:
        for script in scripts:
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

    def automation_service(service: str, handler: EntityServiceHandler, fields: dict[Any, Any] | None,
                           description: str) -> CALLBACK_TYPE:
        return async_register_entity_service(hub, DOMAIN, service, handler, fields, entity_domain=DOMAIN,
                                             entity_type=Automation, default_all=True, description=description)

    def script_service(service: str, handler: EntityServiceHandler, fields: dict[Any, Any] | None,
                       description: str) -> CALLBACK_TYPE:
        return async_register_entity_service(hub, SCRIPT_DOMAIN, service, handler, fields,
                                             entity_domain=SCRIPT_DOMAIN, entity_type=ScriptEntity,
                                             default_all=True, description=description)

    register = hub.services.async_register
    return [
        automation_service("turn_on", turn_on, None, "Turn automations on (attach triggers)"),
        automation_service("turn_off", turn_off, _TURN_OFF_FIELDS, "Turn automations off"),
        automation_service("toggle", toggle, None, "Toggle automations"),
        automation_service("trigger", trigger, _TRIGGER_FIELDS,
                           "Run automations' actions now (conditions skipped by default)"),
        register(DOMAIN, "reload", reload, vol.Schema({}), SupportsResponse.OPTIONAL,
                 description="Re-read automations: all valid, or nothing changes"),
        script_service("turn_on", script_turn_on, _SCRIPT_ON_FIELDS, "Start scripts"),
        script_service("turn_off", script_turn_off, None, "Stop scripts"),
        script_service("toggle", script_toggle, None, "Start or stop scripts"),
        register(SCRIPT_DOMAIN, "reload", script_reload, vol.Schema({}), SupportsResponse.OPTIONAL,
                 description="Re-read scripts"),
    ]
