"""Constants of the camera integration: domain, events, services, configuration keys and defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hub.core import HubKey

DOMAIN: Final = "camera"

EVENT_CAMERA_OFFLINE: Final = "camera_offline"
EVENT_CAMERA_ONLINE: Final = "camera_online"
EVENT_RECORDING_GAP: Final = "camera_recording_gap"  # a recorder stopped: a gap row was opened
EVENT_SEGMENT_CORRUPT: Final = "camera_segment_corrupt"
EVENT_STORAGE_FULL: Final = "camera_storage_full"
EVENT_LOCK_CHANGED: Final = "camera_lock_changed"
EVENT_ALARM_RAISED: Final = "alarm_raised"  # the alarm integration's event (its entities name cameras)

SERVICE_SNAPSHOT: Final = "snapshot"
SERVICE_RECORD_CLIP: Final = "record_clip"
SERVICE_GOTO_PRESET: Final = "goto_preset"
SERVICE_LOCK: Final = "lock_recording"
SERVICE_UNLOCK: Final = "unlock_recording"
SERVICE_PURGE: Final = "purge_recordings"

MODE_CONTINUOUS: Final = "continuous"
MODE_EVENT: Final = "event"
MODE_OFF: Final = "off"
MODES: Final = (MODE_CONTINUOUS, MODE_EVENT, MODE_OFF)

STREAM_MAIN: Final = "main"
STREAM_SUB: Final = "sub"

DEFAULT_SEGMENT_SECONDS: Final = 4.0
DEFAULT_UNAVAILABLE_AFTER: Final = 10.0  # seconds without a packet before a camera is unavailable
DEFAULT_RETENTION_DAYS: Final = 30  # Spanish police recordings: destroyed within a month unless evidence
MAX_RETENTION_DAYS: Final = 30
DEFAULT_PRE_ROLL: Final = 10.0
DEFAULT_POST_ROLL: Final = 20.0
DEFAULT_RETENTION_INTERVAL: Final = 300.0
DEFAULT_MIN_FREE_BYTES: Final = 256 * 1024 * 1024  # below this the disk counts as full
STORAGE_SUBDIR: Final = "storage/video"

GRANT_VIEW: Final = "view"
GRANT_PLAYBACK: Final = "playback"
GRANT_EXPORT: Final = "export"

SIM_SCHEME: Final = "sim"
# Set by the simulator while its RTSP server runs: stream id -> rtsp:// URL (for `main: sim://<id>`).
DATA_SIM_STREAMS: Final[HubKey[Callable[[str], str]]] = HubKey("camera_sim_streams")
