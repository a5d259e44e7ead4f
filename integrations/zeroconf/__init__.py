"""Zeroconf: announce the hub on the local network and list the brokers, Modbus devices and hubs it finds.

Configuration::

    zeroconf:
      announce: true                  # _hacho._tcp with the HTTP port and the site id in TXT
      interfaces: all                 # or a list of interface addresses, e.g. [10.20.0.5]
      browse: [_mqtt._tcp.local., _modbus._tcp.local., _hacho._tcp.local.]

What it finds is listed, never added: `GET /api/discovery`, the `zeroconf_discovered` event, and
`zeroconf.adopt` (returns the YAML to paste) or `zeroconf.ignore`. `get_discovery(hub)` gives the
registry to other modules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.core import Hub, HubKey
from hub.setup import async_get_setup_manager
from hub.setup_handle import async_get_setup_handle

from .const import DOMAIN, EVENT_ZEROCONF_DISCOVERED, KIND_HACHO, KIND_MODBUS, KIND_MQTT
from .manager import ZeroconfManager
from .registry import DiscoveredService, DiscoveryRegistry
from .schema import CONFIG_SCHEMA
from .services import async_register_services
from .views import DATA_REGISTRY, async_register_view

__all__ = [
    "CONFIG_SCHEMA",
    "DOMAIN",
    "EVENT_ZEROCONF_DISCOVERED",
    "DiscoveredService",
    "DiscoveryRegistry",
    "async_setup",
    "async_unload",
    "get_discovery",
]

_LOGGER = logging.getLogger(__name__)


@dataclass
class ZeroconfData:
    """What the integration keeps in hub.data."""

    manager: ZeroconfManager
    registry: DiscoveryRegistry


DATA_ZEROCONF: HubKey[ZeroconfData] = HubKey(DOMAIN)


def get_discovery(hub: Hub) -> DiscoveryRegistry:
    """The registry of discovered services. Raises LookupError when zeroconf is not set up."""
    data = hub.data.get(DATA_ZEROCONF)
    if data is None:
        raise LookupError("the zeroconf integration is not set up")
    return data.registry


def _matches(service: DiscoveredService, host: Any, port: Any) -> bool:
    if host is None or port is None or service.port != int(port):
        return False
    names = {*service.addresses, (service.host or "").rstrip(".")}
    return str(host).rstrip(".") in names


def _configured_check(hub: Hub) -> Any:
    """Whether a service is already in the configuration (the setup manager's validated sections)."""

    def check(service: DiscoveredService) -> bool:
        configs: Mapping[str, Any] = async_get_setup_manager(hub).configs
        if service.kind == KIND_MQTT:
            mqtt = configs.get("mqtt") or {}
            return _matches(service, mqtt.get("broker"), mqtt.get("port"))
        if service.kind == KIND_MODBUS:
            hubs: Iterable[Any] = configs.get("modbus") or ()
            bollards: Iterable[Any] = configs.get("bollards") or ()
            return any(_matches(service, item.get("host"), item.get("port")) for item in [*hubs, *bollards])
        if service.kind == KIND_HACHO:
            peers = (configs.get("federation") or {}).get("peers") or ()
            return any(peer.get("site") == service.properties.get("site") for peer in peers)
        return False

    return check


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Load the ignore list, register the view and services, start announcing and browsing."""
    registry = DiscoveryRegistry(hub, _configured_check(hub))
    await registry.async_load()
    manager = ZeroconfManager(hub, config, registry)
    hub.data[DATA_ZEROCONF] = ZeroconfData(manager, registry)
    hub.data[DATA_REGISTRY] = registry
    if not async_register_view(hub):
        _LOGGER.debug("GET /api/discovery not available (no HTTP API, or it started before zeroconf)")
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub, registry):
        handle.async_on_unload(remover)
    await manager.async_start()
    return True


async def async_unload(hub: Hub) -> bool:
    """Withdraw the announcement and stop browsing (the loader removes the services through the setup handle)."""
    data = hub.data.pop(DATA_ZEROCONF, None)
    hub.data.pop(DATA_REGISTRY, None)
    if data is None:
        return True
    await data.manager.async_stop()
    return True
