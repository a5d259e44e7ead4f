"""Home Assistant-compatible MQTT discovery for sensor, binary_sensor and switch.

Topics: `<prefix>/<component>/[<node_id>/]<object_id>/config` with one entity's config, and
`<prefix>/device/<object_id>/config` with a device and its components under `cmps` (shared options
at the top apply to every component). Abbreviated keys (`stat_t`, `val_tpl`, `dev`, `ids`...) and
the `~` base topic are expanded. A new config adds the entity, a changed one updates it in place
(same entity id), an empty (retained) payload removes it; a device component given as only its
platform (`{"p": "sensor"}`), or left out of a device's new config, is removed. A config that fails
validation counts as a malformed payload (logged once per topic) and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.helpers.entity_platform import async_add_entities, async_remove_entity

from .binary_sensor import MqttBinarySensor
from .const import DOMAIN, EVENT_MQTT_DISCOVERY_UPDATED, PLATFORMS, QOS_DISCOVERY
from .entity import MqttEntity
from .schema import DISCOVERY_SCHEMAS
from .sensor import MqttSensor
from .subscriptions import ReceiveMessage
from .switch import MqttSwitch
from .templates import MalformedPayload, parse_json

if TYPE_CHECKING:
    from .client import MqttClient

__all__ = ["ABBREVIATIONS", "ENTITY_CLASSES", "DiscoveryInfo", "MqttDiscovery", "expand_config"]

_LOGGER = logging.getLogger(__name__)

ENTITY_CLASSES: dict[str, type[MqttEntity]] = {
    "sensor": MqttSensor,
    "binary_sensor": MqttBinarySensor,
    "switch": MqttSwitch,
}

# Home Assistant's abbreviations for the options these platforms use.
ABBREVIATIONS: dict[str, str] = {
    "avty": "availability", "avty_mode": "availability_mode", "avty_t": "availability_topic",
    "avty_tpl": "availability_template", "cmd_t": "command_topic", "cmd_tpl": "command_template",
    "cmps": "components", "def_ent_id": "default_entity_id", "dev": "device", "dev_cla": "device_class",
    "e": "encoding", "en": "enabled_by_default", "ent_cat": "entity_category", "exp_aft": "expire_after",
    "frc_upd": "force_update", "ic": "icon", "json_attr_t": "json_attributes_topic",
    "json_attr_tpl": "json_attributes_template", "o": "origin", "obj_id": "object_id", "off_dly": "off_delay",
    "opt": "optimistic", "p": "platform", "pl_avail": "payload_available", "pl_not_avail": "payload_not_available",
    "pl_off": "payload_off", "pl_on": "payload_on", "ret": "retain", "stat_cla": "state_class",
    "stat_off": "state_off", "stat_on": "state_on", "stat_t": "state_topic", "sug_dsp_prc":
    "suggested_display_precision", "t": "topic", "uniq_id": "unique_id", "unit_of_meas": "unit_of_measurement",
    "val_tpl": "value_template",
}
DEVICE_ABBREVIATIONS: dict[str, str] = {
    "cns": "connections", "ids": "identifiers", "mf": "manufacturer", "mdl": "model", "mdl_id": "model_id",
    "hw": "hw_version", "sw": "sw_version", "sa": "suggested_area", "sn": "serial_number",
    "cu": "configuration_url",
}
# Options a device config shares with its components (the rest stays at device level).
_NOT_SHARED = frozenset({"components", "origin", "platform"})
_BASE_TOPIC = "~"


@dataclass(frozen=True, slots=True)
class DiscoveryInfo:
    """Where a discovered entity came from: its component, discovery id and config topic."""

    component: str
    discovery_id: str
    topic: str


def expand_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Expand abbreviations (also inside `device` and `availability`) and the `~` base topic."""
    result = {ABBREVIATIONS.get(key, key): value for key, value in config.items()}
    base = result.pop(_BASE_TOPIC, None)
    device = result.get("device")
    if isinstance(device, Mapping):
        result["device"] = {DEVICE_ABBREVIATIONS.get(key, key): value for key, value in device.items()}
    availability = result.get("availability")
    if isinstance(availability, list):
        result["availability"] = [
            {ABBREVIATIONS.get(key, key): value for key, value in item.items()} if isinstance(item, Mapping)
            else item for item in availability
        ]
    if isinstance(base, str):
        for key, value in result.items():
            if key.endswith("topic") and isinstance(value, str):
                result[key] = _with_base(value, base)
        for item in result.get("availability") or ():
            if isinstance(item, dict) and isinstance(item.get("topic"), str):
                item["topic"] = _with_base(item["topic"], base)
    return result


def _with_base(topic: str, base: str) -> str:
    if topic.startswith(_BASE_TOPIC):
        return base + topic[1:]
    if topic.endswith(_BASE_TOPIC):
        return topic[:-1] + base
    return topic


