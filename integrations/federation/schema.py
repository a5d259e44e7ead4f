"""Schemas of the `federation:` section (link, peers, sharing policy, actuation allowlist) and of the services."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv
from integrations.mqtt.connection import valid_tls

from .const import (
    ALARM_ACTIONS,
    CONF_ACTUATION,
    CONF_ACTUATION_TIMEOUT,
    CONF_ALARMS,
    CONF_AREAS,
    CONF_BROKER,
    CONF_CLIENT_ID,
    CONF_DEDUP_WINDOW,
    CONF_ENTITY_ID,
    CONF_EVENT_TYPE,
    CONF_EVENTS,
    CONF_HEARTBEAT_INTERVAL,
    CONF_INCIDENTS,
    CONF_KEEPALIVE,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PEER_TIMEOUT,
    CONF_PEERS,
    CONF_PORT,
    CONF_RESEND_AFTER,
    CONF_SERVICES,
    CONF_SHARE,
    CONF_SHARED_ONLY,
    CONF_SITE,
    CONF_STATES,
    CONF_TLS,
    CONF_TOPIC_PREFIX,
    CONF_TYPE,
    CONF_USERNAME,
    DEFAULT_ACTUATION_TIMEOUT,
    DEFAULT_DEDUP_WINDOW,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_KEEPALIVE,
    DEFAULT_PEER_TIMEOUT,
    DEFAULT_PORT,
    DEFAULT_RESEND_AFTER,
    DEFAULT_TOPIC_PREFIX,
)

__all__ = [
    "ACKNOWLEDGE_SCHEMA",
    "ALARM_ACTION_SCHEMA",
    "CONFIG_SCHEMA",
    "REQUEST_ACTUATION_SCHEMA",
    "REQUEST_SNAPSHOT_SCHEMA",
    "RESPOND_ACTUATION_SCHEMA",
]


def _glob(value: Any) -> str:
    """An fnmatch pattern (`bollard.tarajal_*`), lower-cased."""
    text = cv.string(value).strip().lower()
    if not text:
        raise vol.Invalid("expected a pattern such as 'bollard.*'")
    return text


def _topic_level(value: Any) -> str:
    text = cv.string(value).strip().strip("/")
    if not text or any(char in text for char in "+#\0"):
        raise vol.Invalid("expected a topic prefix without wildcards, such as 'hacho'")
    return text


def _service_name(value: Any) -> str:
    text = cv.string(value).strip().lower()
    domain, dot, service = text.partition(".")
    if not dot or not domain or not service:
        raise vol.Invalid("expected a service as 'domain.service' (patterns allowed: 'bollard.*')")
    return text


def _unique_peers(peers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for index, peer in enumerate(peers):
        if peer[CONF_SITE] in seen:
            raise vol.Invalid(f"peer {peer[CONF_SITE]!r} is listed twice", path=[index, CONF_SITE])
        seen.add(peer[CONF_SITE])
        if peer.get(CONF_NAME) is None:
            peer[CONF_NAME] = peer[CONF_SITE].replace("_", " ").title()
    return peers


def _peer(value: Any) -> Any:
    return {CONF_SITE: value} if isinstance(value, str) else value


def _timeouts(config: dict[str, Any]) -> dict[str, Any]:
    if config[CONF_PEER_TIMEOUT] <= config[CONF_HEARTBEAT_INTERVAL]:
        raise vol.Invalid(f"{CONF_PEER_TIMEOUT} must be longer than {CONF_HEARTBEAT_INTERVAL} "
                          f"({config[CONF_PEER_TIMEOUT]} <= {config[CONF_HEARTBEAT_INTERVAL]})",
                          path=[CONF_PEER_TIMEOUT])
    return config


_POSITIVE = vol.All(cv.positive_float, vol.Range(min=0.05, msg="expected a number of seconds > 0"))

PEER_SCHEMA = vol.All(_peer, vol.Schema({
    vol.Required(CONF_SITE): cv.slug,
    vol.Optional(CONF_NAME): cv.string,
}))

EVENT_RULE_SCHEMA = vol.Schema({
    vol.Required(CONF_EVENT_TYPE): _glob,
    vol.Optional(CONF_ENTITY_ID): _glob,
    vol.Optional(CONF_AREAS): cv.list_of(cv.slug),
})
STATE_RULE_SCHEMA = vol.Schema({
    vol.Required(CONF_ENTITY_ID): _glob,
    vol.Optional(CONF_AREAS): cv.list_of(cv.slug),
})
ALARM_RULE_SCHEMA = vol.Schema({
    vol.Optional(CONF_TYPE, default="*"): _glob,
    vol.Optional(CONF_AREAS): cv.list_of(cv.slug),
    # by default only alarms raised as `shared` (alarm type `shared: true`, or alarm.raise shared=true) leave
    vol.Optional(CONF_SHARED_ONLY, default=True): cv.boolean,
})
INCIDENT_RULE_SCHEMA = vol.Schema({
    # by default only incidents marked `shared` (incident.create / incident.update shared=true) leave
    vol.Optional(CONF_SHARED_ONLY, default=True): cv.boolean,
})
SHARE_SCHEMA = vol.Schema({
    vol.Optional(CONF_EVENTS, default=list): cv.list_of(EVENT_RULE_SCHEMA),
    vol.Optional(CONF_STATES, default=list): cv.list_of(STATE_RULE_SCHEMA),
    vol.Optional(CONF_ALARMS, default=lambda: [{CONF_TYPE: "*", CONF_SHARED_ONLY: True}]):
        cv.list_of(ALARM_RULE_SCHEMA),
    vol.Optional(CONF_INCIDENTS, default=lambda: [{CONF_SHARED_ONLY: True}]): cv.list_of(INCIDENT_RULE_SCHEMA),
})
ACTUATION_RULE_SCHEMA = vol.Schema({
    vol.Required(CONF_ENTITY_ID): _glob,
    vol.Required(CONF_SERVICES): vol.All(cv.ensure_list, vol.Length(min=1), [_service_name]),
    vol.Optional(CONF_PEERS): cv.list_of(cv.slug),  # default: every peer
})

CONFIG_SCHEMA = vol.All(vol.Schema({
    vol.Optional(CONF_BROKER, default="127.0.0.1"): cv.string,
    vol.Optional(CONF_PORT, default=DEFAULT_PORT): cv.port,
    vol.Optional(CONF_USERNAME): cv.string,
    vol.Optional(CONF_PASSWORD): cv.string,
    vol.Optional(CONF_CLIENT_ID): cv.string,  # default: hacho-federation-<site>
    vol.Optional(CONF_KEEPALIVE, default=DEFAULT_KEEPALIVE): vol.All(cv.positive_int, vol.Range(min=5)),
    vol.Optional(CONF_TLS): valid_tls,
    vol.Optional(CONF_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX): _topic_level,
    vol.Required(CONF_PEERS): vol.All(cv.ensure_list, vol.Length(min=1, msg="expected at least one peer"),
                                      [PEER_SCHEMA], _unique_peers),
    vol.Optional(CONF_HEARTBEAT_INTERVAL, default=DEFAULT_HEARTBEAT_INTERVAL): _POSITIVE,
    vol.Optional(CONF_PEER_TIMEOUT, default=DEFAULT_PEER_TIMEOUT): _POSITIVE,
    vol.Optional(CONF_DEDUP_WINDOW, default=DEFAULT_DEDUP_WINDOW): _POSITIVE,
    vol.Optional(CONF_RESEND_AFTER, default=DEFAULT_RESEND_AFTER): _POSITIVE,
    vol.Optional(CONF_ACTUATION_TIMEOUT, default=DEFAULT_ACTUATION_TIMEOUT): _POSITIVE,
    vol.Optional(CONF_SHARE, default=dict): SHARE_SCHEMA,
    vol.Optional(CONF_ACTUATION, default=list): cv.list_of(ACTUATION_RULE_SCHEMA),
}), _timeouts)

# Services
_NOTE = vol.All(cv.string, vol.Length(max=2000))
REQUEST_SNAPSHOT_SCHEMA = vol.Schema({
    vol.Optional("site"): cv.slug,  # default: every peer that is connected
})
ACKNOWLEDGE_SCHEMA = vol.Schema({
    vol.Required("alarm_id"): cv.string,
    vol.Optional("note"): _NOTE,
})
ALARM_ACTION_SCHEMA = vol.Schema({
    vol.Required("alarm_id"): cv.string,
    vol.Required("action"): vol.In(ALARM_ACTIONS, msg=f"expected one of {', '.join(ALARM_ACTIONS)}"),
    vol.Optional("note"): _NOTE,
})
REQUEST_ACTUATION_SCHEMA = vol.Schema({
    vol.Required("entity_id"): cv.entity_id,  # the owner's id, or our mirror of it (bollard.<site>_<id>)
    vol.Optional("site"): cv.slug,  # the owner; needed when entity_id is the owner's own id
    vol.Required("service"): _service_name,
    vol.Optional("data", default=dict): vol.Schema({}, extra=vol.ALLOW_EXTRA),
    vol.Required("reason"): vol.All(cv.string, vol.Length(min=1, max=1000)),
})
RESPOND_ACTUATION_SCHEMA = vol.Schema({
    vol.Required("request_id"): cv.string,
    vol.Required("approve"): cv.boolean,
    vol.Optional("note"): _NOTE,
})
