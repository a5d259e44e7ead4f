"""Schemas: the `mqtt:` section, and the sensor, binary_sensor and switch configs (YAML and discovery)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.exceptions import TemplateError
from hub.helpers import config_validation as cv
from hub.helpers.units import (
    CITY_SENSOR_KINDS,
    STATE_CLASSES,
    UnitConversionError,
    check_unit,
    converter,
    normalize_unit,
)

from .connection import valid_tls
from .const import (
    AVAILABILITY_ALL,
    AVAILABILITY_ANY,
    AVAILABILITY_LATEST,
    CONF_AREA,
    CONF_AVAILABILITY,
    CONF_AVAILABILITY_MODE,
    CONF_AVAILABILITY_TEMPLATE,
    CONF_AVAILABILITY_TOPIC,
    CONF_BIRTH_MESSAGE,
    CONF_BROKER,
    CONF_CERTFILE,
    CONF_CLIENT_ID,
    CONF_COMMAND_TOPIC,
    CONF_DEFAULT_ENTITY_ID,
    CONF_DEVICE,
    CONF_DEVICE_CLASS,
    CONF_DISCOVERY,
    CONF_DISCOVERY_PREFIX,
    CONF_ENABLED_BY_DEFAULT,
    CONF_ENCODING,
    CONF_ENTITY_CATEGORY,
    CONF_EXPIRE_AFTER,
    CONF_FORCE_UPDATE,
    CONF_ICON,
    CONF_JSON_ATTRIBUTES_TEMPLATE,
    CONF_JSON_ATTRIBUTES_TOPIC,
    CONF_KEEPALIVE,
    CONF_KEYFILE,
    CONF_KIND,
    CONF_NAME,
    CONF_OBJECT_ID,
    CONF_OFF_DELAY,
    CONF_OPTIMISTIC,
    CONF_PASSWORD,
    CONF_PAYLOAD,
    CONF_PAYLOAD_AVAILABLE,
    CONF_PAYLOAD_NOT_AVAILABLE,
    CONF_PAYLOAD_OFF,
    CONF_PAYLOAD_ON,
    CONF_PORT,
    CONF_PRECISION,
    CONF_QOS,
    CONF_RETAIN,
    CONF_SOURCE_UNIT,
    CONF_STATE_CLASS,
    CONF_STATE_OFF,
    CONF_STATE_ON,
    CONF_STATE_TOPIC,
    CONF_TLS,
    CONF_TOPIC,
    CONF_TOPIC_PREFIX,
    CONF_UNIQUE_ID,
    CONF_UNIT_OF_MEASUREMENT,
    CONF_USERNAME,
    CONF_VALUE_TEMPLATE,
    CONF_WILL_MESSAGE,
    DEFAULT_BIRTH_PAYLOAD,
    DEFAULT_COMMAND_QOS,
    DEFAULT_DISCOVERY_PREFIX,
    DEFAULT_ENCODING,
    DEFAULT_KEEPALIVE,
    DEFAULT_PAYLOAD_AVAILABLE,
    DEFAULT_PAYLOAD_NOT_AVAILABLE,
    DEFAULT_PAYLOAD_OFF,
    DEFAULT_PAYLOAD_ON,
    DEFAULT_PORT,
    DEFAULT_QOS,
    DEFAULT_TLS_PORT,
    DEFAULT_WILL_PAYLOAD,
    QOS_STATUS,
)
from .subscriptions import valid_publish_topic, valid_subscribe_topic
from .templates import ValueTemplate

__all__ = [
    "BINARY_SENSOR_SCHEMA",
    "CONFIG_SCHEMA",
    "DISCOVERY_SCHEMAS",
    "PLATFORM_SCHEMAS",
    "SENSOR_SCHEMA",
    "SWITCH_SCHEMA",
    "valid_qos",
    "value_template",
]


def valid_qos(value: Any) -> int:
    """0, 1 or 2."""
    try:
        qos = int(value)
    except (TypeError, ValueError):
        raise vol.Invalid("expected a QoS of 0, 1 or 2") from None
    if qos not in (0, 1, 2) or isinstance(value, bool):
        raise vol.Invalid("expected a QoS of 0, 1 or 2")
    return qos


def value_template(value: Any) -> ValueTemplate:
    """A value template, compiled now so a bad one fails at load."""
    if isinstance(value, ValueTemplate):
        return value
    try:
        return ValueTemplate(cv.string(value))
    except TemplateError as err:
        raise vol.Invalid(str(err)) from None


def _identifiers(value: Any) -> list[str]:
    return [cv.string(item) for item in cv.ensure_list(value)]


def _require_ids(device: dict[str, Any]) -> dict[str, Any]:
    if not device.get("identifiers") and not device.get("connections"):
        raise vol.Invalid("a device needs 'identifiers' or 'connections'")
    return device


DEVICE_SCHEMA = vol.All(
    vol.Schema({
        vol.Optional("identifiers"): _identifiers,
        vol.Optional("connections"): [vol.All(list, vol.Length(min=2, max=2), [cv.string])],
        vol.Optional("name"): cv.string,
        vol.Optional("manufacturer"): cv.string,
        vol.Optional("model"): cv.string,
        vol.Optional("model_id"): cv.string,
        vol.Optional("sw_version"): cv.string,
        vol.Optional("hw_version"): cv.string,
        vol.Optional("serial_number"): cv.string,
        vol.Optional("suggested_area"): cv.string,
        vol.Optional("via_device"): cv.string,
        vol.Optional("configuration_url"): cv.string,
    }, extra=vol.REMOVE_EXTRA),
    _require_ids,
)

AVAILABILITY_SCHEMA = vol.Schema({
    vol.Required(CONF_TOPIC): valid_subscribe_topic,
    vol.Optional(CONF_PAYLOAD_AVAILABLE, default=DEFAULT_PAYLOAD_AVAILABLE): cv.string,
    vol.Optional(CONF_PAYLOAD_NOT_AVAILABLE, default=DEFAULT_PAYLOAD_NOT_AVAILABLE): cv.string,
    vol.Optional(CONF_VALUE_TEMPLATE): value_template,
})

_BASE: dict[Any, Any] = {
    vol.Optional(CONF_NAME): vol.Any(None, cv.string),
    vol.Optional(CONF_UNIQUE_ID): cv.string,
    vol.Optional(CONF_OBJECT_ID): cv.string,
    vol.Optional(CONF_DEFAULT_ENTITY_ID): cv.string,
    vol.Optional(CONF_ICON): cv.icon,
    vol.Optional(CONF_AREA): cv.string,
    vol.Optional(CONF_DEVICE): DEVICE_SCHEMA,
    vol.Optional(CONF_QOS, default=DEFAULT_QOS): valid_qos,
    vol.Optional(CONF_ENCODING, default=DEFAULT_ENCODING): vol.Any(None, cv.string),
    vol.Exclusive(CONF_AVAILABILITY_TOPIC, "availability"): valid_subscribe_topic,
    vol.Exclusive(CONF_AVAILABILITY, "availability"): vol.All(cv.ensure_list, [AVAILABILITY_SCHEMA]),
    vol.Optional(CONF_AVAILABILITY_MODE, default=AVAILABILITY_LATEST):
        vol.In([AVAILABILITY_ALL, AVAILABILITY_ANY, AVAILABILITY_LATEST]),
    vol.Optional(CONF_AVAILABILITY_TEMPLATE): value_template,
    vol.Optional(CONF_PAYLOAD_AVAILABLE, default=DEFAULT_PAYLOAD_AVAILABLE): cv.string,
    vol.Optional(CONF_PAYLOAD_NOT_AVAILABLE, default=DEFAULT_PAYLOAD_NOT_AVAILABLE): cv.string,
    vol.Optional(CONF_JSON_ATTRIBUTES_TOPIC): valid_subscribe_topic,
    vol.Optional(CONF_JSON_ATTRIBUTES_TEMPLATE): value_template,
    vol.Optional(CONF_ENTITY_CATEGORY): vol.In(["config", "diagnostic"]),
    vol.Optional(CONF_ENABLED_BY_DEFAULT, default=True): cv.boolean,
}


def _sensor_units(config: dict[str, Any]) -> dict[str, Any]:
    """Fill a `kind`'s defaults; check the unit fits the device class and that source_unit converts."""
    kind = CITY_SENSOR_KINDS.get(config.get(CONF_KIND, ""))
    if kind is not None:
        config.setdefault(CONF_DEVICE_CLASS, kind.device_class)
        if kind.unit is not None:
            config.setdefault(CONF_UNIT_OF_MEASUREMENT, kind.unit)
        if kind.state_class is not None:
            config.setdefault(CONF_STATE_CLASS, kind.state_class)
        if kind.icon is not None:
            config.setdefault(CONF_ICON, kind.icon)
        if kind.precision is not None:
            config.setdefault(CONF_PRECISION, kind.precision)
    unit = normalize_unit(config.get(CONF_UNIT_OF_MEASUREMENT))
    source = normalize_unit(config.get(CONF_SOURCE_UNIT))
    if unit is None and source is not None:
        unit = source
    if unit is not None:
        config[CONF_UNIT_OF_MEASUREMENT] = unit
    if source is not None:
        config[CONF_SOURCE_UNIT] = source
    device_class = config.get(CONF_DEVICE_CLASS)
    problem = check_unit(device_class, unit)
    if problem is not None:
        raise vol.Invalid(problem, path=[CONF_UNIT_OF_MEASUREMENT])
    if source is not None and source != unit:
        try:
            converter(source, unit, device_class)
        except UnitConversionError as err:
            raise vol.Invalid(str(err), path=[CONF_SOURCE_UNIT]) from None
    return config


