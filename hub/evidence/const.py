"""Constants of evidence export: file names inside the zip, where keys and exports live, who may export."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["AUDIENCES", "AUDIENCE_CASE", "DOMAIN", "FORMAT"]

DOMAIN: Final = "evidence"
FORMAT: Final = "hacho-evidence/1"
AUDIENCE_CASE: Final = "case"  # the court and the police on the case: nothing blurred by default
AUDIENCES: Final = (AUDIENCE_CASE, "public", "press")  # the others get faces and plates blurred by default

KEY_FILE: Final = ".storage/evidence_ed25519.pem"  # under the config dir, mode 0600
EXPORT_DIR: Final = "evidence"  # under the config dir
NAME_PATTERN: Final = re.compile(r"^evidence_\d{8}T\d{6}Z_[0-9a-f]{8}\.zip$")

# Inside the zip
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"  # base64 of the Ed25519 signature over manifest.json's exact bytes
PUBLIC_KEY: Final = "public_key.pem"
README: Final = "README.txt"
EVENTS_FILE: Final = "data/events.json"
STATES_FILE: Final = "data/states.json"
ALARM_FILE: Final = "data/alarm.json"
IMAGES_DIR: Final = "images"
VIDEO_DIR: Final = "video"  # video/<camera>/<start>_<segment>.mp4: recorded fragmented-MP4 segments
KIND_VIDEO: Final = "video"
VIDEO_MEDIA_TYPE: Final = "video/mp4"
SIGNING_FILES: Final = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})

# Files referenced by events that are taken in as images (relative to the config dir)
MEDIA_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
MEDIA_TYPES: Final = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
                      ".gif": "image/gif", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff"}
MAX_IMAGE_BYTES: Final = 50 * 1024 * 1024
MAX_EVENTS: Final = 200_000  # a longer window is cut (the manifest says so)
ALARM_MARGIN: Final = 300.0  # seconds of context before an alarm was raised and after it ended

# Who may export and download (roles of hub.auth); calls without a user (automations, the hub) may too
EXPORT_ROLES: Final = frozenset({"admin", "supervisor"})

SERVICE_EXPORT: Final = "export"
AUDIT_TARGET_PREFIX: Final = "evidence/"
