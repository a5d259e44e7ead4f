"""MQTT switches: commands on a command topic (QoS 1 by default), state from a state topic or optimistic."""

from __future__ import annotations

import logging
from typing import Any

from hub.core import Context, callback

from .const import (
    CONF_COMMAND_TOPIC,
    CONF_DEVICE_CLASS,
    CONF_OPTIMISTIC,
    CONF_PAYLOAD_OFF,
    CONF_PAYLOAD_ON,
    CONF_QOS,
    CONF_RETAIN,
    CONF_STATE_OFF,
    CONF_STATE_ON,
    CONF_STATE_TOPIC,
    PAYLOAD_NONE,
)
from .entity import MqttEntity
from .subscriptions import MessageCallback, ReceiveMessage

__all__ = ["MqttSwitch"]

_LOGGER = logging.getLogger(__name__)


class MqttSwitch(MqttEntity):
    """A switch. Without a state topic it is optimistic: it assumes a sent command took effect."""

    domain = "switch"

    _payload_on: str
    _payload_off: str
    _state_on: str
    _state_off: str
    _optimistic: bool

    def _configure_platform(self, config: dict[str, Any]) -> None:
        self._attr_device_class = config.get(CONF_DEVICE_CLASS)
        self._payload_on = config[CONF_PAYLOAD_ON]
        self._payload_off = config[CONF_PAYLOAD_OFF]
        self._state_on = config.get(CONF_STATE_ON, self._payload_on)
        self._state_off = config.get(CONF_STATE_OFF, self._payload_off)
        self._optimistic = config.get(CONF_OPTIMISTIC, CONF_STATE_TOPIC not in config)

    def _platform_topics(self) -> list[tuple[str, MessageCallback, int]]:
        if CONF_STATE_TOPIC not in self._config:
            return []
        return [(self._config[CONF_STATE_TOPIC], self._state_received, self._config[CONF_QOS])]

    @property
    def is_on(self) -> bool | None:
        """Whether the switch is on (None: not known yet)."""
        return self._attr_state

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        ok, value = self.render_value(msg)
        if not ok:
            return
        text = value if isinstance(value, str) else str(value)
        if text == self._state_on:
            self._attr_state = True
        elif text == self._state_off:
            self._attr_state = False
        elif text == PAYLOAD_NONE:
            self._attr_state = None
        else:
            self.report_malformed(msg.topic, f"neither {self._state_on!r} (on) nor {self._state_off!r} (off)",
                                  f"got {text[:40]!r}")
            return
        self.async_write_state()

    async def _async_send(self, payload: str, state: bool, context: Context | None) -> None:
        config = self._config
        # Raises DeviceUnavailable when the broker is down: the caller learns the command was not sent.
        await self._client.async_publish(config[CONF_COMMAND_TOPIC], payload, config[CONF_QOS], config[CONF_RETAIN])
        _LOGGER.debug("%s: sent %r to %s", self.entity_id, payload, config[CONF_COMMAND_TOPIC])
        if self._optimistic:
            self._attr_state = state
            if context is not None:
                self.async_set_context(context)
            self.async_write_state()

    async def async_turn_on(self, context: Context | None = None) -> None:
        """Send payload_on."""
        await self._async_send(self._payload_on, True, context)

    async def async_turn_off(self, context: Context | None = None) -> None:
        """Send payload_off."""
        await self._async_send(self._payload_off, False, context)

    async def async_toggle(self, context: Context | None = None) -> None:
        """Turn off when on, on otherwise."""
        if self.is_on:
            await self.async_turn_off(context)
        else:
            await self.async_turn_on(context)
