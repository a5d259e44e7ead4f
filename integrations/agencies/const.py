"""Constants of the agencies integration: names, events, defaults and the CAP 1.2 vocabularies."""

from __future__ import annotations

import enum
from typing import Final

from hub.const import CONF_EVENT_TYPE, CONF_ID, CONF_NAME, CONF_TIMEOUT  # noqa: F401 - the common keys, re-exported

DOMAIN: Final = "agencies"  # the integration and its configuration section
SERVICE_DOMAIN: Final = "agency"  # agency.notify, agency.replay, agency.enable; entities agency.<id>
OUTBOX_KIND: Final = "agency_webhook"

SERVICE_NOTIFY: Final = "notify"
SERVICE_REPLAY: Final = "replay"
SERVICE_ENABLE: Final = "enable"

EVENT_DELIVERY_SUCCEEDED: Final = "agency_delivery_succeeded"
EVENT_DELIVERY_FAILED: Final = "agency_delivery_failed"
EVENT_DELIVERY_DEAD: Final = "agency_delivery_dead"
EVENT_ENDPOINT_DISABLED: Final = "agency_endpoint_disabled"
EVENT_ENDPOINT_ENABLED: Final = "agency_endpoint_enabled"
EVENT_WEBHOOK_RECEIVED: Final = "agency_webhook_received"
EVENT_AUDIT: Final = "audit_event"  # fired for refused webhooks when hub.audit is not running
# Our own status events are never forwarded to agencies: one failing delivery would feed the next.
UNFORWARDABLE_PREFIXES: Final = ("agency_delivery_", "agency_endpoint_")

AUDIT_ACTION_WEBHOOK_REFUSED: Final = "webhook_refused"
AUDIT_ACTION_REPLAY: Final = "agency_replay"
AUDIT_ACTION_ENABLE: Final = "agency_enable"

WEBHOOK_URL: Final = "/api/webhook/{webhook_id}"
WEBHOOK_PATH: Final = "/api/webhook/"

# Standard Webhooks headers (https://www.standardwebhooks.com/).
HEADER_ID: Final = "webhook-id"
HEADER_TIMESTAMP: Final = "webhook-timestamp"
HEADER_SIGNATURE: Final = "webhook-signature"
SECRET_PREFIX: Final = "whsec_"
MIN_SECRET_BYTES: Final = 16

CONTENT_TYPE_JSON: Final = "application/json"
CONTENT_TYPE_CAP: Final = "application/cap+xml"
USER_AGENT: Final = "Hacho-Agencies/0.1"

CONF_AGENCIES: Final = "agencies"
CONF_SENDER: Final = "sender"
CONF_SENDER_NAME: Final = "sender_name"
CONF_LANGUAGE: Final = "language"
CONF_STATUS: Final = "status"
CONF_SCOPE: Final = "scope"
CONF_RESTRICTION: Final = "restriction"
CONF_URL: Final = "url"
CONF_FORMATS: Final = "formats"
CONF_SECRET: Final = "secret"
CONF_SECRETS: Final = "secrets"
CONF_MAX_ATTEMPTS: Final = "max_attempts"
CONF_BACKOFF_BASE: Final = "backoff_base"
CONF_BACKOFF_CAP: Final = "backoff_cap"
CONF_ENABLED: Final = "enabled"
CONF_EVENTS: Final = "events"
CONF_MATCH: Final = "match"
CONF_ORIGIN: Final = "origin"
CONF_CAP: Final = "cap"
CONF_INBOUND: Final = "inbound"
CONF_WEBHOOK_ID: Final = "webhook_id"
CONF_SCHEMA: Final = "schema"
CONF_MAX_BODY_BYTES: Final = "max_body_bytes"
CONF_RATE_LIMIT: Final = "rate_limit"
CONF_REQUESTS: Final = "requests"
CONF_PER: Final = "per"
CONF_BURST: Final = "burst"
CONF_TOLERANCE: Final = "tolerance"

DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_MAX_ATTEMPTS: Final = 12
DEFAULT_BACKOFF_BASE: Final = 10.0
DEFAULT_BACKOFF_CAP: Final = 3600.0
DEFAULT_LANGUAGE: Final = "es-ES"
DEFAULT_RESTRICTION: Final = "For the emergency services only"
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024
DEFAULT_TOLERANCE: Final = 300.0  # Standard Webhooks: 5 minutes either way
DEFAULT_RATE_REQUESTS: Final = 60
DEFAULT_RATE_PER: Final = 60.0
DEFAULT_RADIUS_KM: Final = 1.0
MAX_ERROR_BODY: Final = 200  # characters of an error response kept in last_error

STORAGE_KEY: Final = "agencies"
STORAGE_VERSION: Final = 1


class Format(enum.StrEnum):
    """What an agency receives."""

    JSON = "json"
    CAP = "cap"


class MsgType(enum.StrEnum):
    """CAP msgType values the hub sends."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


CAP_STATUS: Final = ("Actual", "Exercise", "System", "Test", "Draft")
CAP_SCOPE: Final = ("Public", "Restricted", "Private")
CAP_CATEGORY: Final = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
                       "Infra", "CBRNE", "Other")
CAP_URGENCY: Final = ("Immediate", "Expected", "Future", "Past", "Unknown")
CAP_SEVERITY: Final = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CAP_CERTAINTY: Final = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

# Entity states of agency.<id>
STATE_OK: Final = "ok"
STATE_FAILING: Final = "failing"
STATE_DISABLED: Final = "disabled"