SENSOR_SCHEMA = vol.All(vol.Schema({
    **_BASE,
    vol.Required(CONF_STATE_TOPIC): valid_subscribe_topic,
    vol.Optional(CONF_VALUE_TEMPLATE): value_template,
    vol.Optional(CONF_KIND): vol.In(sorted(CITY_SENSOR_KINDS)),
    vol.Optional(CONF_UNIT_OF_MEASUREMENT): vol.Any(None, cv.string),
    vol.Optional(CONF_SOURCE_UNIT): cv.string,
    vol.Optional(CONF_DEVICE_CLASS): vol.Any(None, cv.slug),
    vol.Optional(CONF_STATE_CLASS): vol.Any(None, vol.In(STATE_CLASSES)),
    vol.Optional(CONF_PRECISION): vol.All(vol.Coerce(int), vol.Range(min=0, max=9)),
    vol.Optional(CONF_FORCE_UPDATE, default=False): cv.boolean,
    vol.Optional(CONF_EXPIRE_AFTER): vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False)),
}), _sensor_units)

BINARY_SENSOR_SCHEMA = vol.Schema({
    **_BASE,
    vol.Required(CONF_STATE_TOPIC): valid_subscribe_topic,
    vol.Optional(CONF_VALUE_TEMPLATE): value_template,
    vol.Optional(CONF_PAYLOAD_ON, default=DEFAULT_PAYLOAD_ON): cv.string,
    vol.Optional(CONF_PAYLOAD_OFF, default=DEFAULT_PAYLOAD_OFF): cv.string,
    vol.Optional(CONF_DEVICE_CLASS): vol.Any(None, cv.slug),
    vol.Optional(CONF_FORCE_UPDATE, default=False): cv.boolean,
    vol.Optional(CONF_EXPIRE_AFTER): vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False)),
    vol.Optional(CONF_OFF_DELAY): vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False)),
})