class MqttDiscovery:
    """Listens on the discovery topics and adds, updates and removes entities accordingly."""

    def __init__(self, hub: Hub, client: MqttClient, prefix: str) -> None:
        self._hub = hub
        self._client = client
        self._prefix = prefix
        self._entities: dict[tuple[str, str], MqttEntity] = {}
        self._configs: dict[tuple[str, str], dict[str, Any]] = {}
        self._device_keys: dict[str, set[tuple[str, str]]] = {}
        self._removers: list[CALLBACK_TYPE] = []
        self._last: asyncio.Task[None] | None = None

    @callback
    def async_start(self) -> None:
        """Subscribe to `<prefix>/+/+/config` and `<prefix>/+/+/+/config` (QoS 1)."""
        for pattern in ("+/+/config", "+/+/+/config"):
            self._removers.append(self._client.async_subscribe(f"{self._prefix}/{pattern}", self._config_received,
                                                               QOS_DISCOVERY))

    async def async_stop(self) -> None:
        """Unsubscribe and wait for queued changes; the loader removes the entities."""
        while self._removers:
            self._removers.pop()()
        if self._last is not None:
            await asyncio.gather(self._last, return_exceptions=True)

    @property
    def entities(self) -> dict[tuple[str, str], MqttEntity]:
        """Discovered entities by (component, discovery id)."""
        return dict(self._entities)

    # ---- parsing

    @callback
    def _config_received(self, msg: ReceiveMessage) -> None:
        parts = msg.topic[len(self._prefix) + 1:].split("/")
        component, ids = parts[0], parts[1:-1]
        discovery_id = " ".join(ids)
        payload = msg.payload if isinstance(msg.payload, str) else msg.payload.decode(errors="replace")
        if component == "device":
            self._device_received(msg.topic, discovery_id, payload)
            return
        if component not in PLATFORMS:
            _LOGGER.debug("Discovery for unsupported component %s on %s ignored", component, msg.topic)
            return
        key = (component, discovery_id)
        if not payload.strip():
            self._schedule(key, None, msg.topic)
            return
        raw = self._parse(msg.topic, payload)
        if raw is not None:
            self._schedule(key, raw, msg.topic)

    def _parse(self, topic: str, payload: str) -> dict[str, Any] | None:
        try:
            data = parse_json(payload)
        except MalformedPayload as err:
            self._client.async_report_malformed(topic, "discovery config is not valid JSON", None, str(err))
            return None
        if not isinstance(data, dict):
            self._client.async_report_malformed(topic, "discovery config must be a JSON object")
            return None
        return expand_config(data)

    def _device_received(self, topic: str, discovery_id: str, payload: str) -> None:
        previous = self._device_keys.get(topic, set())
        if not payload.strip():
            for key in previous:
                self._schedule(key, None, topic)
            self._device_keys.pop(topic, None)
            return
        raw = self._parse(topic, payload)
        if raw is None:
            return
        components = raw.get("components")
        if not isinstance(components, dict):
            self._client.async_report_malformed(topic, "device discovery config needs a 'cmps' object")
            return
        shared = {key: value for key, value in raw.items() if key not in _NOT_SHARED}
        current: set[tuple[str, str]] = set()
        for cmp_id, cmp_config in components.items():
            if not isinstance(cmp_config, dict):
                self._client.async_report_malformed(topic, f"component {cmp_id!r} must be an object")
                continue
            expanded = expand_config(cmp_config)
            platform = expanded.pop("platform", None)
            if platform not in PLATFORMS:
                _LOGGER.debug("Device %s: component %s of platform %s ignored", discovery_id, cmp_id, platform)
                continue
            key = (platform, f"{discovery_id} {cmp_id}")
            if not expanded:  # only the platform: the device says this component is gone
                continue
            current.add(key)
            self._schedule(key, {**shared, **expanded}, topic)
        for key in previous - current:
            self._schedule(key, None, topic)
        self._device_keys[topic] = current

    # ---- applying, in arrival order

    def _schedule(self, key: tuple[str, str], raw: dict[str, Any] | None, topic: str) -> None:
        previous = self._last
        self._last = self._hub.async_create_task(self._async_apply(previous, key, raw, topic),
                                                 f"mqtt discovery {key[0]} {key[1]}")

    async def _async_apply(self, previous: asyncio.Task[None] | None, key: tuple[str, str],
                           raw: dict[str, Any] | None, topic: str) -> None:
        if previous is not None and not previous.done():
            await asyncio.gather(previous, return_exceptions=True)
        component, discovery_id = key
        entity = self._entities.get(key)
        if raw is None:
            if entity is not None:
                del self._entities[key]
                self._configs.pop(key, None)
                _LOGGER.info("Discovery removed %s (%s %s)", entity.entity_id, component, discovery_id)
                entity_id = entity.entity_id
                await async_remove_entity(self._hub, entity)
                self._fire("remove", key, entity_id)
            return
        if self._configs.get(key) == raw:
            return  # the same config again (a retained message after a resubscribe)
        try:
            config = DISCOVERY_SCHEMAS[component](dict(raw))
        except vol.Invalid as err:
            self._client.async_report_malformed(topic, f"invalid {component} discovery config: {err}")
            return
        self._configs[key] = raw
        info = DiscoveryInfo(component, discovery_id, topic)
        if entity is not None:
            await entity.async_discovery_update(config)
            _LOGGER.debug("Discovery updated %s", entity.entity_id)
            self._fire("update", key, entity.entity_id)
            return
        entity = ENTITY_CLASSES[component](self._client, config, info)
        added = await async_add_entities(self._hub, DOMAIN, [entity])
        if not added:
            self._configs.pop(key, None)
            return
        self._entities[key] = entity
        _LOGGER.info("Discovered %s (%s %s)", entity.entity_id, component, discovery_id)
        self._fire("add", key, entity.entity_id)

    def _fire(self, action: str, key: tuple[str, str], entity_id: str) -> None:
        self._hub.bus.async_fire(EVENT_MQTT_DISCOVERY_UPDATED, {
            "action": action, "component": key[0], "discovery_id": key[1], "entity_id": entity_id,
        })
