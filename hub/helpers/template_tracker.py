"""Re-render a template only when something it read changes (entities, a domain, all states, the clock)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from hub.const import EVENT_STATE_CHANGED
from hub.core import CALLBACK_TYPE, Event, Hub, callback
from hub.helpers.event import async_track_state_change_event

from .template import RenderInfo, Template

__all__ = ["TemplateTracker"]

_LOGGER = logging.getLogger(__name__)

# Templates that read the clock (now()) are re-rendered this often, like Home Assistant does.
TIME_RERENDER_S = 60.0


class TemplateTracker:
    """Renders `template` now and after every relevant change, calling `on_result(result, error, event)`.

    The listeners follow what the last render read: when a branch starts reading another entity the
    subscriptions move with it.
    """

    def __init__(self, hub: Hub, template: Template, variables: Mapping[str, Any] | None,
                 on_result: Callable[[Any, Exception | None, Event | None], None]) -> None:
        self._hub = hub
        self._template = template
        self._variables = variables
        self._on_result = on_result
        self._entities: frozenset[str] = frozenset()
        self._domains: frozenset[str] = frozenset()
        self._all = False
        self._unsub_entities: CALLBACK_TYPE | None = None
        self._unsub_bus: CALLBACK_TYPE | None = None
        self._timer: Any = None
        self._stopped = False

    @callback
    def async_start(self) -> tuple[Any, Exception | None]:
        """Render once, subscribe, and return that first (result, error) without calling on_result."""
        result, error = self._render()
        return result, error

    def _render(self) -> tuple[Any, Exception | None]:
        result, info, error = self._template.async_render_with_info(self._hub, self._variables)
        self._follow(info)
        return result, error

    def _follow(self, info: RenderInfo) -> None:
        entities = frozenset(info.entities)
        if entities != self._entities:
            if self._unsub_entities is not None:
                self._unsub_entities()
                self._unsub_entities = None
            if entities:
                self._unsub_entities = async_track_state_change_event(self._hub, entities, self._changed)
            self._entities = entities
        domains = frozenset(info.domains)
        if domains != self._domains or info.all_states != self._all:
            if self._unsub_bus is not None:
                self._unsub_bus()
                self._unsub_bus = None
            if domains or info.all_states:
                self._unsub_bus = self._hub.bus.async_listen(EVENT_STATE_CHANGED, self._changed_any)
            self._domains = domains
            self._all = info.all_states
        if info.has_time and self._timer is None:
            self._timer = self._hub.clock.call_later(TIME_RERENDER_S, self._tick)
        elif not info.has_time and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @callback
    def _changed(self, event: Event) -> None:
        if self._stopped:
            return
        result, error = self._render()
        self._on_result(result, error, event)

    @callback
    def _changed_any(self, event: Event) -> None:
        if self._all or event.data["entity_id"].partition(".")[0] in self._domains:
            if event.data["entity_id"] in self._entities:
                return  # the entity listener handles it
            self._changed(event)

    def _tick(self) -> None:
        self._timer = None
        if self._stopped:
            return
        result, error = self._render()
        if self._timer is None and not self._stopped:
            self._timer = self._hub.clock.call_later(TIME_RERENDER_S, self._tick)
        self._on_result(result, error, None)

    @callback
    def async_stop(self) -> None:
        """Drop every listener and timer."""
        self._stopped = True
        if self._unsub_entities is not None:
            self._unsub_entities()
            self._unsub_entities = None
        if self._unsub_bus is not None:
            self._unsub_bus()
            self._unsub_bus = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
