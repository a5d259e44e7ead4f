"""A diagnostic sensor for the broker connection: state connected/disconnected, malformed payload counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.clock import TimerHandle
from hub.core import callback
from hub.helpers.entity import Entity

if TYPE_CHECKING:
    from .client import MqttClient

__all__ = ["MqttStatusSensor"]

_TOPICS_SHOWN = 20
_MIN_INTERVAL = 1.0  # a flood of malformed payloads rewrites this state at most once a second


class MqttStatusSensor(Entity):
    """`sensor.mqtt_broker`: connected or disconnected; malformed payloads in total and per topic."""

    domain = "sensor"
    _attr_icon = "mdi:lan-connect"

    def __init__(self, client: MqttClient) -> None:
        self._client = client
        self._attr_name = "MQTT broker"
        self._attr_unique_id = f"mqtt_broker_{client.host}_{client.port}"
        self._attr_suggested_object_id = "mqtt_broker"
        self._last_write = 0.0
        self._timer: TimerHandle | None = None

    @property
    def state(self) -> str:
        return "connected" if self._client.connected else "disconnected"

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        stats = self._client.stats
        return {
            "entity_category": "diagnostic",
            "broker": f"{self._client.host}:{self._client.port}",
            "connects": stats.connects,
            "malformed_payloads": stats.malformed,
            "malformed_by_topic": dict(stats.malformed_by_topic.most_common(_TOPICS_SHOWN)),
        }

    async def async_added_to_hub(self) -> None:
        self.async_on_remove(self._client.async_subscribe_connection_status(self._on_connection))
        self.async_on_remove(self._client.async_listen_malformed(self._on_malformed))
        self.async_on_remove(self._cancel)

    @callback
    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @callback
    def _on_connection(self, connected: bool) -> None:
        self._write()

    @callback
    def _on_malformed(self) -> None:
        if self._timer is not None:
            return
        wait = self._last_write + _MIN_INTERVAL - self.hub.clock.monotonic()
        if wait <= 0:
            self._write()
        else:
            self._timer = self.hub.clock.call_later(wait, self._write)

    @callback
    def _write(self) -> None:
        self._timer = None
        self._last_write = self.hub.clock.monotonic()
        self.async_write_state()
