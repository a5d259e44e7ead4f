"""Constants of the federation between control centres: topics, envelope types, events, services, config keys."""

from __future__ import annotations

from typing import Final

from hub.const import (  # the common keys, re-exported
    CONF_CA_CERTS,
    CONF_CERTFILE,
    CONF_CLIENT_ID,
    CONF_EVENT_TYPE,
    CONF_INSECURE,
    CONF_KEYFILE,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_TLS,
    CONF_TYPE,
    CONF_USERNAME,
)

__all__ = [
    "CONF_CA_CERTS",
    "CONF_CERTFILE",
    "CONF_CLIENT_ID",
    "CONF_EVENT_TYPE",
    "CONF_INSECURE",
    "CONF_KEYFILE",
    "CONF_NAME",
    "CONF_PASSWORD",
    "CONF_PORT",
    "CONF_TLS",
    "CONF_TYPE",
    "CONF_USERNAME",
    "DOMAIN",
]

DOMAIN: Final = "federation"

# Configuration
CONF_BROKER: Final = "broker"
CONF_KEEPALIVE: Final = "keepalive"
CONF_TOPIC_PREFIX: Final = "topic_prefix"
CONF_PEERS: Final = "peers"
CONF_SITE: Final = "site"
CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"
CONF_PEER_TIMEOUT: Final = "peer_timeout"
CONF_DEDUP_WINDOW: Final = "dedup_window"
CONF_RESEND_AFTER: Final = "resend_after"
CONF_ACTUATION_TIMEOUT: Final = "actuation_timeout"
CONF_SHARE: Final = "share"
CONF_EVENTS: Final = "events"
CONF_STATES: Final = "states"
CONF_ALARMS: Final = "alarms"
CONF_INCIDENTS: Final = "incidents"
CONF_ENTITY_ID: Final = "entity_id"
CONF_AREAS: Final = "areas"
CONF_SHARED_ONLY: Final = "shared_only"
CONF_ACTUATION: Final = "actuation"
CONF_SERVICES: Final = "services"

DEFAULT_PORT: Final = 1883
DEFAULT_KEEPALIVE: Final = 30
DEFAULT_TOPIC_PREFIX: Final = "hacho"
DEFAULT_HEARTBEAT_INTERVAL: Final = 15.0
DEFAULT_PEER_TIMEOUT: Final = 45.0
DEFAULT_DEDUP_WINDOW: Final = 7 * 86400.0  # ids remembered this long; the outbox keeps sent rows as long
DEFAULT_RESEND_AFTER: Final = 30.0  # a sequence gap this old is asked for again
DEFAULT_ACTUATION_TIMEOUT: Final = 300.0

# Envelope
ENVELOPE_VERSION: Final = 1
TYPE_EVENT: Final = "event"
TYPE_STATE: Final = "state"
TYPE_ALARM: Final = "alarm"
TYPE_ALARM_REQUEST: Final = "alarm_request"
TYPE_ACTUATION_REQUEST: Final = "actuation_request"
TYPE_RESPONSE: Final = "response"
TYPE_RESEND_REQUEST: Final = "resend_request"
TYPE_SNAPSHOT_REQUEST: Final = "snapshot_request"  # a centre new to a peer asks for its shared states and alarms
TYPE_INCIDENT: Final = "incident"  # a shared incident as it now is (with its timeline), or its withdrawal
ENVELOPE_TYPES: Final = frozenset({TYPE_EVENT, TYPE_STATE, TYPE_ALARM, TYPE_ALARM_REQUEST, TYPE_ACTUATION_REQUEST,
                                   TYPE_RESPONSE, TYPE_RESEND_REQUEST, TYPE_SNAPSHOT_REQUEST, TYPE_INCIDENT})
DIRECTED_TYPES: Final = frozenset({TYPE_ALARM_REQUEST, TYPE_ACTUATION_REQUEST, TYPE_RESPONSE, TYPE_RESEND_REQUEST,
                                   TYPE_SNAPSHOT_REQUEST})
SNAPSHOT_EVENT: Final = "alarm_snapshot"  # the `event` of an alarm sent in a snapshot (fired as alarm_updated)
SNAPSHOT_MIN_INTERVAL: Final = 30.0  # a peer's snapshot requests closer together than this are ignored

