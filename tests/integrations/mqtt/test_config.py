"""The `mqtt:` schema: defaults, TLS, birth/will, entity configs, units checked at load."""

from __future__ import annotations

import pytest
import voluptuous as vol

from integrations.mqtt import CONFIG_SCHEMA
from integrations.mqtt.schema import SENSOR_SCHEMA, SWITCH_SCHEMA


def test_defaults() -> None:
    config = CONFIG_SCHEMA(None)
    assert config["broker"] == "127.0.0.1"
    assert config["port"] == 1883
    assert config["keepalive"] == 60
    assert config["discovery"] is True
    assert config["discovery_prefix"] == "homeassistant"
    assert config["birth_message"] == {"topic": "homeassistant/status", "payload": "online", "qos": 1,
                                       "retain": False}
    assert config["will_message"]["payload"] == "offline"
    assert config["sensor"] == [] and config["binary_sensor"] == [] and config["switch"] == []


def test_tls_changes_the_default_port_and_birth_can_be_turned_off() -> None:
    config = CONFIG_SCHEMA({"tls": {"ca_certs": "/etc/ca.pem"}, "birth_message": {}, "discovery_prefix": "city"})
    assert config["port"] == 8883
    assert config["tls"] == {"ca_certs": "/etc/ca.pem", "insecure": False}
    assert config["birth_message"] is None
    assert config["will_message"]["topic"] == "city/status"
    assert CONFIG_SCHEMA({"tls": True})["tls"] == {"insecure": False}
    assert CONFIG_SCHEMA({"tls": True, "port": 9999})["port"] == 9999


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"password": "x"}, "password needs a username"),
        ({"tls": {"certfile": "/c.pem"}}, "certfile and keyfile"),
        ({"port": "abc"}, "port"),
        ({"brokr": "x"}, "brokr"),
        ({"sensor": [{"name": "x"}]}, "state_topic"),
        ({"sensor": [{"state_topic": "a/#/b"}]}, "'#' must be a whole level and the last one"),
        ({"switch": [{"command_topic": "a/+"}]}, "wildcards are not allowed"),
        ({"sensor": [{"state_topic": "a", "value_template": "{{ value_json.x "}]}, "invalid template"),
        ({"sensor": [{"state_topic": "a", "kind": "temperature", "unit_of_measurement": "hPa"}]},
         "does not fit device class 'temperature'"),
        ({"sensor": [{"state_topic": "a", "kind": "wind_speed", "source_unit": "hPa"}]},
         "cannot convert 'hPa' to 'km/h'"),
        ({"sensor": [{"state_topic": "a", "qos": 3}]}, "QoS"),
    ],
)
def test_errors_name_the_problem(raw: dict, message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        CONFIG_SCHEMA(raw)


def test_city_sensor_kind_fills_defaults_and_keeps_the_source_unit() -> None:
    config = SENSOR_SCHEMA({"state_topic": "ceuta/weather/hacho/gust", "kind": "wind_gust", "source_unit": "ms"})
    assert config["device_class"] == "wind_speed"
    assert config["unit_of_measurement"] == "km/h"
    assert config["source_unit"] == "m/s"
    assert config["state_class"] == "measurement"
    assert config["icon"] == "mdi:weather-windy-variant"
    # explicit values win over the kind's
    config = SENSOR_SCHEMA({"state_topic": "t", "kind": "wind_gust", "unit_of_measurement": "kn"})
    assert config["unit_of_measurement"] == "kn"
    # a source unit alone is the unit
    assert SENSOR_SCHEMA({"state_topic": "t", "source_unit": "kWh"})["unit_of_measurement"] == "kWh"


def test_switch_defaults_to_qos_1_for_commands() -> None:
    config = SWITCH_SCHEMA({"command_topic": "port/lights/set"})
    assert config["qos"] == 1
    assert config["payload_on"] == "ON" and config["retain"] is False
