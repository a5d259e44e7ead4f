"""MQTT sensors: a state topic, an optional value template, numbers checked and converted to the wanted unit."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hub.const import MAX_LENGTH_STATE_STATE
from hub.core import callback
from hub.helpers.units import converter, is_numeric_device_class

from .const import (
    CONF_DEVICE_CLASS,
    CONF_KIND,
    CONF_PRECISION,
    CONF_QOS,
    CONF_SOURCE_UNIT,
    CONF_STATE_CLASS,
    CONF_STATE_TOPIC,
    CONF_UNIT_OF_MEASUREMENT,
    CONF_VALUE_TEMPLATE,
    PAYLOAD_NONE,
)
from .entity import MqttEntity
from .subscriptions import MessageCallback, ReceiveMessage
from .templates import ValueTemplate

__all__ = ["MqttSensor", "parse_number"]


def parse_number(value: Any) -> int | float | None:
    """An int or a finite float from a payload or rendered value; None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:  # int() and float() skip surrounding whitespace themselves
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class MqttSensor(MqttEntity):
    """A sensor; numeric when it has a unit, a state class or a numeric device class."""

    domain = "sensor"

    _numeric: bool
    _convert: Callable[[float], float] | None
    _precision: int | None
    _template: ValueTemplate | None

    def _configure_platform(self, config: dict[str, Any]) -> None:
        unit = config.get(CONF_UNIT_OF_MEASUREMENT)
        device_class = config.get(CONF_DEVICE_CLASS)
        state_class = config.get(CONF_STATE_CLASS)
        self._template = config.get(CONF_VALUE_TEMPLATE)
        self._attr_unit_of_measurement = unit
        self._attr_device_class = device_class
        self._numeric = bool(unit or state_class or is_numeric_device_class(device_class))
        source_unit = config.get(CONF_SOURCE_UNIT)
        self._convert = converter(source_unit, unit, device_class) if source_unit and source_unit != unit else None
        self._precision = config.get(CONF_PRECISION)
        static: dict[str, Any] = {}
        if state_class:
            static["state_class"] = state_class
        if self._convert is not None:
            static["source_unit"] = source_unit
        if config.get(CONF_KIND):
            static["kind"] = config[CONF_KIND]
        self._static_attributes = static

    def _platform_topics(self) -> list[tuple[str, MessageCallback, int]]:
        return [(self._config[CONF_STATE_TOPIC], self._state_received, self._config[CONF_QOS])]

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        # The hot path of MQTT ingestion: keep it to plain attribute reads and one state write.
        if self._template is None:
            value: Any = msg.payload
        else:
            ok, value = self.render_value(msg)
            if not ok:
                return
        if value is None or value == PAYLOAD_NONE:
            self._attr_state = None
        elif self._numeric:
            number = parse_number(value)
            if number is None:
                self.report_malformed(msg.topic, "expected a number", f"got {str(value)[:40]!r}")
                return
            if self._convert is not None:
                number = self._convert(number)
                if self._precision is not None:
                    number = round(number, self._precision)
            self._attr_state = number
        else:
            text = value if isinstance(value, str) else str(value)
            if len(text) > MAX_LENGTH_STATE_STATE:
                self.report_malformed(msg.topic, f"value is {len(text)} characters; a state holds at most "
                                                 f"{MAX_LENGTH_STATE_STATE}")
                return
            self._attr_state = text
        if self._expire_after is not None:
            self.mark_received()
        self.async_write_state()
