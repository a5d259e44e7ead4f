"""The base of MQTT entities: subscriptions, availability, JSON attributes, expiry, malformed payloads."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hub.clock import TimerHandle
from hub.core import CALLBACK_TYPE, callback
from hub.exceptions import TemplateError
from hub.helpers.entity import Entity

from .const import (
    AVAILABILITY_ALL,
    AVAILABILITY_ANY,
    CONF_AREA,
    CONF_AVAILABILITY,
    CONF_AVAILABILITY_MODE,
    CONF_AVAILABILITY_TEMPLATE,
    CONF_AVAILABILITY_TOPIC,
    CONF_COMMAND_TOPIC,
    CONF_DEFAULT_ENTITY_ID,
    CONF_DEVICE,
    CONF_ENCODING,
    CONF_EXPIRE_AFTER,
    CONF_ICON,
    CONF_JSON_ATTRIBUTES_TEMPLATE,
    CONF_JSON_ATTRIBUTES_TOPIC,
    CONF_NAME,
    CONF_OBJECT_ID,
    CONF_PAYLOAD_AVAILABLE,
    CONF_PAYLOAD_NOT_AVAILABLE,
    CONF_QOS,
    CONF_STATE_TOPIC,
    CONF_TOPIC,
    CONF_UNIQUE_ID,
    CONF_VALUE_TEMPLATE,
    DOMAIN,
    QOS_AVAILABILITY,
)
from .subscriptions import MessageCallback, ReceiveMessage
from .templates import MalformedPayload, ValueTemplate, parse_json

if TYPE_CHECKING:
    from hub.helpers.device_registry import DeviceInfo

    from .client import MqttClient
    from .discovery import DiscoveryInfo

__all__ = ["MqttEntity", "device_info_from_config"]

_LOGGER = logging.getLogger(__name__)


def device_info_from_config(device: Mapping[str, Any] | None) -> DeviceInfo | None:
    """The hub's DeviceInfo for Home Assistant's `device` block (identifiers under the mqtt domain)."""
    if not device:
        return None
    identifiers = {(DOMAIN, ident) for ident in device.get("identifiers", ())}
    identifiers |= {(DOMAIN, f"{kind}:{value}") for kind, value in device.get("connections", ())}
    info: DeviceInfo = {"identifiers": identifiers}
    for key in ("name", "manufacturer", "model", "sw_version", "configuration_url"):
        if device.get(key):
            info[key] = device[key]
    if device.get("via_device"):
        info["via_device"] = (DOMAIN, device["via_device"])
    return info


class _Availability:
    """One availability topic: its payloads, optional template, and the last word it said."""

    __slots__ = ("available", "payload_available", "payload_not_available", "template", "topic")

    def __init__(self, topic: str, payload_available: str, payload_not_available: str,
                 template: ValueTemplate | None) -> None:
        self.topic = topic
        self.payload_available = payload_available
        self.payload_not_available = payload_not_available
        self.template = template
        self.available = False


class MqttEntity(Entity):
    """An entity fed by MQTT, configured in YAML or by discovery (and updated in place by discovery)."""

    def __init__(self, client: MqttClient, config: dict[str, Any], discovery: DiscoveryInfo | None = None) -> None:
        self._client = client
        self._config = config
        self.discovery = discovery
        self._topic_removers: list[CALLBACK_TYPE] = []
        self._availability: list[_Availability] = []
        self._availability_mode = "latest"
        self._latest_available = False
        self._json_attributes: dict[str, Any] = {}
        self._static_attributes: dict[str, Any] = {}
        self._attributes_cache: dict[str, Any] | None = None
        self._expire_after: float | None = None
        self._expired = False
        self._expire_timer: TimerHandle | None = None
        self._configure(config, first=True)

    # ---- configuration

    def _configure(self, config: dict[str, Any], *, first: bool = False) -> None:
        device = config.get(CONF_DEVICE)
        device_name = device.get("name") if device else None
        name = config.get(CONF_NAME)
        if name is None:
            name = device_name or self._fallback_name(config)
        elif device_name and self.discovery is not None and not name.startswith(device_name):
            name = f"{device_name} {name}"  # discovered entities are named within their device
        self._attr_name = name
        if first:  # the entity id and unique id stay what they were when first added
            self._attr_unique_id = config.get(CONF_UNIQUE_ID)
            default_entity_id = config.get(CONF_DEFAULT_ENTITY_ID)
            self._attr_suggested_object_id = (
                default_entity_id.partition(".")[2] if default_entity_id else config.get(CONF_OBJECT_ID)
            )
            self._attr_device_info = device_info_from_config(device)
            self._attr_area_id = config.get(CONF_AREA)
        self._attr_icon = config.get(CONF_ICON)
        self._availability_mode = config.get(CONF_AVAILABILITY_MODE, "latest")
        known = {item.topic: item.available for item in self._availability}  # kept across discovery updates
        self._availability = []
        if CONF_AVAILABILITY_TOPIC in config:
            self._availability.append(_Availability(
                config[CONF_AVAILABILITY_TOPIC], config[CONF_PAYLOAD_AVAILABLE], config[CONF_PAYLOAD_NOT_AVAILABLE],
                config.get(CONF_AVAILABILITY_TEMPLATE)))
        for item in config.get(CONF_AVAILABILITY, ()):
            self._availability.append(_Availability(
                item[CONF_TOPIC], item[CONF_PAYLOAD_AVAILABLE], item[CONF_PAYLOAD_NOT_AVAILABLE],
                item.get(CONF_VALUE_TEMPLATE)))
        for item in self._availability:
            item.available = known.get(item.topic, False)
        if not any(item.topic in known for item in self._availability):
            self._latest_available = False
        self._expire_after = config.get(CONF_EXPIRE_AFTER)
        self._attributes_cache = None
        self._configure_platform(config)

    @staticmethod
    def _fallback_name(config: Mapping[str, Any]) -> str:
        topic = config.get(CONF_STATE_TOPIC) or config.get(CONF_COMMAND_TOPIC) or config.get(CONF_UNIQUE_ID)
        return str(topic or "mqtt").replace("/", " ")

    def _configure_platform(self, config: dict[str, Any]) -> None:
        """Read the platform's own keys (subclasses)."""

    def _platform_topics(self) -> list[tuple[str, MessageCallback, int]]:
        """(topic, @callback, qos) for the platform's own subscriptions (subclasses)."""
        return []

    @property
    def config(self) -> Mapping[str, Any]:
        """The validated configuration this entity runs with."""
        return self._config

    # ---- lifecycle

    async def async_added_to_hub(self) -> None:
        self.async_on_remove(self._client.async_subscribe_connection_status(self._on_connection))
        self.async_on_remove(self._unsubscribe_topics)
        self.async_on_remove(self._cancel_timers)
        self._subscribe_topics()

    def _subscribe_topics(self) -> None:
        encoding = self._config.get(CONF_ENCODING, "utf-8")
        subscribe = self._client.async_subscribe
        removers = self._topic_removers
        for availability in self._availability:
            removers.append(subscribe(availability.topic, self._make_availability_handler(availability),
                                      max(QOS_AVAILABILITY, self._config[CONF_QOS]), "utf-8"))
        if CONF_JSON_ATTRIBUTES_TOPIC in self._config:
            removers.append(subscribe(self._config[CONF_JSON_ATTRIBUTES_TOPIC], self._json_attributes_received,
                                      self._config[CONF_QOS], encoding))
        for topic, handler, qos in self._platform_topics():
            removers.append(subscribe(topic, handler, qos, encoding))

    @callback
    def _unsubscribe_topics(self) -> None:
        while self._topic_removers:
            self._topic_removers.pop()()

    @callback
    def _cancel_timers(self) -> None:
        if self._expire_timer is not None:
            self._expire_timer.cancel()
            self._expire_timer = None

    async def async_discovery_update(self, config: dict[str, Any]) -> None:
        """Apply a changed discovery config in place: same entity id, new topics and options."""
        self._unsubscribe_topics()
        self._cancel_timers()
        self._config = config
        self._configure(config)
        self._subscribe_topics()
        if self._expire_after is not None and not self._expired:
            self.mark_received()
        self.async_write_state()

    @callback
    def _on_connection(self, connected: bool) -> None:
        if self.hub is not None and self.entity_id is not None:
            self.async_write_state()

    # ---- availability

    @property
    def available(self) -> bool:
        if not self._client.connected or self._expired:
            return False
        if not self._availability:
            return True
        if self._availability_mode == AVAILABILITY_ALL:
            return all(item.available for item in self._availability)
        if self._availability_mode == AVAILABILITY_ANY:
            return any(item.available for item in self._availability)
        return self._latest_available

    def _make_availability_handler(self, availability: _Availability) -> Callable[[ReceiveMessage], None]:
        @callback
        def received(msg: ReceiveMessage) -> None:
            payload: Any = msg.payload
            if availability.template is not None:
                try:
                    payload = availability.template.render(self.hub, msg.payload)
                except (MalformedPayload, TemplateError) as err:
                    self.report_render_error(msg.topic, err, "availability template")
                    return
            payload = str(payload)
            if payload == availability.payload_available:
                availability.available = self._latest_available = True
            elif payload == availability.payload_not_available:
                availability.available = self._latest_available = False
            else:
                _LOGGER.debug("%s: availability payload %r on %s is neither %r nor %r", self.entity_id, payload,
                              msg.topic, availability.payload_available, availability.payload_not_available)
                return
            self.async_write_state()

        return received

    # ---- attributes

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        cached = self._attributes_cache
        if cached is None:
            cached = self._attributes_cache = {**self._json_attributes, **self._static_attributes}
        return cached or None

    @callback
    def _json_attributes_received(self, msg: ReceiveMessage) -> None:
        template = self._config.get(CONF_JSON_ATTRIBUTES_TEMPLATE)
        if msg.payload in ("", b""):  # a retained message deleted (a device or the simulator went away)
            if self._json_attributes:
                self._json_attributes = {}
                self._attributes_cache = None
                self.async_write_state()
            return
        try:
            data = template.render(self.hub, msg.payload) if template is not None else parse_json(msg.payload)
            if isinstance(data, str):
                data = parse_json(data)
        except (MalformedPayload, TemplateError) as err:
            self.report_render_error(msg.topic, err, "json_attributes_template")
            return
        if not isinstance(data, dict):
            self.report_malformed(msg.topic, "JSON attributes must be an object")
            return
        self._json_attributes = data
        self._attributes_cache = None
        self.async_write_state()

    # ---- helpers for platforms

    @callback
    def report_malformed(self, topic: str, reason: str, detail: str | None = None) -> None:
        """Count and log (once per topic) a payload this entity could not use; `detail` only at debug."""
        self._client.async_report_malformed(topic, reason, self.entity_id, detail)

    @callback
    def report_render_error(self, topic: str, err: Exception, what: str = "value_template") -> None:
        """A template or JSON failure: the kind at warning level, the message (it may quote the payload) at debug."""
        if isinstance(err, MalformedPayload):
            self.report_malformed(topic, "payload is not valid JSON", str(err))
        else:
            self.report_malformed(topic, f"{what} failed to render", str(err))

    def render_value(self, msg: ReceiveMessage) -> tuple[bool, Any]:
        """(ok, value): the payload through value_template; a failure is reported as malformed."""
        template: ValueTemplate | None = self._config.get(CONF_VALUE_TEMPLATE)
        if template is None:
            return True, msg.payload
        try:
            return True, template.render(self.hub, msg.payload)
        except (MalformedPayload, TemplateError) as err:
            self.report_render_error(msg.topic, err)
            return False, None

    @callback
    def mark_received(self) -> None:
        """A fresh value arrived: restart the `expire_after` clock."""
        if self._expire_after is None:
            return
        self._expired = False
        if self._expire_timer is not None:
            self._expire_timer.cancel()
        self._expire_timer = self.hub.clock.call_later(self._expire_after, self._expire)

    @callback
    def _expire(self) -> None:
        self._expire_timer = None
        self._expired = True
        _LOGGER.debug("%s: no value for %s s; unavailable until the next one", self.entity_id, self._expire_after)
        self.async_write_state()
