"""What zeroconf found: one entry per announced service, its status, and the ignore list (persisted).

Nothing here adds a device: entries wait for an engineer to adopt them (a YAML snippet to paste)
or ignore them. An ignored service stays ignored across restarts and is not announced again by
the `zeroconf_discovered` event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.core import Hub, callback
from hub.helpers.storage import Store

from .const import (
    EVENT_ZEROCONF_DISCOVERED,
    EVENT_ZEROCONF_LOST,
    KIND_OTHER,
    KINDS,
    STATUS_ADOPTED,
    STATUS_CONFIGURED,
    STATUS_DISCOVERED,
    STATUS_IGNORED,
    STORAGE_KEY,
    STORAGE_VERSION,
)

__all__ = ["DiscoveredService", "DiscoveryRegistry", "instance_name"]

_LOGGER = logging.getLogger(__name__)


def instance_name(name: str, service_type: str) -> str:
    """`PLC Tarajal` from `PLC Tarajal._modbus._tcp.local.`."""
    suffix = "." + service_type
    return name[: -len(suffix)] if name.endswith(suffix) else name.split(".", 1)[0]


@dataclass(slots=True)
class DiscoveredService:
    """One service seen on the network."""

    name: str  # the full mDNS name, also the entry's id
    type: str
    host: str | None
    addresses: list[str]
    port: int | None
    properties: dict[str, str | None]
    first_seen: float
    last_seen: float
    present: bool = True
    adopted: bool = False

    @property
    def id(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        return KINDS.get(self.type, KIND_OTHER)

    @property
    def instance(self) -> str:
        return instance_name(self.name, self.type)

    @property
    def address(self) -> str | None:
        """The address to use: the first IPv4 one, else any, else the host name."""
        for address in self.addresses:
            if ":" not in address:
                return address
        if self.addresses:
            return self.addresses[0]
        return self.host.rstrip(".") if self.host else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.instance, "type": self.type, "kind": self.kind,
            "host": self.host, "addresses": list(self.addresses), "port": self.port,
            "properties": dict(self.properties), "first_seen": self.first_seen,
            "last_seen": self.last_seen, "present": self.present,
        }


# (service) -> True when the hub's configuration already uses it.
ConfiguredCheck = Callable[[DiscoveredService], bool]


@dataclass
class DiscoveryRegistry:
    """Every discovered service by id, the ignore list, and the event when something new turns up."""

    hub: Hub
    is_configured: ConfiguredCheck = field(default=lambda _service: False)
    services: dict[str, DiscoveredService] = field(default_factory=dict)
    ignored: set[str] = field(default_factory=set)
    _store: Store[list[str]] | None = None

    async def async_load(self) -> None:
        """Read the ignore list."""
        self._store = Store(self.hub, STORAGE_KEY, STORAGE_VERSION)
        stored = await self._store.async_load()
        self.ignored = set(stored or ())

    def status(self, service: DiscoveredService) -> str:
        """ignored, configured, adopted or discovered."""
        if service.id in self.ignored:
            return STATUS_IGNORED
        if self.is_configured(service):
            return STATUS_CONFIGURED
        if service.adopted:
            return STATUS_ADOPTED
        return STATUS_DISCOVERED

    def describe(self, service: DiscoveredService) -> dict[str, Any]:
        return {**service.as_dict(), "status": self.status(service)}

    @callback
    def async_list(self, include_ignored: bool = False) -> list[dict[str, Any]]:
        """Every entry with its status, newest first; ignored ones only when asked."""
        items = sorted(self.services.values(), key=lambda s: (-s.first_seen, s.name))
        return [self.describe(s) for s in items if include_ignored or s.id not in self.ignored]

    def get(self, service_id: str) -> DiscoveredService | None:
        return self.services.get(service_id)

    @callback
    def async_seen(self, name: str, service_type: str, host: str | None, addresses: list[str], port: int | None,
                   properties: Mapping[str, str | None]) -> DiscoveredService:
        """A service was resolved; fire `zeroconf_discovered` when it is new or moved (and not ignored)."""
        now = self.hub.clock.time()
        known = self.services.get(name)
        if known is None:
            service = self.services[name] = DiscoveredService(
                name, service_type, host, list(addresses), port, dict(properties), now, now)
            changed = True
        else:
            service = known
            changed = (not known.present or known.addresses != list(addresses) or known.port != port
                       or known.host != host or known.properties != dict(properties))
            known.host, known.addresses, known.port = host, list(addresses), port
            known.properties = dict(properties)
            known.last_seen, known.present = now, True
        if changed and name not in self.ignored:
            status = self.status(service)
            _LOGGER.info("Zeroconf: %s %s at %s:%s (%s)", service.kind, service.instance, service.address,
                         port, status)
            self.hub.bus.async_fire(EVENT_ZEROCONF_DISCOVERED, self.describe(service))
        return service

    @callback
    def async_lost(self, name: str) -> None:
        """A service said goodbye (or its records expired)."""
        service = self.services.get(name)
        if service is None or not service.present:
            return
        service.present = False
        if name not in self.ignored:
            self.hub.bus.async_fire(EVENT_ZEROCONF_LOST, {"id": name, "kind": service.kind,
                                                          "name": service.instance})

    @callback
    def async_ignore(self, service_id: str, ignore: bool = True) -> None:
        """Ignore (or stop ignoring) an id; saved within a second."""
        if ignore:
            self.ignored.add(service_id)
        else:
            self.ignored.discard(service_id)
        if self._store is not None:
            self._store.async_delay_save(lambda: sorted(self.ignored))
