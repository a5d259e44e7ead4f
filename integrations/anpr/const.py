"""Constants of the ANPR integration: domain, events, services, configuration keys and defaults."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "anpr"

EVENT_PLATE_READ: Final = "anpr_plate_read"
EVENT_HOTLIST_HIT: Final = "anpr_hotlist_hit"
EVENT_HIT_REVIEWED: Final = "anpr_hit_reviewed"
EVENT_READ_CORRECTED: Final = "anpr_read_corrected"
EVENT_SHADOW_REPORT: Final = "anpr_model_shadow_report"

SERVICE_HOTLIST_ADD: Final = "hotlist_add"
SERVICE_HOTLIST_REMOVE: Final = "hotlist_remove"
SERVICE_HOTLIST_IMPORT: Final = "hotlist_import"
SERVICE_HIT_ACCEPT: Final = "hit_accept"
SERVICE_HIT_REJECT: Final = "hit_reject"
SERVICE_HIT_STATS: Final = "hit_stats"
SERVICE_SIMULATE_VEHICLE: Final = "simulate_vehicle"
SERVICE_PURGE: Final = "purge"
SERVICE_READ_CORRECT: Final = "read_correct"
SERVICE_MODEL_PROMOTE: Final = "model_promote"
SERVICE_MODEL_ROLLBACK: Final = "model_rollback"
SERVICE_MODEL_SHADOW: Final = "model_shadow"
SERVICE_PLATE_SEARCH: Final = "plate_search"
SERVICE_PLATE_SEARCH_EXPORT: Final = "plate_search_export"

CONF_CAMERAS: Final = "cameras"
CONF_LISTS: Final = "lists"
CONF_JOURNEYS: Final = "journeys"
CONF_HASH_KEY: Final = "hash_key"
CONF_RETENTION: Final = "retention"
CONF_READER: Final = "reader"
CONF_MATCHING: Final = "matching"
CONF_TRACKING: Final = "tracking"
CONF_WORKERS: Final = "workers"
CONF_MEDIA_DIR: Final = "media_dir"
CONF_PRIVACY: Final = "privacy"

KIND_DENY: Final = "deny"
KIND_ALLOW: Final = "allow"

WORKER_PROCESS: Final = "process"
WORKER_THREAD: Final = "thread"
WORKER_SHARED: Final = "shared"  # one worker process for every camera (one reader loaded once)

DEFAULT_FPS: Final = 5.0
DEFAULT_QUEUE_SIZE: Final = 2
DEFAULT_UNAVAILABLE_AFTER: Final = 10.0  # seconds without a frame before a camera is unavailable
DEFAULT_RETRY_INTERVAL: Final = 5.0  # first reconnection delay; doubles up to MAX_RETRY_INTERVAL
MAX_RETRY_INTERVAL: Final = 60.0
DEFAULT_TRACK_TIMEOUT: Final = 1.0  # seconds a plate may go unseen before its pass is closed
DEFAULT_MAX_DISTANCE: Final = 1.0
DEFAULT_CONFUSION_COST: Final = 0.25
DEFAULT_MIN_CONFIDENCE: Final = 0.5
DEFAULT_HIT_MIN_CONFIDENCE: Final = 0.6
DEFAULT_READS_HOURS: Final = 72.0
DEFAULT_NON_HIT_IMAGES_HOURS: Final = 0.0
DEFAULT_HITS_DAYS: Final = 90.0
DEFAULT_PURGE_INTERVAL: Final = 600.0
STATS_INTERVAL: Final = 1.0  # how often workers report counters
TRAFFIC_TICK: Final = 10.0  # how often rolling counts are refreshed when nothing passes
HIT_LOCK_BEFORE: Final = 60.0  # seconds of a camera entity's recording locked before a hotlist hit
HIT_LOCK_AFTER: Final = 120.0  # ... and after it
DEFAULT_JOURNEY_WINDOW: Final = 900.0  # journey times averaged over the last 15 minutes

ATTR_CAMERA: Final = "camera"
ATTR_PLATE: Final = "plate"
ATTR_LIST: Final = "list"
ATTR_HIT_ID: Final = "hit_id"
ATTR_REASON: Final = "reason"

MEDIA_SUBDIR: Final = "media/anpr"

# Names of the entities this integration creates, in the site's language (hub.helpers.translation).
ENTITY_NAMES: Final = {
    "en": {"vehicles": "{camera} vehicles {minutes} min",
           "journey_time": "{journey} journey time", "speed": "{journey} average speed",
           "congestion": "{journey} congestion", "hotlist": "Hotlist {list}",
           "hit_acceptance": "ANPR hit acceptance"},
    "es": {"vehicles": "{camera}: vehículos en {minutes} min",
           "journey_time": "{journey}: tiempo de recorrido", "speed": "{journey}: velocidad media",
           "congestion": "{journey}: congestión", "hotlist": "Lista {list}",
           "hit_acceptance": "Aciertos ANPR aceptados"},
}