SWITCH_SCHEMA = vol.Schema({
    # Without the base's QoS key: voluptuous markers compare by name, so a dict would keep the base's default.
    **{key: value for key, value in _BASE.items() if key != CONF_QOS},
    vol.Optional(CONF_QOS, default=DEFAULT_COMMAND_QOS): valid_qos,
    vol.Required(CONF_COMMAND_TOPIC): valid_publish_topic,
    vol.Optional(CONF_STATE_TOPIC): valid_subscribe_topic,
    vol.Optional(CONF_VALUE_TEMPLATE): value_template,
    vol.Optional(CONF_PAYLOAD_ON, default=DEFAULT_PAYLOAD_ON): cv.string,
    vol.Optional(CONF_PAYLOAD_OFF, default=DEFAULT_PAYLOAD_OFF): cv.string,
    vol.Optional(CONF_STATE_ON): cv.string,
    vol.Optional(CONF_STATE_OFF): cv.string,
    vol.Optional(CONF_OPTIMISTIC): cv.boolean,
    vol.Optional(CONF_RETAIN, default=False): cv.boolean,
    vol.Optional(CONF_DEVICE_CLASS): vol.Any(None, vol.In(["switch", "outlet"])),
})

PLATFORM_SCHEMAS: dict[str, Any] = {
    "sensor": SENSOR_SCHEMA,
    "binary_sensor": BINARY_SENSOR_SCHEMA,
    "switch": SWITCH_SCHEMA,
}


