"""Constants of the zeroconf integration: service types, keys, events, services."""

from __future__ import annotations

from typing import Final

from hub.const import CONF_NAME, CONF_PORT  # noqa: F401 - the common keys, re-exported

DOMAIN: Final = "zeroconf"

TYPE_HACHO: Final = "_hacho._tcp.local."
TYPE_MQTT: Final = "_mqtt._tcp.local."
TYPE_MODBUS: Final = "_modbus._tcp.local."
DEFAULT_BROWSE: Final = (TYPE_MQTT, TYPE_MODBUS, TYPE_HACHO)

# What a service type is, as far as adopting it goes.
KIND_MQTT: Final = "mqtt"
KIND_MODBUS: Final = "modbus"
KIND_HACHO: Final = "hacho"
KIND_OTHER: Final = "other"
KINDS: Final = {TYPE_MQTT: KIND_MQTT, TYPE_MODBUS: KIND_MODBUS, TYPE_HACHO: KIND_HACHO}

CONF_ANNOUNCE: Final = "announce"
CONF_INTERFACES: Final = "interfaces"
CONF_IP_VERSION: Final = "ip_version"
CONF_BROWSE: Final = "browse"
CONF_PROPERTIES: Final = "properties"

STATUS_DISCOVERED: Final = "discovered"
STATUS_ADOPTED: Final = "adopted"
STATUS_IGNORED: Final = "ignored"
STATUS_CONFIGURED: Final = "configured"  # already in the configuration (same host and port)

EVENT_ZEROCONF_DISCOVERED: Final = "zeroconf_discovered"
EVENT_ZEROCONF_LOST: Final = "zeroconf_lost"

SERVICE_ADOPT: Final = "adopt"
SERVICE_IGNORE: Final = "ignore"
SERVICE_UNIGNORE: Final = "unignore"

DISCOVERY_PATH: Final = "/api/discovery"
RESOLVE_TIMEOUT_MS: Final = 3000
STORAGE_KEY: Final = "zeroconf.ignored"
STORAGE_VERSION: Final = 1
TXT_VERSION: Final = "1"
