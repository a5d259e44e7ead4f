"""Triggers and conditions as a seam of the core: the automation engine provides them, integrations use them.

Template entities (trigger-based `template:` blocks) and other integrations attach triggers and check conditions
written in the rule language without importing the engine, which sits above them: the engine registers its
implementation when it is imported (`automations` does so at import; the composition root imports it before any
configuration is validated). Without an engine, validating or attaching a trigger is a clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from ..core import CALLBACK_TYPE, Hub
from ..exceptions import HubError

__all__ = [
    "ConditionCheck",
    "TriggerEngine",
    "async_attach_triggers",
    "compile_conditions",
    "register_trigger_engine",
    "validate_condition",
    "validate_trigger",
]

ConditionCheck = Callable[..., bool]


@dataclass(frozen=True, slots=True)
class TriggerEngine:
    """What the automation engine lends to the layers below it."""

    validate_trigger: Callable[[Any], dict[str, Any]]
    validate_condition: Callable[[Any], dict[str, Any]]
    attach_triggers: Callable[..., Any]  # async (hub, configs, action, domain, name, **kwargs) -> remover
    compile_conditions: Callable[[Hub, list[dict[str, Any]], str], ConditionCheck | None]


_ENGINE: list[TriggerEngine] = []


def register_trigger_engine(engine: TriggerEngine) -> None:
    """Install the engine's triggers and conditions (the last registration wins)."""
    _ENGINE[:] = [engine]


def _engine() -> TriggerEngine:
    if not _ENGINE:
        raise HubError("no automation engine is loaded: triggers and conditions are not available")
    return _ENGINE[0]


def validate_trigger(value: Any) -> dict[str, Any]:
    """Validate one trigger as the engine does (a voluptuous validator)."""
    if not _ENGINE:
        raise vol.Invalid("triggers need the automation engine, which is not loaded")
    return _ENGINE[0].validate_trigger(value)


def validate_condition(value: Any) -> dict[str, Any]:
    """Validate one condition as the engine does (a voluptuous validator)."""
    if not _ENGINE:
        raise vol.Invalid("conditions need the automation engine, which is not loaded")
    return _ENGINE[0].validate_condition(value)


async def async_attach_triggers(hub: Hub, configs: list[dict[str, Any]], action: Callable[..., None], domain: str,
                                name: str, variables: Mapping[str, Any] | None = None,
                                hub_start: bool = False) -> CALLBACK_TYPE:
    """Attach validated triggers; `action(payload, context, trigger_variables)` runs when one fires. Returns the
    remover."""
    remover: CALLBACK_TYPE = await _engine().attach_triggers(hub, configs, action, domain, name,
                                                             variables=variables, hub_start=hub_start)
    return remover


def compile_conditions(hub: Hub, configs: list[dict[str, Any]], path: str) -> ConditionCheck | None:
    """All of `configs` must hold; None when there are none."""
    return _engine().compile_conditions(hub, configs, path)