def _lenient(schema: Any) -> Any:
    """The same schema that drops unknown keys (devices send options this hub does not use)."""
    if isinstance(schema, vol.All):
        return vol.All(*(_lenient(item) for item in schema.validators))
    if isinstance(schema, vol.Schema):
        return schema.extend({}, extra=vol.REMOVE_EXTRA)
    return schema


DISCOVERY_SCHEMAS: dict[str, Any] = {name: _lenient(schema) for name, schema in PLATFORM_SCHEMAS.items()}

# ---- the `mqtt:` section

MESSAGE_SCHEMA = vol.Schema({
    vol.Required(CONF_TOPIC): valid_publish_topic,
    vol.Optional(CONF_PAYLOAD, default=""): cv.string,
    vol.Optional(CONF_QOS, default=QOS_STATUS): valid_qos,
    vol.Optional(CONF_RETAIN, default=False): cv.boolean,
})

def _optional_message(value: Any) -> dict[str, Any] | None:
    if value is None or value == {}:
        return None  # `birth_message: {}` turns it off
    return MESSAGE_SCHEMA(value)


def _finish(config: dict[str, Any]) -> dict[str, Any]:
    if CONF_PASSWORD in config and CONF_USERNAME not in config:
        raise vol.Invalid("a password needs a username", path=[CONF_PASSWORD])
    tls = config.get(CONF_TLS)
    if tls is not None and (CONF_KEYFILE in tls) != (CONF_CERTFILE in tls):
        raise vol.Invalid("a client certificate needs both certfile and keyfile", path=[CONF_TLS])
    config.setdefault(CONF_PORT, DEFAULT_TLS_PORT if tls is not None else DEFAULT_PORT)
    # Home Assistant's defaults, so devices that re-announce when "homeassistant/status" says online work.
    status_topic = f"{config[CONF_DISCOVERY_PREFIX]}/status"
    if CONF_BIRTH_MESSAGE not in config:
        config[CONF_BIRTH_MESSAGE] = MESSAGE_SCHEMA({CONF_TOPIC: status_topic, CONF_PAYLOAD: DEFAULT_BIRTH_PAYLOAD})
    if CONF_WILL_MESSAGE not in config:
        config[CONF_WILL_MESSAGE] = MESSAGE_SCHEMA({CONF_TOPIC: status_topic, CONF_PAYLOAD: DEFAULT_WILL_PAYLOAD})
    return config


CONFIG_SCHEMA = vol.All(
    lambda value: {} if value is None else value,
    vol.Schema({
        vol.Optional(CONF_BROKER, default="127.0.0.1"): cv.string,
        vol.Optional(CONF_PORT): cv.port,
        vol.Optional(CONF_USERNAME): cv.string,
        vol.Optional(CONF_PASSWORD): cv.string,
        # Default: `<site>-<random suffix kept in .storage/>` (integrations/mqtt/instance.py).
        vol.Optional(CONF_CLIENT_ID): cv.string,
        # What `~` stands for at the start of a topic; default: the hub's site id.
        vol.Optional(CONF_TOPIC_PREFIX): vol.All(valid_publish_topic, lambda value: value.strip("/")),
        vol.Optional(CONF_KEEPALIVE, default=DEFAULT_KEEPALIVE): vol.All(vol.Coerce(int), vol.Range(min=5)),
        vol.Optional(CONF_TLS): valid_tls,
        vol.Optional(CONF_DISCOVERY, default=True): cv.boolean,
        vol.Optional(CONF_DISCOVERY_PREFIX, default=DEFAULT_DISCOVERY_PREFIX): valid_publish_topic,
        vol.Optional(CONF_BIRTH_MESSAGE): _optional_message,
        vol.Optional(CONF_WILL_MESSAGE): _optional_message,
        vol.Optional("sensor", default=list): vol.All(cv.ensure_list, [SENSOR_SCHEMA]),
        vol.Optional("binary_sensor", default=list): vol.All(cv.ensure_list, [BINARY_SENSOR_SCHEMA]),
        vol.Optional("switch", default=list): vol.All(cv.ensure_list, [SWITCH_SCHEMA]),
    }),
    _finish,
)
