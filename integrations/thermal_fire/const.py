"""Constants of the thermal_fire integration: domain, events, services, physical defaults."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "thermal_fire"

# Events (payloads are GeoJSON Features, see docs/thermal-fire.md)
EVENT_FIRE_DETECTED: Final = "thermal_fire_detected"
EVENT_FIRE_UPDATED: Final = "thermal_fire_updated"
EVENT_FIRE_CLEARED: Final = "thermal_fire_cleared"

# Services
SERVICE_CONFIRM: Final = "confirm"
SERVICE_DISMISS: Final = "dismiss"
SERVICE_CLEAR_EXCLUSIONS: Final = "clear_exclusions"

# Entity domains and ids
GEO_LOCATION_DOMAIN: Final = "geo_location"
FIRE_OBJECT_PREFIX: Final = "fire_"

# Fire statuses (state attribute `status` of geo_location.fire_<n>)
STATUS_DETECTED: Final = "detected"
STATUS_CONFIRMED: Final = "confirmed"
STATUS_DISMISSED: Final = "dismissed"

# Camera status sensor states
CAMERA_SCANNING: Final = "scanning"
CAMERA_STARTING: Final = "starting"
CAMERA_ERROR: Final = "error"

# Source types
SOURCE_SIMULATOR: Final = "simulator"
SOURCE_FILES: Final = "files"
SOURCE_SNAPSHOT: Final = "snapshot"

# Camera defaults: an uncooled 640x512 LWIR radiometric core with a ~25 degree lens
DEFAULT_WIDTH: Final = 640
DEFAULT_HEIGHT: Final = 512
DEFAULT_HFOV: Final = 24.6
DEFAULT_VFOV: Final = 19.8
DEFAULT_DWELL_S: Final = 3.0
DEFAULT_FRAME_INTERVAL_S: Final = 1.0
DEFAULT_POINTING_SIGMA_DEG: Final = 0.01  # PTZ preset repeatability (1 sigma)
DEFAULT_QUEUE_SIZE: Final = 4

# Geodesy
REFRACTION_COEFFICIENT: Final = 0.13  # standard atmosphere, terrestrial refraction k
MAX_RANGE_M: Final = 40_000.0

# Radiometry: brightness temperatures are converted with Planck's law at 10 um (centre of 8-14 um)
PLANCK_C2_UM_K: Final = 14387.77
WAVELENGTH_UM: Final = 10.0

# Land cover classes of the simulator and of optional land-cover grids
COVER_SEA: Final = 0
COVER_VEGETATION: Final = 1
COVER_ROCK: Final = 2
COVER_URBAN: Final = 3

# Weather
DEFAULT_SPREAD_HORIZON_S: Final = 3600.0

# Names of the entities this integration creates, in the site's language (hub.helpers.translation).
ENTITY_NAMES: Final = {
    "en": {"fire": "Fire {number}", "fire_weather_index": "Fire weather index",
           "thermal_camera": "{tower} thermal camera"},
    "es": {"fire": "Incendio {number}", "fire_weather_index": "Índice de riesgo de incendio",
           "thermal_camera": "Cámara térmica {tower}"},
}
