"""The hub on the local network: announce `_hacho._tcp`, browse for brokers, Modbus devices and other hubs.

Uses python-zeroconf's asyncio API. Browser callbacks run in the loop and only schedule a
resolution task; a resolved service goes to the `DiscoveryRegistry`. The hub's own announcement is
not listed. The announcement waits for the HTTP API to listen (its real port may be chosen at
start) and is withdrawn with a goodbye when the integration stops.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Mapping
from typing import Any

from zeroconf import BadTypeInNameException, InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from hub.core import Hub, callback
from hub.exceptions import HubError

from .const import (
    CONF_ANNOUNCE,
    CONF_BROWSE,
    CONF_INTERFACES,
    CONF_IP_VERSION,
    CONF_NAME,
    CONF_PORT,
    CONF_PROPERTIES,
    RESOLVE_TIMEOUT_MS,
    TXT_VERSION,
    TYPE_HACHO,
)
from .registry import DiscoveryRegistry

__all__ = ["ZeroconfManager", "decode_properties"]

_LOGGER = logging.getLogger(__name__)

_IP_VERSIONS = {"v4": IPVersion.V4Only, "v6": IPVersion.V6Only, "all": IPVersion.All}
_HTTP_WAIT_S = 30.0


def decode_properties(properties: Mapping[Any, bytes | str | None]) -> dict[str, str | None]:
    """TXT records as text (undecodable bytes replaced)."""
    result: dict[str, str | None] = {}
    for key, value in properties.items():
        text_key = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        if isinstance(value, bytes):
            result[text_key] = value.decode("utf-8", "replace")
        else:
            result[text_key] = value
    return result


class ZeroconfManager:
    """One AsyncZeroconf for the hub: the announcement and the browsers."""

    def __init__(self, hub: Hub, config: Mapping[str, Any], registry: DiscoveryRegistry) -> None:
        self.hub = hub
        self.config = config
        self.registry = registry
        self.aiozc: AsyncZeroconf | None = None
        self.browser: AsyncServiceBrowser | None = None
        self.announced: AsyncServiceInfo | None = None
        self._announce_task: asyncio.Task[None] | None = None
        self._resolving: dict[str, asyncio.Task[None]] = {}
        hub_name = hub.config.name if hub.config is not None else "Hacho"
        self.instance = str(config.get(CONF_NAME) or hub_name)[:63]

    @property
    def own_name(self) -> str:
        """The mDNS name the hub announces (it may change after a name conflict)."""
        if self.announced is not None:
            return self.announced.name
        return f"{self.instance}.{TYPE_HACHO}"

    async def async_start(self) -> None:
        """Open the sockets and start browsing; the announcement follows once the HTTP API listens."""
        interfaces = self.config[CONF_INTERFACES]
        try:
            self.aiozc = AsyncZeroconf(
                interfaces=InterfaceChoice.All if interfaces == "all" else list(interfaces),
                ip_version=_IP_VERSIONS[self.config[CONF_IP_VERSION]],
            )
        except OSError as err:
            raise HubError(f"zeroconf cannot open its multicast sockets on {interfaces}: {err}") from err
        types = list(self.config[CONF_BROWSE])
        if types:
            self.browser = AsyncServiceBrowser(self.aiozc.zeroconf, types, handlers=[self._on_change])
        if self.config[CONF_ANNOUNCE]:
            self._announce_task = self.hub.async_create_background_task(self._async_announce(),
                                                                        "zeroconf announce")

    async def async_stop(self) -> None:
        """Say goodbye, stop browsing, close the sockets."""
        for task in [self._announce_task, *self._resolving.values()]:
            if task is not None:
                task.cancel()
        self._resolving.clear()
        if self.browser is not None:
            await self.browser.async_cancel()
            self.browser = None
        if self.aiozc is not None:
            if self.announced is not None:
                try:
                    await self.aiozc.async_unregister_service(self.announced)
                except Exception as err:  # a goodbye that cannot be sent changes nothing
                    _LOGGER.debug("Zeroconf goodbye failed: %s", err)
                self.announced = None
            await self.aiozc.async_close()
            self.aiozc = None

    # ---- announcing

    async def _async_http_port(self) -> int | None:
        port = self.config.get(CONF_PORT)
        if port is not None:
            return int(port)
        from hub.http import get_http

        try:
            http = get_http(self.hub)
        except HubError:
            return None
        waited = 0.0
        while not http.is_running and waited < _HTTP_WAIT_S:  # the bootstrap starts HTTP after the integrations
            await asyncio.sleep(0.1)
            waited += 0.1
        return http.port if http.is_running else int(http.conf.get("port") or 0) or None

    def _addresses(self) -> list[bytes]:
        interfaces = self.config[CONF_INTERFACES]
        if interfaces != "all":
            candidates = [ipaddress.ip_address(address) for address in interfaces]
        else:
            from zeroconf import get_all_addresses

            candidates = [ipaddress.ip_address(a) for a in get_all_addresses()]
            candidates = [a for a in candidates if not a.is_loopback] or candidates
        if self.config[CONF_IP_VERSION] == "v4":
            candidates = [a for a in candidates if a.version == 4]
        return [a.packed for a in candidates]

    async def _async_announce(self) -> None:
        port = await self._async_http_port()
        if port is None or self.aiozc is None:
            _LOGGER.warning("Zeroconf: not announcing the hub, its HTTP port is unknown (set zeroconf: port:)")
            return
        hub_config = self.hub.config
        properties = {
            "site": hub_config.site if hub_config is not None else "hacho",
            "name": hub_config.name if hub_config is not None else self.instance,
            "api": "/api/",
            "txtvers": TXT_VERSION,
            **self.config[CONF_PROPERTIES],
        }
        host = socket.gethostname().split(".")[0] or "hacho"
        info = AsyncServiceInfo(TYPE_HACHO, f"{self.instance}.{TYPE_HACHO}", port=port, properties=properties,
                                server=f"{host}.local.", addresses=self._addresses())
        try:
            await self.aiozc.async_register_service(info, allow_name_change=True)
        except Exception as err:  # the hub runs fine unannounced
            _LOGGER.warning("Zeroconf: cannot announce the hub as %s: %s", info.name, err)
            return
        self.announced = info
        _LOGGER.info("Announced on the local network as %s (port %s, site %s)", info.name, port,
                     properties["site"])

    # ---- browsing

    def _on_change(self, zeroconf: Zeroconf, service_type: str, name: str,
                   state_change: ServiceStateChange) -> None:
        if name == self.own_name:
            return
        if state_change is ServiceStateChange.Removed:
            self.registry.async_lost(name)
            return
        if name in self._resolving:
            return
        task = self.hub.async_create_task(self._async_resolve(service_type, name), f"zeroconf resolve {name}")
        self._resolving[name] = task
        task.add_done_callback(lambda _t: self._resolving.pop(name, None))

    async def _async_resolve(self, service_type: str, name: str) -> None:
        if self.aiozc is None:
            return
        try:
            info = AsyncServiceInfo(service_type, name)
            found = await info.async_request(self.aiozc.zeroconf, RESOLVE_TIMEOUT_MS)
        except BadTypeInNameException as err:
            _LOGGER.debug("Zeroconf: ignoring badly named service %r: %s", name, err)
            return
        if not found:
            _LOGGER.debug("Zeroconf: %s did not answer its resolution", name)
            return
        self.async_add_info(info)

    @callback
    def async_add_info(self, info: AsyncServiceInfo) -> None:
        """Put a resolved service in the registry (the browser's path; tests may feed it directly)."""
        if info.name == self.own_name:
            return
        self.registry.async_seen(
            info.name, info.type, info.server, info.parsed_scoped_addresses(), info.port,
            decode_properties(info.properties),
        )
