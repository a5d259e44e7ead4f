"""Template entities: state, availability, icon, name and attributes rendered from templates.

State-based entities re-render whenever something their templates read changes (TemplateTracker);
trigger-based ones render when their block's triggers fire, with the `trigger` variable, and keep
their last state across restarts, as in Home Assistant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from hub.core import Event, callback
from hub.exceptions import HubError
from hub.helpers.restore_state import RestoreEntity
from hub.helpers.template import Template, render_complex
from hub.helpers.template_tracker import TemplateTracker

from .const import CONF_ATTRIBUTES, CONF_AVAILABILITY, CONF_ICON, CONF_NAME, CONF_STATE, CONF_UNIQUE_ID

__all__ = ["TemplateEntity"]

_LOGGER = logging.getLogger(__name__)

# Attributes the entity writes itself (not restored into extra attributes).
_OWN_ATTRIBUTES = frozenset({"friendly_name", "icon", "unit_of_measurement", "device_class", "state_class"})


def _truthy(value: Any) -> bool:
    """Home Assistant's result_as_boolean: true, 'true', 'yes', 'on', 'enable' or a non-zero number."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "enable"):
        return True
    try:
        return float(text) != 0
    except ValueError:
        return False


class _This(Mapping[str, Any]):
    """The variables of a state-based template entity's renders: `this`, its current State."""

    __slots__ = ("_entity",)

    def __init__(self, entity: TemplateEntity) -> None:
        self._entity = entity

    def __getitem__(self, key: str) -> Any:
        if key != "this":
            raise KeyError(key)
        entity = self._entity
        return entity.hub.states.get(entity.entity_id) if entity.entity_id else None

    def __iter__(self) -> Iterator[str]:
        yield "this"

    def __len__(self) -> int:
        return 1


class TemplateEntity(RestoreEntity):
    """The shared part of template sensors and binary sensors."""

    def __init__(self, config: Mapping[str, Any], *, block_unique_id: str | None = None,
                 trigger_based: bool = False) -> None:
        self._config = config
        self._trigger_based = trigger_based
        unique_id = config.get(CONF_UNIQUE_ID)
        if unique_id is not None and block_unique_id is not None:
            unique_id = f"{block_unique_id}-{unique_id}"
        self._attr_unique_id = unique_id
        self._attr_device_class = config.get("device_class")
        name: Template | None = config.get(CONF_NAME)
        if name is not None and name.is_static:
            self._attr_name = name.source
        self._results: dict[str, Any] = {}
        self._errors: set[str] = set()

    # ---- rendering

    def _templates(self) -> dict[str, Any]:
        """The templates to render, keyed by what they give (`state`, `icon`, `attr:<name>`...)."""
        found: dict[str, Any] = {CONF_STATE: self._config[CONF_STATE]}
        for key in (CONF_AVAILABILITY, CONF_ICON, CONF_NAME):
            value = self._config.get(key)
            if value is not None and not value.is_static:
                found[key] = value
        for name, value in self._config.get(CONF_ATTRIBUTES, {}).items():
            found[f"attr:{name}"] = value
        return found

    def _apply(self, key: str, result: Any, error: Exception | None) -> None:
        if error is not None:
            if key not in self._errors:
                _LOGGER.error("%s: the %s template failed: %s", self.entity_id, key, error)
            self._errors.add(key)
            return
        self._errors.discard(key)
        self._results[key] = result

    def _collect(self) -> Any:
        """Apply availability, icon, name and attributes; the native state."""
        results = self._results
        self._attr_available = (not self._errors & {CONF_STATE, CONF_AVAILABILITY}
                                and _truthy(results.get(CONF_AVAILABILITY, True)))
        if results.get(CONF_ICON) is not None:
            self._attr_icon = str(results[CONF_ICON])
        if results.get(CONF_NAME) is not None:
            self._attr_name = str(results[CONF_NAME])
        attrs = {key[5:]: value for key, value in results.items() if key.startswith("attr:")}
        self._attr_extra_state_attributes = attrs or None
        return results.get(CONF_STATE)

    @callback
    def _write_results(self) -> None:
        self.async_set_native(self._collect())

    def async_set_native(self, value: Any) -> None:
        """Take the rendered state and write it (binary sensors may delay it)."""
        raise NotImplementedError

    def async_restore(self, state: Any) -> None:
        """Set a state without writing it (the first render, or the state restored after a restart)."""
        raise NotImplementedError

    # ---- state-based

    async def async_added_to_hub(self) -> None:
        """Start tracking (state-based) or restore the last state (trigger-based)."""
        await super().async_added_to_hub()
        if self._trigger_based:
            last = await self.async_get_last_state()
            if last is not None and last.state != "unavailable":
                self._attr_extra_state_attributes = {
                    key: value for key, value in last.attributes.items() if key not in _OWN_ATTRIBUTES} or None
                self.async_restore(last.state)
            return
        for key, template in self._templates().items():
            self._start_tracker(key, template)
        self.async_restore(self._collect())

    def _start_tracker(self, key: str, template: Any) -> None:
        if not isinstance(template, Template):  # a fixed attribute value
            self._results[key] = template
            return

        @callback
        def on_result(result: Any, error: Exception | None, _event: Event | None) -> None:
            self._apply(key, result, error)
            self._write_results()

        tracker = TemplateTracker(self.hub, template, _This(self), on_result)
        result, error = tracker.async_start()
        self._apply(key, result, error)
        self.async_on_remove(tracker.async_stop)

    # ---- trigger-based

    @callback
    def async_render_triggered(self, variables: Mapping[str, Any]) -> None:
        """Render every template with the trigger's variables (and `this`) and write the result."""
        variables = {**variables, "this": self.hub.states.get(self.entity_id)}
        self._results = {}
        for key, template in self._templates().items():
            try:
                self._apply(key, render_complex(self.hub, template, variables), None)
            except HubError as err:
                self._apply(key, None, err)
        self._write_results()
