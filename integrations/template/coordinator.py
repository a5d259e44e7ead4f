"""A trigger-based template block: its triggers (and conditions) decide when its entities re-render."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.exceptions import HubError
from hub.helpers.template import render_complex
from hub.helpers.trigger import async_attach_triggers, compile_conditions

from .const import CONF_CONDITIONS, CONF_TRIGGERS, CONF_VARIABLES, DOMAIN
from .entity import TemplateEntity

__all__ = ["TriggerBlock"]

_LOGGER = logging.getLogger(__name__)


class TriggerBlock:
    """Attaches the block's triggers; each firing renders every entity of the block with `trigger`."""

    def __init__(self, hub: Hub, config: Mapping[str, Any], entities: Sequence[TemplateEntity], name: str) -> None:
        self.hub = hub
        self._config = config
        self._entities = entities
        self._name = name
        self._condition = compile_conditions(hub, list(config.get(CONF_CONDITIONS) or []), "condition")
        self._unsub: CALLBACK_TYPE | None = None

    async def async_start(self) -> CALLBACK_TYPE:
        """Attach the triggers; returns the remover."""
        self._unsub = await async_attach_triggers(self.hub, list(self._config[CONF_TRIGGERS]), self._on_trigger,
                                                  DOMAIN, self._name, hub_start=not self.hub.is_running)
        return self._stop

    @callback
    def _stop(self) -> None:
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def _on_trigger(self, payload: dict[str, Any], context: Context | None = None,
                    extra: Mapping[str, Any] | None = None) -> None:
        variables: dict[str, Any] = {**(extra or {}), "trigger": payload}
        try:
            for name, value in (self._config.get(CONF_VARIABLES) or {}).items():
                variables[name] = render_complex(self.hub, value, variables)
            if self._condition is not None and not self._condition(variables, None):
                return
        except HubError as err:
            _LOGGER.error("%s: %s", self._name, err)
            return
        run_context = context.child() if context is not None else Context()
        for entity in self._entities:
            if entity.entity_id is None or self.hub.states.get(entity.entity_id) is None:
                continue  # removed, or not added (disabled)
            entity.async_set_context(run_context)
            entity.async_render_triggered(variables)
