"""Constants of the variable message sign (panel) integration."""

from __future__ import annotations

import enum
from typing import Final

DOMAIN: Final = "panels"  # the integration (config section, entity platform)
ENTITY_DOMAIN: Final = "panel"  # entity ids and services: panel.p_port_1, panel.display

SERVICE_DISPLAY: Final = "display"
SERVICE_CLEAR: Final = "clear"

# Drivers
DRIVER_MQTT_JSON: Final = "mqtt_json"
DRIVER_NTCIP: Final = "ntcip"
DRIVER_MEMORY: Final = "memory"
DRIVERS: Final = (DRIVER_MQTT_JSON, DRIVER_NTCIP, DRIVER_MEMORY)

# A sign's default topic is ~/panels/<id>, `~` being the mqtt topic prefix (the site id): hacho/panels/<id>
# on a hub with no site id, ceuta/panels/<id> on the site `ceuta`.
DEFAULT_TOPIC: Final = "~/panels"

# Entity states (what the sign is asked to show); the device health is the `status` attribute.
STATE_DISPLAYING: Final = "displaying"
STATE_BLANK: Final = "blank"

# Device status
STATUS_WORKING: Final = "working"
STATUS_COMM_FAILURE: Final = "comm_failure"
STATUS_PIXEL_ERRORS: Final = "pixel_errors"
STATUSES: Final = (STATUS_WORKING, STATUS_COMM_FAILURE, STATUS_PIXEL_ERRORS)

# The characters a typical Spanish road sign font shows: capitals, digits, space, punctuation and
# the Spanish accented capitals. '[' and ']' are left out on purpose: they delimit NTCIP MULTI tags.
DEFAULT_CHARSET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?¡¿-+/()'\"%&*#=<>@_ÁÉÍÓÚÑÜ"

DEFAULT_ROWS: Final = 3
DEFAULT_CHARS_PER_ROW: Final = 18
DEFAULT_MAX_PAGES: Final = 3
DEFAULT_PAGE_TIME: Final = 3.0  # seconds each page stays on
DEFAULT_COLOUR: Final = "amber"
DEFAULT_BRIGHTNESS_MIN: Final = 0
DEFAULT_BRIGHTNESS_MAX: Final = 100

# Retry sending to a panel whose last send failed; give up on one send after SEND_TIMEOUT.
RETRY_INTERVAL: Final = 30.0
SEND_TIMEOUT: Final = 10.0

# DATEX II publication defaults
DEFAULT_DATEX_COUNTRY: Final = "es"
DEFAULT_DATEX_NATIONAL_ID: Final = "HACHO"
DEFAULT_DATEX_LANG: Final = "es"
DATEX2_PATH: Final = "/api/datex2/vms"

# Attributes
ATTR_PANEL_ID: Final = "panel_id"
ATTR_STATUS: Final = "status"
ATTR_PIXEL_ERRORS: Final = "pixel_errors"
ATTR_MESSAGE_ID: Final = "message_id"
ATTR_PRIORITY: Final = "priority"
ATTR_PAGES: Final = "pages"
ATTR_PAGE_TIME: Final = "page_time"
ATTR_PICTOGRAM: Final = "pictogram"
ATTR_JUSTIFY: Final = "justify"
ATTR_EXPIRES: Final = "expires"
ATTR_SET_AT: Final = "set_at"
ATTR_USER_ID: Final = "user_id"
ATTR_CENTRE: Final = "centre"
ATTR_QUEUED: Final = "queued"


class Priority(enum.IntEnum):
    """Message priority: a higher one pre-empts a lower one on the same panel."""

    information = 1
    traffic = 2
    security = 3
    emergency = 4

    @classmethod
    def parse(cls, value: str | int | Priority) -> Priority:
        """A Priority from its name or number; ValueError names the choices."""
        if isinstance(value, Priority):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[str(value).strip().lower()]
        except KeyError:
            choices = ", ".join(p.name for p in sorted(cls, reverse=True))
            raise ValueError(f"unknown priority {value!r} (expected one of {choices})") from None


class Justify(enum.StrEnum):
    """Horizontal justification of the lines of a message."""

    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"
