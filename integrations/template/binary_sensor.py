"""Template binary sensors: on when the `state` template is true, with `delay_on`/`delay_off`/`auto_off`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from hub.core import callback
from hub.helpers.event import async_call_later

from .const import CONF_AUTO_OFF, CONF_DELAY_OFF, CONF_DELAY_ON
from .entity import TemplateEntity, _truthy

__all__ = ["TemplateBinarySensor"]


class TemplateBinarySensor(TemplateEntity):
    """`binary_sensor.<name>`: `on`/`off`, `unknown` when the template gives none."""

    domain = "binary_sensor"

    def __init__(self, config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._unsub_delay: Any = None
        self._unsub_auto_off: Any = None

    async def async_added_to_hub(self) -> None:
        """Cancel pending delays on removal."""
        await super().async_added_to_hub()
        self.async_on_remove(self._cancel_timers)

    @callback
    def _cancel_timers(self) -> None:
        for name in ("_unsub_delay", "_unsub_auto_off"):
            unsub = getattr(self, name)
            if unsub is not None:
                unsub()
                setattr(self, name, None)

    def async_restore(self, state: Any) -> None:
        if isinstance(state, str) and state in ("on", "off"):
            self._attr_state = state == "on"
        else:
            self._attr_state = None if state is None or state == "unknown" else _truthy(state)

    def async_set_native(self, value: Any) -> None:
        target = None if value is None else _truthy(value)
        if self._unsub_delay is not None:
            self._unsub_delay()
            self._unsub_delay = None
        delay: timedelta | None = None
        if target is not None and target != self._attr_state:
            delay = self._config.get(CONF_DELAY_ON if target else CONF_DELAY_OFF)
        if not delay:
            self._set(target)
            return

        @callback
        def delayed(_now: Any) -> None:
            self._unsub_delay = None
            self._set(target)

        self.async_write_state()  # attributes and availability now, the state after the delay
        self._unsub_delay = async_call_later(self.hub, delay, delayed)

    def _set(self, target: bool | None) -> None:
        self._attr_state = target
        self.async_write_state()
        auto_off: timedelta | None = self._config.get(CONF_AUTO_OFF)
        if self._unsub_auto_off is not None:
            self._unsub_auto_off()
            self._unsub_auto_off = None
        if target and auto_off:

            @callback
            def turn_off(_now: Any) -> None:
                self._unsub_auto_off = None
                self._set(False)

            self._unsub_auto_off = async_call_later(self.hub, auto_off, turn_off)
