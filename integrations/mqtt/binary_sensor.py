"""MQTT binary sensors: payload_on / payload_off on a state topic, with an optional off_delay."""

from __future__ import annotations

from typing import Any

from hub.clock import TimerHandle
from hub.core import callback

from .const import (
    CONF_DEVICE_CLASS,
    CONF_OFF_DELAY,
    CONF_PAYLOAD_OFF,
    CONF_PAYLOAD_ON,
    CONF_QOS,
    CONF_STATE_TOPIC,
    PAYLOAD_NONE,
)
from .entity import MqttEntity
from .subscriptions import MessageCallback, ReceiveMessage

__all__ = ["MqttBinarySensor"]


class MqttBinarySensor(MqttEntity):
    """On or off from the payload; `off_delay` turns it off when no new ON arrives in time."""

    domain = "binary_sensor"

    _payload_on: str
    _payload_off: str
    _off_delay: float | None
    _off_timer: TimerHandle | None = None

    def _configure_platform(self, config: dict[str, Any]) -> None:
        self._attr_device_class = config.get(CONF_DEVICE_CLASS)
        self._payload_on = config[CONF_PAYLOAD_ON]
        self._payload_off = config[CONF_PAYLOAD_OFF]
        self._off_delay = config.get(CONF_OFF_DELAY)

    def _platform_topics(self) -> list[tuple[str, MessageCallback, int]]:
        return [(self._config[CONF_STATE_TOPIC], self._state_received, self._config[CONF_QOS])]

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        self.async_on_remove(self._cancel_off_timer)

    @callback
    def _cancel_off_timer(self) -> None:
        if self._off_timer is not None:
            self._off_timer.cancel()
            self._off_timer = None

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        ok, value = self.render_value(msg)
        if not ok:
            return
        text = value if isinstance(value, str) else str(value)
        if text == self._payload_on:
            state: bool | None = True
        elif text == self._payload_off:
            state = False
        elif text == PAYLOAD_NONE:
            state = None
        else:
            self.report_malformed(msg.topic, f"neither {self._payload_on!r} (on) nor {self._payload_off!r} (off)",
                                  f"got {text[:40]!r}")
            return
        self._cancel_off_timer()
        self._attr_state = state
        if state and self._off_delay is not None:
            self._off_timer = self.hub.clock.call_later(self._off_delay, self._turn_off_after_delay)
        self.mark_received()
        self.async_write_state()

    @callback
    def _turn_off_after_delay(self) -> None:
        self._off_timer = None
        self._attr_state = False
        self.async_write_state()
