"""MQTT JSON panel driver: the current message, retained, on the panel's topic; status on `<topic>/status`.

Payload published on `<topic>` (QoS 1, retained so a sign that reconnects shows the right thing):

    {"panel": "P-PORT-1", "blank": false, "message": {"id": ..., "priority": "traffic",
     "pages": [["LINE 1", "LINE 2"]], "page_time": 3.0, "pictogram": null, "justify": "center",
     "expires": "2026-01-01T12:30:00+00:00", ...}}

A blank sign gets `{"panel": "P-PORT-1", "blank": true, "message": null}`. The sign reports on
`<topic>/status` either a bare status (`working`, `comm_failure`, `pixel_errors`) or JSON
`{"status": "working", "pixel_errors": 0, "brightness": 60}`. The MQTT client is the mqtt
integration's (`integrations.mqtt.get_mqtt(hub)`); while it is absent the panel reports comm_failure.
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import TYPE_CHECKING, Any

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.exceptions import DeviceUnavailable
from integrations.mqtt import get_mqtt

from .const import DRIVER_MQTT_JSON, STATUS_COMM_FAILURE
from .driver import PanelStatusUpdate, StatusCallback

if TYPE_CHECKING:
    from .config import PanelConfig
    from .message import PanelMessage

__all__ = ["MqttJsonPanelDriver", "parse_status_payload"]

_LOGGER = logging.getLogger(__name__)

STATUS_SUFFIX = "/status"
QOS = 1


def _get_mqtt(hub: Hub) -> Any:
    """The mqtt integration's client, or None while it is not set up."""
    try:
        return get_mqtt(hub)
    except (LookupError, RuntimeError, AttributeError):
        return None


def parse_status_payload(payload: bytes | str) -> PanelStatusUpdate:
    """A status report from `<topic>/status`. Raises ValueError for anything malformed."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    text = text.strip()
    if not text.startswith("{"):
        return PanelStatusUpdate(status=text)
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("status JSON must be an object")
    pixel_errors = data.get("pixel_errors")
    brightness = data.get("brightness")
    return PanelStatusUpdate(
        status=data.get("status"),
        pixel_errors=None if pixel_errors is None else int(pixel_errors),
        brightness=None if brightness is None else int(brightness),
    )


class MqttJsonPanelDriver:
    """Publishes the current message as JSON; listens for the sign's status reports."""

    name = DRIVER_MQTT_JSON

    def __init__(self, hub: Hub, config: PanelConfig) -> None:
        self._hub = hub
        self.panel_id = config.id
        self.topic = config.topic
        self._on_status: StatusCallback | None = None
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._bad_payload_logged = False

    def encode(self, message: PanelMessage | None) -> str:
        """The payload for `message` (None: blank). Subclasses change the encoding, not the transport."""
        return json.dumps(
            {"panel": self.panel_id, "blank": message is None,
             "message": None if message is None else message.as_dict()},
            ensure_ascii=False,
        )

    async def async_start(self, on_status: StatusCallback) -> None:
        self._on_status = on_status
        await self._async_subscribe()

    async def _async_subscribe(self) -> bool:
        if self._unsubscribe is not None:
            return True
        mqtt = _get_mqtt(self._hub)
        if mqtt is None:
            _LOGGER.warning("Panel %s: MQTT is not set up; the panel cannot be reached", self.panel_id)
            if self._on_status is not None:
                self._on_status(PanelStatusUpdate(status=STATUS_COMM_FAILURE))
            return False
        try:
            result = mqtt.async_subscribe(self.topic + STATUS_SUFFIX, self._on_status_message, QOS)
            if inspect.isawaitable(result):
                result = await result
        except Exception as err:  # library errors stop at this boundary
            _LOGGER.warning("Panel %s: cannot subscribe to %s%s: %s", self.panel_id, self.topic,
                            STATUS_SUFFIX, err)
            return False
        self._unsubscribe = result if callable(result) else None
        return True

    @callback
    def _on_status_message(self, msg: Any) -> None:
        payload = getattr(msg, "payload", msg)
        try:
            update = parse_status_payload(payload)
        except (ValueError, TypeError, UnicodeDecodeError) as err:
            if not self._bad_payload_logged:
                _LOGGER.warning("Panel %s: malformed status on %s%s: %s", self.panel_id, self.topic,
                                STATUS_SUFFIX, err)
                self._bad_payload_logged = True
            return
        if self._on_status is not None:
            self._on_status(update)

    async def async_show(self, message: PanelMessage | None) -> None:
        mqtt = _get_mqtt(self._hub)
        if mqtt is None:
            raise DeviceUnavailable(f"panel {self.panel_id}: MQTT is not set up")
        await self._async_subscribe()
        try:
            await mqtt.async_publish(self.topic, self.encode(message), QOS, True)
        except Exception as err:  # library errors stop at this boundary
            raise DeviceUnavailable(f"panel {self.panel_id}: publish to {self.topic} failed: {err}") from err

    async def async_stop(self) -> None:
        if self._unsubscribe is not None:
            try:
                self._unsubscribe()
            except Exception:
                _LOGGER.exception("Panel %s: error unsubscribing", self.panel_id)
            self._unsubscribe = None
        self._on_status = None