# Topics under <prefix>/<site>/
TOPIC_STATUS: Final = "status"  # retained birth / last will: {"state": "online" | "offline"}
TOPIC_HEARTBEAT: Final = "heartbeat"  # QoS 0, every heartbeat_interval
TOPIC_EVENT: Final = "event"  # .../event/<event_type>
TOPIC_STATE: Final = "state"  # .../state/<entity_id>
TOPIC_ALARM: Final = "alarm"  # .../alarm/<alarm_id>
TOPIC_INCIDENT: Final = "incident"  # .../incident/<incident_id>
TOPIC_TO: Final = "to"  # .../to/<peer>/<type>: requests and responses for one peer
STATUS_ONLINE: Final = "online"
STATUS_OFFLINE: Final = "offline"

# Outbox
OUTBOX_KIND: Final = "federation"
OUTBOX_DESTINATION: Final = "broker"  # one ordered stream: sequence numbers leave in order
INBOX_SCOPE_PREFIX: Final = "federation:"
PUBLISH_TIMEOUT: Final = 10.0
WAIT_CONNECTED: Final = 10.0
INBOUND_BATCH: Final = 200
MAX_MISSING_TRACKED: Final = 1000
RESEND_BATCH: Final = 500

# Peer status entity
PEER_CONNECTED: Final = "connected"
PEER_DISCONNECTED: Final = "disconnected"

# Attributes of remote entities
ATTR_ORIGIN_SITE: Final = "origin_site"
ATTR_ORIGIN_ENTITY_ID: Final = "origin_entity_id"
ATTR_REMOTE: Final = "remote"

# Events fired here
EVENT_PEER_STATUS: Final = "federation_peer_status"  # a peer connected or disconnected
EVENT_REQUEST_RESULT: Final = "federation_request_result"  # the owner answered an alarm request of ours
EVENT_ACTUATION_REQUESTED: Final = "federation_actuation_requested"  # a peer asks us to actuate
EVENT_ACTUATION_RESPONDED: Final = "federation_actuation_responded"  # our operator answered it
EVENT_ACTUATION_RESULT: Final = "federation_actuation_result"  # the owner answered our request
EVENT_GAP: Final = "federation_gap"  # messages from a peer are missing (asked again)

# Services
SERVICE_ACKNOWLEDGE_ALARM: Final = "acknowledge_alarm"
SERVICE_ALARM_ACTION: Final = "alarm_action"
SERVICE_REQUEST_ACTUATION: Final = "request_actuation"
SERVICE_RESPOND_ACTUATION: Final = "respond_actuation"
SERVICE_REQUEST_SNAPSHOT: Final = "request_snapshot"
ALARM_ACTIONS: Final = ("acknowledge", "start", "resolve", "add_note")

# Actuation request states
ACT_PENDING: Final = "pending"
ACT_DONE: Final = "done"
ACT_REFUSED: Final = "refused"
ACT_FAILED: Final = "failed"
ACT_EXPIRED: Final = "expired"
ACT_FINAL: Final = frozenset({ACT_DONE, ACT_REFUSED, ACT_FAILED, ACT_EXPIRED})
DIRECTION_IN: Final = "in"  # a peer asked us
DIRECTION_OUT: Final = "out"  # we asked a peer

# Audit actions
AUDIT_ALARM_REQUEST: Final = "federation_alarm_request"
AUDIT_ALARM_REQUEST_APPLIED: Final = "federation_alarm_request_applied"
AUDIT_ACTUATION_REQUEST: Final = "federation_actuation_request"
AUDIT_ACTUATION_REQUESTED: Final = "federation_actuation_requested"
AUDIT_ACTUATION_RESPONSE: Final = "federation_actuation_response"
AUDIT_ACTUATION_RESULT: Final = "federation_actuation_result"
AUDIT_INCIDENT_SHARED: Final = "federation_incident_shared"  # ours, now shared with the peers
AUDIT_INCIDENT_WITHDRAWN: Final = "federation_incident_withdrawn"  # ours, no longer shared
AUDIT_INCIDENT_RECEIVED: Final = "federation_incident_received"  # a peer's, shared with us
AUDIT_INCIDENT_REMOVED: Final = "federation_incident_removed"  # a peer's, withdrawn by its owner

# Event types never shared as plain events (they have their own channel, or are the hub's own business)
NEVER_SHARED_EVENTS: Final = frozenset({
    "state_changed", "call_service", "service_registered", "service_removed", "hub_start", "hub_started",
    "hub_stop", "hub_final_write", "hub_close", "integration_loaded", "integration_failed",
    "integration_unloaded", "entity_registry_updated", "device_registry_updated", "login", "logout",
})
NEVER_SHARED_PREFIXES: Final = ("federation_", "alarm_")
