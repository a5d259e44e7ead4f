"""The seam between a panel entity and its sign: the PanelDriver protocol, status reports, and drivers.

A driver shows one message (or blanks the sign) and reports the sign's health through a callback.
`async_show` raises DeviceUnavailable when the sign cannot be reached; the entity then marks the
panel `comm_failure` and retries. The `memory` driver keeps what it was sent: for dry runs, the
simulator and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hub.core import Hub
from hub.exceptions import DeviceUnavailable

from .const import DRIVER_MEMORY, DRIVER_MQTT_JSON, DRIVER_NTCIP, STATUSES

if TYPE_CHECKING:
    from .config import PanelConfig
    from .message import PanelMessage

__all__ = [
    "MemoryPanelDriver",
    "PanelDriver",
    "PanelStatusUpdate",
    "StatusCallback",
    "create_driver",
]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PanelStatusUpdate:
    """What a sign (or its link) reports: any field left None is unchanged."""

    status: str | None = None  # working | comm_failure | pixel_errors
    pixel_errors: int | None = None
    brightness: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"unknown panel status {self.status!r} (expected one of {', '.join(STATUSES)})")


StatusCallback = Callable[[PanelStatusUpdate], None]


@runtime_checkable
class PanelDriver(Protocol):
    """How a panel entity talks to its sign."""

    name: str

    async def async_start(self, on_status: StatusCallback) -> None:
        """Start listening for status reports; must not raise when the sign or link is down."""

    async def async_show(self, message: PanelMessage | None) -> None:
        """Show `message`, or blank the sign for None. Raises DeviceUnavailable when unreachable."""

    async def async_stop(self) -> None:
        """Stop listening; release what async_start took."""


class MemoryPanelDriver:
    """A driver that keeps every message it is asked to show (None for blank).

    `fail = True` makes `async_show` raise DeviceUnavailable, as a sign out of reach would;
    `report()` plays the sign reporting its status.
    """

    name = DRIVER_MEMORY

    def __init__(self, panel_id: str = "") -> None:
        self.panel_id = panel_id
        self.shown: list[PanelMessage | None] = []
        self.fail = False
        self.started = False
        self._on_status: StatusCallback | None = None

    @property
    def current(self) -> PanelMessage | None:
        """What the sign shows now (None: blank or never set)."""
        return self.shown[-1] if self.shown else None

    async def async_start(self, on_status: StatusCallback) -> None:
        self._on_status = on_status
        self.started = True

    async def async_show(self, message: PanelMessage | None) -> None:
        if self.fail:
            raise DeviceUnavailable(f"panel {self.panel_id} does not answer")
        self.shown.append(message)

    async def async_stop(self) -> None:
        self._on_status = None
        self.started = False

    def report(self, update: PanelStatusUpdate) -> None:
        """Deliver a status report as the sign would."""
        if self._on_status is not None:
            self._on_status(update)


def create_driver(hub: Hub, config: PanelConfig) -> PanelDriver:
    """The driver a panel's config asks for."""
    if config.driver == DRIVER_MEMORY:
        return MemoryPanelDriver(config.id)
    if config.driver == DRIVER_MQTT_JSON:
        from .driver_mqtt import MqttJsonPanelDriver

        return MqttJsonPanelDriver(hub, config)
    if config.driver == DRIVER_NTCIP:
        from .driver_ntcip import NtcipMultiPanelDriver

        return NtcipMultiPanelDriver(hub, config)
    raise ValueError(f"panel {config.id}: unknown driver {config.driver!r}")
