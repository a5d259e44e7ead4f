"""Anti-ramming bollards on PLCs that speak our register map (docs/bollard-register-map.md).

Configuration (`bollards:` is a list)::

    bollards:
      - id: B-07
        name: Calle Real north
        hub: plc_centro          # a `modbus:` hub by name ... or host/port straight to the PLC:
        # host: 10.30.1.7
        # port: 502
        slave: 1
        base_address: 0          # 16 addresses per bollard: 0, 16, 32...
        area: calle_real
        require_confirmation: true
        travel_timeout: 10
        heartbeat_timeout: 5

Transport: the bollards use the Modbus integration's client (`integrations.modbus.client.ModbusClient`).
With `hub:` they share that hub's connection (the manifest depends on `modbus`, so it is set up
first); with `host:` this integration opens its own client, one per PLC address.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.core import Hub, HubKey
from hub.exceptions import ConfigError
from hub.helpers.entity_platform import async_add_entities
from hub.setup_handle import async_get_setup_handle
from integrations.modbus import get_client
from integrations.modbus.client import ModbusClient

from .const import (
    CONF_BASE_ADDRESS,
    CONF_HOST,
    CONF_HUB,
    CONF_ID,
    CONF_PORT,
    CONF_SLAVE,
    CONF_TIMEOUT,
    CONF_TYPE,
    DOMAIN,
)
from .entity import Bollard
from .errors import BollardRefused
from .plc import BollardPLC
from .schema import CONFIG_SCHEMA
from .services import async_register_services

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "Bollard", "BollardRefused", "async_setup", "async_unload"]

_LOGGER = logging.getLogger(__name__)


@dataclass
class BollardsData:
    """What the integration keeps in hub.data."""

    bollards: list[Bollard] = field(default_factory=list)
    own_clients: dict[tuple[str, int, str], ModbusClient] = field(default_factory=dict)


DATA_BOLLARDS: HubKey[BollardsData] = HubKey(DOMAIN)


def _domain_config(config: Any) -> Any:
    if isinstance(config, Mapping):
        return config.get(DOMAIN)
    return config


def _client_for(hub: Hub, data: BollardsData, config: Mapping[str, Any]) -> ModbusClient:
    if CONF_HUB in config:
        client = get_client(hub, config[CONF_HUB])
        if client is None:
            raise ConfigError(f"bollard {config[CONF_ID]}: no modbus hub named '{config[CONF_HUB]}'")
        return client
    key = (config[CONF_HOST], config[CONF_PORT], str(config[CONF_TYPE]))
    client = data.own_clients.get(key)
    if client is None:
        client = data.own_clients[key] = ModbusClient(
            f"bollards@{config[CONF_HOST]}:{config[CONF_PORT]}", config[CONF_HOST], config[CONF_PORT],
            hub_type=config[CONF_TYPE], timeout=config[CONF_TIMEOUT],
        )
    return client


async def async_setup(hub: Hub, config: Any) -> bool:
    """Create a Bollard entity per configured bollard and register the services."""
    bollards_config = CONFIG_SCHEMA(_domain_config(config))
    data = hub.data[DATA_BOLLARDS] = BollardsData()
    for bollard_config in bollards_config:
        client = _client_for(hub, data, bollard_config)
        plc = BollardPLC(client, bollard_config[CONF_SLAVE], bollard_config[CONF_BASE_ADDRESS])
        data.bollards.append(Bollard(bollard_config, plc))
    await async_add_entities(hub, DOMAIN, data.bollards)
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub):
        handle.async_on_unload(remover)
    _LOGGER.debug("%d bollards set up", len(data.bollards))
    return True


async def async_unload(hub: Hub) -> bool:
    """Close the connections this integration opened (the loader removes the services through the setup
    handle, and the entities, which stops their polling and timers)."""
    data = hub.data.pop(DATA_BOLLARDS, None)
    if data is None:
        return True
    for client in data.own_clients.values():
        client.close()
    return True
