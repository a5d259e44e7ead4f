"""Trigger platforms: what starts an automation. One module per platform; integrations can add their own.

A platform is a module with

    TRIGGER_SCHEMA: a voluptuous validator for the trigger's own keys (with `platform`);
    async def async_attach_trigger(hub, config, action, trigger_info) -> remover

`action(payload, context=None)` is a callback to call in the loop when the trigger fires; `payload`
becomes the `trigger` variable and should start with `**trigger_info["trigger_data"]` (id, idx,
alias) and hold `platform` and a human `description`. `context` is the Context of what caused it
(the state write, the event), so the run's actions carry a child of it. `trigger_info` also holds
`name` (the automation's alias), `variables` (its rendered `trigger_variables`) and `hub_start`.

Built-in platforms live here; `platform: anpr` loads the `trigger.py` of the integration the loader
knows as `anpr` (built in, an entry point, or a custom integration, which wins over a built-in one).
The keys every trigger accepts (`id`, `alias`, `enabled`, `variables`) are validated here, so a
platform's schema only describes its own.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypedDict

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.exceptions import HubError
from hub.helpers import config_validation as cv
from hub.helpers.template import render_complex
from hub.helpers.validators import plain, script_variables
from hub.loader import Integration, discover_integrations

__all__ = [
    "BUILTIN_PLATFORMS",
    "PLATFORM_ALIASES",
    "TriggerAction",
    "TriggerInfo",
    "async_attach_triggers",
    "config_dir_known",
    "get_platform",
    "set_config_dir",
    "validate_trigger",
]

_LOGGER = logging.getLogger(__name__)

BUILTIN_PLATFORMS = ("event", "state", "numeric_state", "template", "time", "time_pattern", "hub", "zone",
                     "webhook", "sun")
# Home Assistant's names for built-in platforms.
PLATFORM_ALIASES = {"homeassistant": "hub"}
# A platform names a module: one slug, never a dotted path (which would import any submodule).
_PLATFORM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
BASE_KEYS = ("id", "alias", "enabled", "variables")

_BASE_SCHEMA = vol.Schema({
    vol.Optional("id"): cv.string,
    vol.Optional("alias"): cv.string,
    vol.Optional("enabled", default=True): cv.boolean,
    vol.Optional("variables"): script_variables,
}, extra=vol.ALLOW_EXTRA)


class TriggerAction(Protocol):
    """What a platform calls when its trigger fires."""

    def __call__(self, payload: dict[str, Any], context: Context | None = None) -> None: ...


class TriggerInfo(TypedDict):
    """What the engine tells a platform about the automation it attaches for."""

    domain: str
    name: str
    trigger_data: dict[str, Any]
    variables: Mapping[str, Any]
    hub_start: bool
    for_store: Any  # where pending `for:` deadlines are kept (triggers.pending.ForStore), or None


_PLATFORMS: dict[tuple[Path | None, str], ModuleType] = {}
_CONFIG_DIR: list[Path] = []
_KNOWN: dict[Path | None, dict[str, Integration]] = {}  # the loader's integrations, per config dir


def set_config_dir(config_dir: Path | None) -> None:
    """Where to look for `custom_integrations/<domain>/trigger.py`."""
    _CONFIG_DIR[:] = [config_dir] if config_dir is not None else []


def config_dir_known() -> bool:
    """Whether set_config_dir was called."""
    return bool(_CONFIG_DIR)


def get_platform(platform: str) -> ModuleType:
    """The module of a trigger platform (built-in or an integration's `trigger.py`); blocking import."""
    platform = PLATFORM_ALIASES.get(platform, platform)
    if _PLATFORM_NAME.match(platform) is None:
        raise HubError(f"unknown trigger platform {platform!r} (a platform is a name such as 'state' or "
                       "'mqtt')")
    builtin = platform in BUILTIN_PLATFORMS
    key = (None if builtin or not _CONFIG_DIR else _CONFIG_DIR[0], platform)  # custom ones differ per config dir
    module = _PLATFORMS.get(key)
    if module is not None:
        return module
    if builtin:
        module = importlib.import_module(f"{__name__}.{platform}")
    else:
        module = _integration_platform(platform)
    if not hasattr(module, "TRIGGER_SCHEMA") or not hasattr(module, "async_attach_trigger"):
        raise HubError(f"trigger platform {platform!r} lacks TRIGGER_SCHEMA or async_attach_trigger")
    _PLATFORMS[key] = module
    return module


def _integration_platform(platform: str) -> ModuleType:
    """The `trigger` platform of the integration named `platform`, as the loader finds it (custom ones first)."""
    config_dir = _CONFIG_DIR[0] if _CONFIG_DIR else None
    integrations = _KNOWN.get(config_dir)
    if integrations is None:
        integrations = _KNOWN[config_dir] = discover_integrations(config_dir)[0]
    integration = integrations.get(platform)
    module = integration.get_platform("trigger") if integration is not None else None
    if module is None:
        known = ", ".join(BUILTIN_PLATFORMS)
        raise HubError(f"unknown trigger platform {platform!r} (built in: {known}; or an integration with "
                       "a trigger.py)")
    return module


def validate_trigger(value: Any) -> dict[str, Any]:
    """Validate one trigger: `platform: state` (or `trigger: state`), the base keys, then the platform's."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a trigger mapping with 'trigger:' (or 'platform:')")
    if "trigger" in value and "platform" in value:
        raise vol.Invalid("give either 'trigger' or 'platform', not both", path=["trigger"])
    key = "trigger" if "trigger" in value else "platform"
    if key not in value:
        raise vol.Invalid("missing required key 'trigger' (the trigger platform, e.g. 'state')")
    platform = cv.string(value[key]).strip()
    try:
        module = get_platform(platform)
    except HubError as err:
        raise vol.Invalid(str(err), path=[key]) from None
    base = _BASE_SCHEMA({k: value[k] for k in BASE_KEYS if k in value})
    own = {("platform" if k == key else k): v for k, v in value.items() if k not in BASE_KEYS}
    own["platform"] = platform
    validated = module.TRIGGER_SCHEMA(own)
    if key == "trigger":
        validated = dict(validated)
    return {**validated, **base}


async def async_attach_triggers(hub: Hub, configs: list[dict[str, Any]], action: Callable[..., None],
                                domain: str, name: str, variables: Mapping[str, Any] | None = None,
                                hub_start: bool = False, for_store: Any = None) -> CALLBACK_TYPE:
    """Attach every enabled trigger; `action(payload, context, trigger_variables)` runs when one fires.

    A trigger that fails to attach is logged and skipped; the others stay attached.
    """
    removers = _Removers(name)
    trigger_vars = variables or {}
    for idx, config in enumerate(configs):
        if not config.get("enabled", True):
            continue
        platform = config["platform"]
        trigger_data = {"id": config.get("id", str(idx)), "idx": str(idx), "alias": config.get("alias")}
        info: TriggerInfo = {"domain": domain, "name": name, "trigger_data": trigger_data,
                             "variables": trigger_vars, "hub_start": hub_start, "for_store": for_store}
        own_vars = config.get("variables")
        platform_action = _with_variables(hub, action, own_vars, trigger_vars) if own_vars else action
        try:
            remover = get_platform(platform).async_attach_trigger(hub, config, platform_action, info)
            if inspect.isawaitable(remover):
                remover = await remover
        except Exception:
            _LOGGER.exception("%s: cannot attach trigger %s (%s)", name, idx, platform)
            continue
        if remover is not None:
            removers.append(remover)
    return removers


class _Removers(list[CALLBACK_TYPE]):
    """The removers of an automation's triggers; calling it removes them all."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __call__(self) -> None:
        while self:
            try:
                self.pop()()
            except Exception:
                _LOGGER.exception("%s: error detaching a trigger", self.name)


def _with_variables(hub: Hub, action: Callable[..., None], own_vars: dict[str, Any],
                    trigger_vars: Mapping[str, Any]) -> TriggerAction:
    """Render a trigger's own `variables` when it fires and hand them to the engine with the payload."""

    @callback
    def fire(payload: dict[str, Any], context: Context | None = None) -> None:
        scope = {**trigger_vars, "trigger": payload}
        rendered: dict[str, Any] = {}
        for key, value in own_vars.items():
            try:
                rendered[key] = render_complex(hub, value, {**scope, **rendered})
            except HubError as err:
                _LOGGER.error("trigger variable %s: %s", key, err)
                return
        action(payload, context, rendered)

    return fire


def config_copy(config: Mapping[str, Any]) -> dict[str, Any]:
    """A plain copy of a trigger config (for payloads and traces)."""
    return plain(dict(config))
