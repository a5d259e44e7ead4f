"""Modbus: TCP and RTU-over-TCP hubs polled into sensor, binary_sensor and switch entities.

Configuration (`modbus:` is a list of hubs)::

    modbus:
      - name: port_meters
        type: tcp              # or rtuovertcp
        host: 10.20.0.15
        port: 502
        timeout: 3
        scan_interval: 10      # per hub; an entity may override
        sensors:
          - {name: Port power, slave: 1, address: 0, input_type: input, data_type: float32,
             unit_of_measurement: kW, device_class: power, precision: 1}
          # A city sensor kind (hub.helpers.units) fills device class, unit, state class, icon and
          # precision; `source_unit` is what the device sends, converted for users.
          - {name: Hacho wind, slave: 2, address: 10, input_type: input, scale: 0.1,
             kind: wind_speed, source_unit: m/s}

Other integrations reach a hub's client with `get_client(hub, name)` (the bollards do).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.core import Hub, HubKey
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.switch_services import async_hold_switch_services
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .client import ModbusClient, ModbusDeviceError
from .const import (
    CONF_BINARY_SENSORS,
    CONF_DELAY,
    CONF_HOST,
    CONF_NAME,
    CONF_PORT,
    CONF_RETRIES,
    CONF_SCAN_INTERVAL,
    CONF_SENSORS,
    CONF_SWITCHES,
    CONF_TIMEOUT,
    CONF_TYPE,
    DOMAIN,
)
from .entity import ModbusBinarySensor, ModbusEntity, ModbusSensor, ModbusSwitch
from .poller import ModbusPoller
from .schema import CONFIG_SCHEMA
from .services import async_register_services

__all__ = [
    "CONFIG_SCHEMA",
    "DOMAIN",
    "ModbusClient",
    "ModbusDeviceError",
    "async_setup",
    "async_unload",
    "get_client",
]

_LOGGER = logging.getLogger(__name__)


@dataclass
class ModbusData:
    """What the integration keeps in hub.data: clients and pollers by hub name (removers: its setup handle)."""

    clients: dict[str, ModbusClient] = field(default_factory=dict)
    pollers: dict[str, ModbusPoller] = field(default_factory=dict)


DATA_MODBUS: HubKey[ModbusData] = HubKey(DOMAIN)


def get_client(hub: Hub, name: str) -> ModbusClient | None:
    """The client of the configured Modbus hub `name`, or None."""
    data = hub.data.get(DATA_MODBUS)
    return None if data is None else data.clients.get(name)


def _domain_config(config: Any) -> Any:
    """Accept the whole configuration (a mapping with a `modbus:` key) or just our section."""
    if isinstance(config, Mapping):
        return config.get(DOMAIN)
    return config


async def async_setup(hub: Hub, config: Any) -> bool:
    """Create a client and a poller per hub, add the entities, register the services."""
    hubs = CONFIG_SCHEMA(_domain_config(config))
    if logging.getLogger("pymodbus").level == logging.NOTSET:
        # pymodbus logs every timeout at error level with frame dumps; we log once per device instead.
        # A `logger:` setting for pymodbus (level set) wins.
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    data = hub.data[DATA_MODBUS] = ModbusData()
    for hub_config in hubs:
        name = hub_config[CONF_NAME]
        client = ModbusClient(
            name, hub_config[CONF_HOST], hub_config[CONF_PORT], hub_type=hub_config[CONF_TYPE],
            timeout=hub_config[CONF_TIMEOUT], retries=hub_config[CONF_RETRIES], delay=hub_config[CONF_DELAY],
        )
        interval = hub_config[CONF_SCAN_INTERVAL]
        entities: list[ModbusEntity] = [
            *(ModbusSensor(name, c, interval) for c in hub_config[CONF_SENSORS]),
            *(ModbusBinarySensor(name, c, interval) for c in hub_config[CONF_BINARY_SENSORS]),
            *(ModbusSwitch(name, c, interval) for c in hub_config[CONF_SWITCHES]),
        ]
        data.clients[name] = client
        poller = data.pollers[name] = ModbusPoller(hub, client, entities)
        await async_add_entities(hub, DOMAIN, entities)
        poller.async_start()
        _LOGGER.debug("Modbus hub %s: %d entities in %d requests per round", name, len(entities),
                      sum(len(b) for b in poller.blocks.values()))
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub, lambda name: data.clients.get(name)):
        handle.async_on_unload(remover)
    if any(hub_config[CONF_SWITCHES] for hub_config in hubs):
        handle.async_on_unload(async_hold_switch_services(hub, DOMAIN))
    return True


async def async_unload(hub: Hub) -> bool:
    """Stop polling, close the connections, remove the services."""
    data = hub.data.pop(DATA_MODBUS, None)
    if data is None:
        return True
    for poller in data.pollers.values():
        poller.async_stop()
    for client in data.clients.values():
        client.close()
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    return True
