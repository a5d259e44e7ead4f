"""Constants of the control-centre frontend: URLs, configuration keys, who sees what."""

from __future__ import annotations

from typing import Final

from hub.auth.users import Role

DOMAIN: Final = "frontend"

STATIC_URL: Final = "/static/frontend"
VENDOR_DIR: Final = "vendor"  # frontend/static/vendor/leaflet/ is copied from node_modules at install
LEAFLET_DIR: Final = "vendor/leaflet"
OUTLINE_FILE: Final = "basemap/ceuta.geojson"  # tools/basemap_ceuta.py, from OpenStreetMap (ODbL)

URL_LOGIN: Final = "/login"
URL_LOGOUT: Final = "/logout"
URL_CENTRE: Final = "/c/{centre}/"
URL_LANGUAGE: Final = "/language"

CONF_TITLE: Final = "title"
CONF_TILE_URL: Final = "tile_url"
CONF_TILE_ATTRIBUTION: Final = "tile_attribution"
CONF_MAP: Final = "map"
CONF_SECURE_COOKIE: Final = "secure_cookie"
CONF_LANGUAGE: Final = "language"
CONF_SESSION: Final = "session"
CONF_IDLE_TIMEOUT: Final = "idle_timeout"
CONF_ABSOLUTE_TIMEOUT: Final = "absolute_timeout"

DEFAULT_TITLE: Final = "Hacho"

LOGIN_CSRF_COOKIE: Final = "hacho_login_csrf"

# Who may open a centre other than their own (the others see only their centre's screens).
ROLES_ANY_CENTRE: Final = frozenset({Role.ADMIN, Role.SUPERVISOR})
# Who may read the audit log.
ROLES_AUDIT: Final = frozenset({Role.ADMIN, Role.SUPERVISOR})
# Who may open the screens at all (agencies are machines with webhook tokens).
ROLES_SCREENS: Final = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR, Role.ENGINEER})

# Severity order of the queue (most severe first).
SEVERITIES: Final = ("critical", "major", "minor", "warning", "info")

# Entity domains shown as devices, with the page kind that shows them.
DEVICE_KINDS: Final = {
    "bollard": "bollard",
    "panel": "panel",
    "sensor": "sensor",
    "binary_sensor": "sensor",
    "camera": "camera",
    "geo_location": "fire",
}
# The kinds in the order the device list offers them.
KIND_ORDER: Final = ("bollard", "panel", "sensor", "camera", "fire")

# Camera wall layouts (tiles) and the pre-roll before an alarm's time when its recording is played.
WALL_LAYOUTS: Final = (1, 4, 9, 16)
DEFAULT_WALL_LAYOUT: Final = 4
ALARM_PRE_ROLL: Final = 10.0
