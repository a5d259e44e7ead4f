"""Constants of the bollards integration: keys, defaults, events, refusal and fault reasons."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from hub.const import (  # the common keys, re-exported
    CONF_AREA,
    CONF_HOST,
    CONF_ID,
    CONF_NAME,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_TYPE,
)

__all__ = [
    "CONF_AREA",
    "CONF_HOST",
    "CONF_ID",
    "CONF_NAME",
    "CONF_PORT",
    "CONF_SCAN_INTERVAL",
    "CONF_TIMEOUT",
    "CONF_TYPE",
    "DOMAIN",
    "ENTITY_DOMAIN",
    "FaultReason",
    "RefusalReason",
]

DOMAIN: Final = "bollards"  # the integration
ENTITY_DOMAIN: Final = "bollard"  # its entities and services: bollard.b_07, bollard.raise

CONF_HUB: Final = "hub"
CONF_SLAVE: Final = "slave"
CONF_BASE_ADDRESS: Final = "base_address"
CONF_REQUIRE_CONFIRMATION: Final = "require_confirmation"
CONF_CONFIRMATION_TIMEOUT: Final = "confirmation_timeout"
CONF_TRAVEL_TIMEOUT: Final = "travel_timeout"
CONF_HEARTBEAT_TIMEOUT: Final = "heartbeat_timeout"

DEFAULT_TRAVEL_TIMEOUT: Final = 10.0
DEFAULT_HEARTBEAT_TIMEOUT: Final = 5.0
DEFAULT_CONFIRMATION_TIMEOUT: Final = 60.0
DEFAULT_SCAN_INTERVAL: Final = 1.0
DEFAULT_TIMEOUT: Final = 2.0

# A PLC heartbeat ticks every second; ages under this read 0 so a healthy bollard does not
# rewrite its state (and the recorder) on every poll.
HEARTBEAT_AGE_DEADBAND: Final = 2.0

EVENT_BOLLARD_COMMAND: Final = "bollard_command"
EVENT_BOLLARD_REFUSED: Final = "bollard_refused"
EVENT_BOLLARD_FAULT: Final = "bollard_fault"

SERVICE_RAISE: Final = "raise"
SERVICE_LOWER: Final = "lower"
SERVICE_EMERGENCY_LOWER: Final = "emergency_lower"
SERVICE_CONFIRM: Final = "confirm"

ATTR_PENDING_ID: Final = "pending_id"
ATTR_REASON: Final = "reason"

STATE_RAISED: Final = "raised"
STATE_LOWERED: Final = "lowered"
STATE_RAISING: Final = "raising"
STATE_LOWERING: Final = "lowering"
STATE_FAULT: Final = "fault"
STATE_UNKNOWN: Final = "unknown"


class RefusalReason(StrEnum):
    """Why a command was not sent (the `reason` of `bollard_refused` and of BollardRefused)."""

    UNAVAILABLE = "unavailable"
    LOCAL_MODE = "local_mode"
    VEHICLE_ON_LOOP = "vehicle_on_loop"
    HEARTBEAT_STALE = "heartbeat_stale"
    FAULT = "fault"
    PENDING_CONFIRMATION = "pending_confirmation"
    SAME_USER = "same_user"
    UNIDENTIFIED_USER = "unidentified_user"
    NO_PENDING = "no_pending"
    CONFIRMATION_EXPIRED = "confirmation_expired"
    PLC_REJECTED = "plc_rejected"


class FaultReason(StrEnum):
    """Why a bollard is in fault (the `reason` of `bollard_fault`)."""

    PLC_FAULT = "plc_fault"
    TRAVEL_TIMEOUT = "travel_timeout"
    HEARTBEAT_STALE = "heartbeat_stale"
    LIMIT_CONFLICT = "limit_conflict"
    COMM_FAILURE = "comm_failure"
