"""Simulated variable message signs: they take what the panel drivers publish and report back.

Per the panels' MQTT protocol (integrations/panels/driver_mqtt.py), the hub publishes, retained,
on the sign's topic either the JSON driver's `{"panel", "blank", "message": {...}}` or an NTCIP
MULTI string ('' blanks the sign). A sign answers on `<topic>/status` with
`{"status", "pixel_errors", "brightness"}` and, as an acknowledgement, what it now shows
(`showing`: the message id, `multi` for MULTI signs, or null when blank) and `ack` (a counter of
messages taken). It also reports every `status_interval` seconds. Brightness follows the ambient
light (the sun); pixel failures happen at a configurable rate.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.core import Hub, callback

from .mqtt_link import SimMqttLink

__all__ = ["SignFleet", "SimulatedSign"]

_LOGGER = logging.getLogger(__name__)

STATUS_SUFFIX = "/status"


@dataclass(slots=True)
class SimulatedSign:
    """One sign: what it shows and how healthy it is."""

    topic: str
    panel_id: str
    showing: str | None = None  # message id (JSON driver) or MULTI string
    pages: int = 0
    acks: int = 0
    pixel_errors: int = 0
    brightness: int = 100
    protocol: str = "json"


class SignFleet:
    """Every sign whose topic matches the configured filters, created when its first message arrives."""

    def __init__(self, hub: Hub, link: SimMqttLink, rng: random.Random, topics: list[str],
                 pixel_error_rate: float, sun: Callable[[], float]) -> None:
        self._hub = hub
        self._link = link
        self._rng = rng
        self._topics = topics
        self._pixel_error_rate = pixel_error_rate  # per sign per day
        self._sun = sun  # the sun's elevation in degrees, for the ambient light sensor
        self.signs: dict[str, SimulatedSign] = {}

    @callback
    def async_start(self) -> None:
        for topic_filter in self._topics:
            self._link.subscribe(topic_filter, self._on_message)

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic.endswith(STATUS_SUFFIX):
            return  # our own reports (a filter like hacho/panels/# matches them too)
        sign = self.signs.get(topic)
        text = payload.decode("utf-8", "replace").strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                _LOGGER.debug("Simulated sign on %s: unreadable JSON, ignored", topic)
                return
            if not isinstance(data, dict):
                return
            panel_id = str(data.get("panel") or topic.rsplit("/", 1)[-1])
            message = data.get("message") if not data.get("blank") else None
            showing = None if not isinstance(message, dict) else str(message.get("id"))
            pages = len(message.get("pages") or ()) if isinstance(message, dict) else 0
            protocol = "json"
        else:
            panel_id = topic.rsplit("/", 1)[-1]
            showing = text or None
            pages = text.count("[np]") + 1 if text else 0
            protocol = "ntcip"
        if sign is None:
            sign = self.signs[topic] = SimulatedSign(topic, panel_id, protocol=protocol)
            _LOGGER.debug("Simulated sign %s appeared on %s", panel_id, topic)
        sign.showing, sign.pages, sign.protocol = showing, pages, protocol
        sign.acks += 1
        self._report(sign)

    def _report(self, sign: SimulatedSign) -> None:
        sun = self._sun()
        # Ambient light: full brightness in daylight, dimmed at night, a twilight ramp between.
        sign.brightness = round(25 + 75 * min(1.0, max(0.0, (sun + 6) / 16)))
        status: dict[str, Any] = {
            "status": "pixel_errors" if sign.pixel_errors else "working",
            "pixel_errors": sign.pixel_errors,
            "brightness": sign.brightness,
            "ack": sign.acks,
            "showing": sign.showing if sign.protocol == "json" else None,
            "pages": sign.pages,
        }
        if sign.protocol == "ntcip":
            status["multi"] = sign.showing or ""
        self._link.publish_nowait(sign.topic + STATUS_SUFFIX, json.dumps(status, ensure_ascii=False), 1)

    @callback
    def tick(self, dt: float) -> None:
        """Periodic status of every known sign; pixels fail now and then."""
        for sign in self.signs.values():
            if self._pixel_error_rate > 0 and self._rng.random() < 1 - math.exp(-self._pixel_error_rate * dt / 86400):
                sign.pixel_errors += self._rng.randint(1, 12)
            self._report(sign)
