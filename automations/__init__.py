"""The automation engine: YAML rules (triggers, conditions, actions), scripts, traces, durable runs, reload.

The composition root (`hacho.bootstrap`, a `hub.bootstrap.Component`) calls, with the raw sections of
configuration.yaml (`automations:`/`automation:` lists and the `script:` mapping, as loaded with file and
line information):

    errors = check_config(sections)          # blocking-free; every problem as 'file:line: [...] ...'
    await async_setup(hub, sections)         # before hub.async_start(), after the recorder and HTTP

Home Assistant's automation language is accepted as its documentation writes it (plural or singular
keys, `trigger:` or `platform:`, `homeassistant` start/shutdown, `sun`, template shorthands, its
template functions); tests/automations/compat runs one example of each on the hub. Template
functions, filters and tests are resolved when a template is compiled, so a misspelt one is a
check-config error with file:line. `automations.lint` adds warnings (`hacho lint`).

Invalid automations are reported and left off; the others run. `automation.reload` re-reads
configuration.yaml (or the source set with `set_config_source`) and applies it only if every
automation is valid.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hub.config.sections import is_automation_section
from hub.const import EVENT_HUB_STOP
from hub.core import Event, Hub, HubKey, callback
from hub.exceptions import HubError
from hub.helpers.template import Template
from hub.helpers.trigger import TriggerEngine, register_trigger_engine

from .conditions import compile_conditions, validate_condition
from .config import AUTOMATION_SCHEMA, SCRIPT_SCHEMA, ValidatedConfig, check_config, validate_sections
from .const import DOMAIN, EVENT_AUTOMATION_RELOAD_FAILED, EVENT_AUTOMATION_RELOADED
from .engine import Automation, AutomationManager, get_manager
from .scripts import ScriptEntity, get_script_manager
from .services import async_register_services
from .trace import get_trace_store
from .triggers import async_attach_triggers, set_config_dir, validate_trigger

__all__ = [
    "AUTOMATION_SCHEMA",
    "AUTOMATION_SECTIONS",
    "CONFIG_SCHEMA",
    "SCRIPT_SCHEMA",
    "Automation",
    "AutomationManager",
    "ScriptEntity",
    "Template",
    "async_reload",
    "async_setup",
    "check_config",
    "get_manager",
    "is_automation_section",
    "set_config_source",
    "validate_sections",
]

_LOGGER = logging.getLogger(__name__)

# Template entities and other integrations below the engine reach triggers and conditions through the core.
register_trigger_engine(TriggerEngine(validate_trigger, validate_condition, async_attach_triggers, compile_conditions))

AUTOMATION_SECTIONS = ("automations", "automation", "script")  # and every `automation <label>:` key

ConfigSource = Callable[[], Awaitable[Mapping[str, Any]]]
_SOURCE: HubKey[ConfigSource] = HubKey("automations_config_source")
_SETUP_DONE: HubKey[bool] = HubKey("automations_setup_done")


def CONFIG_SCHEMA(sections: Mapping[str, Any]) -> ValidatedConfig:
    """Validate the automation sections; the result holds the valid ones and every error."""
    return validate_sections(sections)


@callback
def set_config_source(hub: Hub, source: ConfigSource) -> None:
    """Where `automation.reload` reads the sections from (default: configuration.yaml in the config dir)."""
    hub.data[_SOURCE] = source


async def _read_sections(hub: Hub) -> Mapping[str, Any]:
    source = hub.data.get(_SOURCE)
    if source is not None:
        return await source()
    from hub.config.core import load_configuration

    raw = await hub.async_add_executor_job(load_configuration, hub.config_dir)
    return {key: value for key, value in raw.items() if is_automation_section(key)}


async def async_setup(hub: Hub, sections: Mapping[str, Any]) -> bool:
    """Load automations and scripts, register services, and hook persistence and the API when present."""
    set_config_dir(hub.config_dir)
    get_trace_store(hub)
    validated = await hub.async_add_executor_job(validate_sections, sections)
    for line in validated.errors:
        _LOGGER.error("%s", line)
    from .storage import async_setup_storage

    await async_setup_storage(hub)
    manager = get_manager(hub)
    new, errors = manager.build(validated.automations)
    for line in errors:
        _LOGGER.error("%s", line)
    manager.errors = [*validated.automation_errors, *errors]
    await manager.async_apply(new)
    script_errors = await get_script_manager(hub).async_apply(validated.scripts)
    script_count = len(validated.scripts)
    # The executor's future may still hold the result: drop the configs so they can be freed.
    validated.automations.clear()
    validated.scripts.clear()
    for line in script_errors:
        _LOGGER.error("%s", line)
    if not hub.data.get(_SETUP_DONE):
        hub.data[_SETUP_DONE] = True
        async_register_services(hub, lambda: async_reload(hub), lambda: async_reload_scripts(hub))
        hub.bus.async_listen_once(EVENT_HUB_STOP, _on_stop(hub))
        if "hub.http" in sys.modules:  # a hub without HTTP never imported it (nor aiohttp)
            from .http_api import async_register_api

            async_register_api(hub)
    from .durable import async_resume_runs

    await async_resume_runs(hub)
    _LOGGER.info("Loaded %d automations (%d invalid) and %d scripts", len(manager.automations),
                 len(manager.errors), script_count)
    return True


def _on_stop(hub: Hub) -> Callable[[Event], Awaitable[None]]:
    async def stop(event: Event) -> None:
        await get_manager(hub).async_stop_all()
        for script in list(get_script_manager(hub).scripts.values()):
            await script.script.async_stop()

    return stop


async def async_reload(hub: Hub) -> dict[str, Any]:
    """Re-read and apply the automations, all or nothing. Raises HubError listing every error."""
    sections = await _read_sections(hub)
    validated = await hub.async_add_executor_job(validate_sections, sections)
    manager = get_manager(hub)
    errors = list(validated.automation_errors)
    new: dict[str, Automation] = {}
    if not errors:
        new, errors = manager.build(validated.automations)
    if errors:
        for line in errors:
            _LOGGER.error("Reload refused: %s", line)
        hub.bus.async_fire(EVENT_AUTOMATION_RELOAD_FAILED, {"errors": errors})
        raise HubError(f"Automations not reloaded ({len(errors)} errors; the running set is unchanged):\n"
                       + "\n".join(errors))
    before = dict(manager.automations)
    await manager.async_apply(new)
    unchanged = sum(1 for entity_id, a in new.items() if before.get(entity_id) is a)
    summary = {
        "loaded": len(new),
        "unchanged": unchanged,
        "added_or_changed": len(new) - unchanged,
        "removed": len([e for e in before if e not in new]),
    }
    manager.errors = []
    hub.bus.async_fire(EVENT_AUTOMATION_RELOADED, summary)
    _LOGGER.info("Reloaded automations: %s", summary)
    return summary


async def async_reload_scripts(hub: Hub) -> dict[str, Any]:
    """Re-read and apply the scripts, all or nothing."""
    sections = await _read_sections(hub)
    validated = await hub.async_add_executor_job(validate_sections, sections)
    if validated.script_errors:
        raise HubError(f"Scripts not reloaded ({len(validated.script_errors)} errors):\n"
                       + "\n".join(validated.script_errors))
    errors = await get_script_manager(hub).async_apply(validated.scripts)
    return {"loaded": len(validated.scripts), "errors": errors}


__all__ += ["DOMAIN", "async_reload_scripts"]
