"""Schemas of the `bollards:` section and of the bollard services (defaults live here)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv
from hub.helpers.entity_service import EntityServiceSchema
from integrations.modbus.const import DEFAULT_PORT, HubType

from .const import (
    ATTR_PENDING_ID,
    ATTR_REASON,
    CONF_AREA,
    CONF_BASE_ADDRESS,
    CONF_CONFIRMATION_TIMEOUT,
    CONF_HEARTBEAT_TIMEOUT,
    CONF_HOST,
    CONF_HUB,
    CONF_ID,
    CONF_NAME,
    CONF_PORT,
    CONF_REQUIRE_CONFIRMATION,
    CONF_SCAN_INTERVAL,
    CONF_SLAVE,
    CONF_TIMEOUT,
    CONF_TRAVEL_TIMEOUT,
    CONF_TYPE,
    DEFAULT_CONFIRMATION_TIMEOUT,
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    DEFAULT_TRAVEL_TIMEOUT,
    ENTITY_DOMAIN,
)
from .registers import BLOCK_STRIDE

__all__ = ["BOLLARD_SCHEMA", "COMMAND_SCHEMA", "CONFIG_SCHEMA", "CONFIRM_SCHEMA"]

_seconds = vol.All(vol.Coerce(float), vol.Range(min=0.05))


def _one_transport(config: dict[str, Any]) -> dict[str, Any]:
    """A bollard talks through a configured Modbus hub (`hub:`) or straight to its PLC (`host:`)."""
    if (CONF_HUB in config) == (CONF_HOST in config):
        raise vol.Invalid(f"give either '{CONF_HUB}' (a modbus hub name) or '{CONF_HOST}', "
                          "not both or neither")
    if config[CONF_BASE_ADDRESS] % BLOCK_STRIDE:
        raise vol.Invalid(f"base_address must be a multiple of {BLOCK_STRIDE}", path=[CONF_BASE_ADDRESS])
    if config[CONF_HEARTBEAT_TIMEOUT] < 2 * config[CONF_SCAN_INTERVAL]:
        raise vol.Invalid("heartbeat_timeout must be at least twice scan_interval",
                          path=[CONF_HEARTBEAT_TIMEOUT])
    return config


BOLLARD_SCHEMA = vol.All(
    vol.Schema({
        vol.Required(CONF_ID): vol.All(cv.string, vol.Length(min=1, max=32)),
        vol.Optional(CONF_NAME): cv.string,
        vol.Optional(CONF_HUB): cv.string,
        vol.Optional(CONF_HOST): cv.string,
        vol.Optional(CONF_PORT, default=DEFAULT_PORT): cv.port,
        vol.Optional(CONF_TYPE, default=HubType.TCP.value): vol.Coerce(HubType),
        vol.Optional(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): _seconds,
        vol.Optional(CONF_SLAVE, default=1): vol.All(vol.Coerce(int), vol.Range(min=0, max=255)),
        vol.Optional(CONF_BASE_ADDRESS, default=0): vol.All(vol.Coerce(int), vol.Range(min=0, max=65520)),
        vol.Optional(CONF_AREA): cv.string,
        vol.Optional(CONF_REQUIRE_CONFIRMATION, default=False): cv.boolean,
        vol.Optional(CONF_CONFIRMATION_TIMEOUT, default=DEFAULT_CONFIRMATION_TIMEOUT): _seconds,
        vol.Optional(CONF_TRAVEL_TIMEOUT, default=DEFAULT_TRAVEL_TIMEOUT): _seconds,
        vol.Optional(CONF_HEARTBEAT_TIMEOUT, default=DEFAULT_HEARTBEAT_TIMEOUT): _seconds,
        vol.Optional(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): _seconds,
    }),
    _one_transport,
)


def _unique_ids(bollards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    places: dict[tuple[Any, ...], str] = {}
    for index, bollard in enumerate(bollards):
        if bollard[CONF_ID] in seen:
            raise vol.Invalid(f"bollard id '{bollard[CONF_ID]}' is used twice", path=[index, CONF_ID])
        seen[bollard[CONF_ID]] = index
        where = (bollard.get(CONF_HUB), bollard.get(CONF_HOST), bollard[CONF_PORT], bollard[CONF_SLAVE],
                 bollard[CONF_BASE_ADDRESS])
        if where in places:
            raise vol.Invalid(
                f"bollard '{bollard[CONF_ID]}' uses the same PLC registers as '{places[where]}'",
                path=[index, CONF_BASE_ADDRESS],
            )
        places[where] = bollard[CONF_ID]
    return bollards


CONFIG_SCHEMA = vol.All(
    lambda value: [] if value is None or value == {} else value,
    cv.list_of(BOLLARD_SCHEMA),
    _unique_ids,
)

COMMAND_SCHEMA = EntityServiceSchema({  # entity_id or area_id, and:
    # Why the operator gives the command ("ambulance to the hospital"): kept in the audit events.
    vol.Optional(ATTR_REASON): vol.All(cv.string, vol.Length(max=255)),
}, entity_domain=ENTITY_DOMAIN)

CONFIRM_SCHEMA = EntityServiceSchema({  # one entity_id, and:
    vol.Required(ATTR_PENDING_ID): cv.string,
}, entity_domain=ENTITY_DOMAIN, single=True)
