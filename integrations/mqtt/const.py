"""Constants of the MQTT integration: configuration keys, defaults, topics, QoS choices."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "mqtt"

# Broker connection
CONF_BROKER: Final = "broker"
CONF_PORT: Final = "port"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_CLIENT_ID: Final = "client_id"
CONF_KEEPALIVE: Final = "keepalive"
CONF_TLS: Final = "tls"
CONF_CA_CERTS: Final = "ca_certs"
CONF_CERTFILE: Final = "certfile"
CONF_KEYFILE: Final = "keyfile"
CONF_INSECURE: Final = "insecure"
CONF_DISCOVERY: Final = "discovery"
CONF_DISCOVERY_PREFIX: Final = "discovery_prefix"
CONF_TOPIC_PREFIX: Final = "topic_prefix"
TOPIC_ABBREVIATION: Final = "~"  # `~/weather/port` is `<topic_prefix>/weather/port` (Home Assistant's abbreviation)
CONF_BIRTH_MESSAGE: Final = "birth_message"
CONF_WILL_MESSAGE: Final = "will_message"
CONF_TOPIC: Final = "topic"
CONF_PAYLOAD: Final = "payload"
CONF_PAYLOAD_TEMPLATE: Final = "payload_template"
CONF_QOS: Final = "qos"
CONF_RETAIN: Final = "retain"

# Entities
CONF_NAME: Final = "name"
CONF_UNIQUE_ID: Final = "unique_id"
CONF_OBJECT_ID: Final = "object_id"
CONF_DEFAULT_ENTITY_ID: Final = "default_entity_id"
CONF_ICON: Final = "icon"
CONF_AREA: Final = "area"
CONF_DEVICE: Final = "device"
CONF_STATE_TOPIC: Final = "state_topic"
CONF_COMMAND_TOPIC: Final = "command_topic"
CONF_VALUE_TEMPLATE: Final = "value_template"
CONF_ENCODING: Final = "encoding"
CONF_UNIT_OF_MEASUREMENT: Final = "unit_of_measurement"
CONF_SOURCE_UNIT: Final = "source_unit"
CONF_KIND: Final = "kind"
CONF_DEVICE_CLASS: Final = "device_class"
CONF_STATE_CLASS: Final = "state_class"
CONF_PRECISION: Final = "suggested_display_precision"
CONF_FORCE_UPDATE: Final = "force_update"
CONF_EXPIRE_AFTER: Final = "expire_after"
CONF_OFF_DELAY: Final = "off_delay"
CONF_PAYLOAD_ON: Final = "payload_on"
CONF_PAYLOAD_OFF: Final = "payload_off"
CONF_STATE_ON: Final = "state_on"
CONF_STATE_OFF: Final = "state_off"
CONF_OPTIMISTIC: Final = "optimistic"
CONF_JSON_ATTRIBUTES_TOPIC: Final = "json_attributes_topic"
CONF_JSON_ATTRIBUTES_TEMPLATE: Final = "json_attributes_template"
CONF_ENTITY_CATEGORY: Final = "entity_category"
CONF_ENABLED_BY_DEFAULT: Final = "enabled_by_default"

# Availability
CONF_AVAILABILITY: Final = "availability"
CONF_AVAILABILITY_TOPIC: Final = "availability_topic"
CONF_AVAILABILITY_TEMPLATE: Final = "availability_template"
CONF_AVAILABILITY_MODE: Final = "availability_mode"
CONF_PAYLOAD_AVAILABLE: Final = "payload_available"
CONF_PAYLOAD_NOT_AVAILABLE: Final = "payload_not_available"
AVAILABILITY_ALL: Final = "all"
AVAILABILITY_ANY: Final = "any"
AVAILABILITY_LATEST: Final = "latest"

DEFAULT_PORT: Final = 1883
DEFAULT_TLS_PORT: Final = 8883
DEFAULT_KEEPALIVE: Final = 60
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
DEFAULT_ENCODING: Final = "utf-8"
DEFAULT_PAYLOAD_ON: Final = "ON"
DEFAULT_PAYLOAD_OFF: Final = "OFF"
DEFAULT_PAYLOAD_AVAILABLE: Final = "online"
DEFAULT_PAYLOAD_NOT_AVAILABLE: Final = "offline"
DEFAULT_BIRTH_PAYLOAD: Final = "online"
DEFAULT_WILL_PAYLOAD: Final = "offline"

# QoS 1 where a lost message leaves something wrong until the next one: discovery configs,
# availability, birth/will, and switch commands. State streams default to QoS 0 (the next reading
# replaces a lost one) and can ask for 1 per entity.
QOS_DISCOVERY: Final = 1
QOS_AVAILABILITY: Final = 1
QOS_STATUS: Final = 1
DEFAULT_QOS: Final = 0
DEFAULT_COMMAND_QOS: Final = 1

# Reconnect: exponential backoff from RECONNECT_MIN_DELAY doubling to RECONNECT_MAX_DELAY, +-10 % jitter.
RECONNECT_MIN_DELAY: Final = 0.5
RECONNECT_MAX_DELAY: Final = 30.0
# A connection that lasted this long resets the backoff; a broker that drops us sooner keeps it growing.
STABLE_CONNECTION: Final = 10.0

PAYLOAD_NONE: Final = "None"

# Platforms that discovery creates
PLATFORMS: Final = ("sensor", "binary_sensor", "switch")

# Events
EVENT_MQTT_DISCOVERY_UPDATED: Final = "mqtt_discovery_updated"
