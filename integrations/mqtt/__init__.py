"""MQTT: the broker connection, discovery, YAML-configured sensors, binary sensors and switches, mqtt.publish.

Configuration::

    mqtt:
      broker: 127.0.0.1
      port: 1883
      username: hub            # optional; password: !secret mqtt_password
      tls: {ca_certs: /etc/hacho/ca.pem}   # or `tls: true` for the system CAs
      # client_id: hub-1       # default: <site>-<random suffix kept in .storage/mqtt.client>
      # topic_prefix: ceuta    # what `~` stands for at the start of a topic; default: the site id
      discovery: true          # Home Assistant-style discovery under discovery_prefix
      discovery_prefix: homeassistant
      sensor:
        - name: Hacho wind gust
          state_topic: ~/weather/hacho   # ceuta/weather/hacho on the site `ceuta`
          value_template: "{{ value_json.gust }}"
          kind: wind_gust      # device class, unit (km/h), state class, icon
          source_unit: m/s     # what the station sends; converted to km/h
          expire_after: 600
      binary_sensor:
        - {name: Tarajal loop 1, state_topic: ceuta/traffic/tarajal/loop1/presence, device_class: occupancy}
      switch:
        - {name: Port floodlights, command_topic: ceuta/port/lights/set, state_topic: ceuta/port/lights}

Other integrations reach the connection with `get_mqtt(hub)`: `async_subscribe(topic, callback, qos)`
returns the remover, `await async_publish(topic, payload, qos, retain)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hub.core import CALLBACK_TYPE, Hub, HubKey
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import async_add_entities, async_remove_entities
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .client import MqttClient, MqttStats
from .const import CONF_CLIENT_ID, CONF_DISCOVERY, CONF_DISCOVERY_PREFIX, DOMAIN, PLATFORMS
from .diagnostics import MqttStatusSensor
from .discovery import ENTITY_CLASSES, MqttDiscovery
from .instance import async_client_id, expand_topics, site_topic_prefix, topic_prefix
from .schema import CONFIG_SCHEMA
from .services import async_register_services
from .subscriptions import ReceiveMessage

__all__ = [
    "CONFIG_SCHEMA",
    "DOMAIN",
    "MqttClient",
    "MqttStats",
    "ReceiveMessage",
    "async_setup",
    "async_unload",
    "get_discovery",
    "get_mqtt",
    "site_topic_prefix",
]

_LOGGER = logging.getLogger(__name__)


@dataclass
class MqttData:
    """What the integration keeps in hub.data (what setup registered is on its setup handle)."""

    client: MqttClient
    discovery: MqttDiscovery | None = None


DATA_MQTT: HubKey[MqttData] = HubKey(DOMAIN)


def get_mqtt(hub: Hub) -> MqttClient:
    """The hub's MQTT client. Raises LookupError when the mqtt integration is not set up."""
    data = hub.data.get(DATA_MQTT)
    if data is None:
        raise LookupError("the mqtt integration is not set up")
    return data.client


def get_discovery(hub: Hub) -> MqttDiscovery | None:
    """The discovery listener, or None when discovery is off or MQTT is not set up."""
    data = hub.data.get(DATA_MQTT)
    return None if data is None else data.discovery


def _hold_switch_services(hub: Hub) -> CALLBACK_TYPE | None:
    # switch.turn_on/turn_off/toggle are shared by every integration with switches.
    from hub.helpers.switch_services import async_hold_switch_services

    return async_hold_switch_services(hub, DOMAIN)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create the client and entities, start discovery, and connect in the background."""
    config = expand_topics(config, topic_prefix(hub, config))
    config[CONF_CLIENT_ID] = await async_client_id(hub, config)
    client = MqttClient(hub, config)
    data = MqttData(client=client)
    hub.data[DATA_MQTT] = data
    entities: list[Entity] = [MqttStatusSensor(client)]
    for platform in PLATFORMS:
        entities.extend(ENTITY_CLASSES[platform](client, entity_config) for entity_config in config[platform])
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub, client):
        handle.async_on_unload(remover)
    release = _hold_switch_services(hub)
    if release is not None:
        handle.async_on_unload(release)
    await async_add_entities(hub, DOMAIN, entities)
    if config[CONF_DISCOVERY]:
        data.discovery = MqttDiscovery(hub, client, config[CONF_DISCOVERY_PREFIX])
        data.discovery.async_start()
    client.async_start()
    return True


async def async_unload(hub: Hub) -> bool:
    """Stop discovery, remove services and entities, and disconnect."""
    data = hub.data.pop(DATA_MQTT, None)
    if data is None:
        return True
    if data.discovery is not None:
        await data.discovery.async_stop()
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    await async_remove_entities(hub, DOMAIN)
    await data.client.async_stop()
    return True
