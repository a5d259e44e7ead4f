"""NTCIP 1203 driver: the current message as a MULTI string, pushed over MQTT.

Signs that speak NTCIP 1203 take a MULTI string (`dmsMessageMultiString`) and an activation
(`dmsActivateMessage`) over SNMP. Hacho does not speak SNMP itself: this driver publishes the MULTI
string, retained at QoS 1, on the panel's topic, for the sign's own MQTT client or for a small
roadside gateway that writes it to the sign over SNMP. An empty payload blanks the sign (the empty
MULTI string). Status reports come back on `<topic>/status` exactly as for the JSON driver.

A pictogram becomes a `[gN]` graphic tag on every page, N being the pictogram's graphic number from
the panel's configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.core import Hub

from .const import DRIVER_NTCIP
from .driver_mqtt import MqttJsonPanelDriver
from .multi import encode, multi_from_pages

if TYPE_CHECKING:
    from .config import PanelConfig
    from .message import PanelMessage

__all__ = ["NtcipMultiPanelDriver", "message_to_multi"]


def message_to_multi(message: PanelMessage | None, pictograms: dict[str, int] | None = None) -> str:
    """The MULTI string for a panel message ('' blanks the sign)."""
    if message is None:
        return ""
    graphic = None
    if message.pictogram is not None:
        graphic = (pictograms or {}).get(message.pictogram)
    return encode(multi_from_pages(message.pages, page_time=message.page_time,
                                   justify=message.justify, graphic=graphic))


class NtcipMultiPanelDriver(MqttJsonPanelDriver):
    """Publishes MULTI strings instead of JSON; same topic, QoS, retain and status handling."""

    name = DRIVER_NTCIP

    def __init__(self, hub: Hub, config: PanelConfig) -> None:
        super().__init__(hub, config)
        self._pictograms = dict(config.capabilities.pictograms)

    def encode(self, message: PanelMessage | None) -> str:
        return message_to_multi(message, self._pictograms)
