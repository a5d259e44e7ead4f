"""Constants shared across the hub: event names, states, limits."""

from __future__ import annotations

from typing import Final

__version__: Final = "0.1.0"

MATCH_ALL: Final = "*"

# Core events
EVENT_STATE_CHANGED: Final = "state_changed"
EVENT_CALL_SERVICE: Final = "call_service"
EVENT_SERVICE_REGISTERED: Final = "service_registered"
EVENT_SERVICE_REMOVED: Final = "service_removed"
EVENT_HUB_START: Final = "hub_start"
EVENT_HUB_STARTED: Final = "hub_started"
EVENT_HUB_STOP: Final = "hub_stop"
EVENT_HUB_FINAL_WRITE: Final = "hub_final_write"
EVENT_HUB_CLOSE: Final = "hub_close"
EVENT_INTEGRATION_LOADED: Final = "integration_loaded"
EVENT_INTEGRATION_FAILED: Final = "integration_failed"
EVENT_INTEGRATION_UNLOADED: Final = "integration_unloaded"

# Well-known states
STATE_ON: Final = "on"
STATE_OFF: Final = "off"
STATE_UNAVAILABLE: Final = "unavailable"
STATE_UNKNOWN: Final = "unknown"

MAX_LENGTH_STATE_STATE: Final = 255
MAX_LENGTH_EVENT_TYPE: Final = 64

# Common attribute names
ATTR_FRIENDLY_NAME: Final = "friendly_name"
ATTR_UNIT_OF_MEASUREMENT: Final = "unit_of_measurement"
ATTR_DEVICE_CLASS: Final = "device_class"
ATTR_ICON: Final = "icon"
ATTR_LATITUDE: Final = "latitude"
ATTR_LONGITUDE: Final = "longitude"
ATTR_ENTITY_ID: Final = "entity_id"
ATTR_AREA_ID: Final = "area_id"
ATTR_DEVICE_ID: Final = "device_id"

# Common configuration keys: integrations import these instead of defining their own
CONF_AREA: Final = "area"
CONF_CA_CERTS: Final = "ca_certs"
CONF_CERTFILE: Final = "certfile"
CONF_CLIENT_ID: Final = "client_id"
CONF_EVENT_TYPE: Final = "event_type"
CONF_HOST: Final = "host"
CONF_ICON: Final = "icon"
CONF_ID: Final = "id"
CONF_INSECURE: Final = "insecure"
CONF_KEYFILE: Final = "keyfile"
CONF_NAME: Final = "name"
CONF_PASSWORD: Final = "password"
CONF_PORT: Final = "port"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_TIMEOUT: Final = "timeout"
CONF_TLS: Final = "tls"
CONF_TYPE: Final = "type"
CONF_UNIQUE_ID: Final = "unique_id"
CONF_USERNAME: Final = "username"

DEFAULT_HTTP_HOST: Final = "127.0.0.1"
DEFAULT_HTTP_PORT: Final = 8123
