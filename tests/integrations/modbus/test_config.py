"""The `modbus:` schema: defaults, aliases, and errors that say what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config.validation import validate
from hub.exceptions import ConfigError
from integrations.modbus import CONFIG_SCHEMA
from integrations.modbus.const import DataType, HubType, InputType, Swap


def _hub(**extra: Any) -> dict[str, Any]:
    return {"name": "meters", "host": "10.0.0.5", **extra}


def test_defaults_are_filled_in() -> None:
    [hub] = CONFIG_SCHEMA([_hub(sensors=[{"name": "p", "address": 3}])])
    assert hub["type"] is HubType.TCP
    assert hub["port"] == 502
    assert hub["scan_interval"] == 10
    [sensor] = hub["sensors"]
    assert sensor["slave"] == 1
    assert sensor["input_type"] is InputType.HOLDING
    assert sensor["data_type"] is DataType.INT16
    assert sensor["swap"] is Swap.NONE
    assert sensor["count"] == 1


def test_device_id_is_an_alias_of_slave() -> None:
    [hub] = CONFIG_SCHEMA([_hub(sensors=[{"name": "p", "address": 3, "device_id": 9}])])
    assert hub["sensors"][0]["slave"] == 9


def test_empty_section_as_a_dependency() -> None:
    assert CONFIG_SCHEMA(None) == []
    assert CONFIG_SCHEMA({}) == []


@pytest.mark.parametrize(
    ("sensor", "message"),
    [
        ({"name": "x", "address": 0, "data_type": "int16", "swap": "word"}, "swap 'word'"),
        ({"name": "x", "address": 0, "data_type": "int32", "count": 3}, "count 3 does not match"),
        ({"name": "x", "address": 0, "data_type": "string"}, "needs 'count'"),
        ({"name": "x", "address": 0, "input_type": "coil"}, "binary_sensor"),
        ({"name": "x", "address": 70000}, "address"),
        ({"name": "x", "address": 0, "data_type": "float64"}, "data_type"),
    ],
)
def test_bad_sensors_are_refused_with_a_reason(sensor: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate(CONFIG_SCHEMA, [_hub(sensors=[sensor])], "modbus")
    assert message in str(err.value.errors)


def test_every_bad_entity_is_reported() -> None:
    with pytest.raises(ConfigError) as err:
        validate(CONFIG_SCHEMA, [_hub(sensors=[{"name": "a"}, {"name": "b", "address": "x"}])], "modbus")
    assert len(err.value.errors) == 2


def test_duplicate_hub_names_and_bad_port() -> None:
    with pytest.raises(ConfigError, match="used twice"):
        validate(CONFIG_SCHEMA, [_hub(), _hub()], "modbus")
    with pytest.raises(ConfigError, match="port"):
        validate(CONFIG_SCHEMA, [_hub(port="abc")], "modbus")


def test_coil_switch_commands_must_be_bits() -> None:
    with pytest.raises(ConfigError, match="command_on"):
        validate(CONFIG_SCHEMA, [_hub(switches=[{"name": "s", "address": 0, "command_on": 5}])], "modbus")


def test_units_are_checked_against_the_device_class_at_load() -> None:
    with pytest.raises(ConfigError, match="does not fit device class"):
        validate(CONFIG_SCHEMA, [_hub(sensors=[{"name": "t", "address": 0, "device_class": "temperature",
                                                "unit_of_measurement": "kW"}])], "modbus")
    with pytest.raises(ConfigError, match="cannot convert"):
        validate(CONFIG_SCHEMA, [_hub(sensors=[{"name": "w", "address": 0, "kind": "wind_speed",
                                                "source_unit": "kWh"}])], "modbus")
    [hub] = CONFIG_SCHEMA([_hub(sensors=[{"name": "t", "address": 0, "kind": "temperature",
                                          "unit_of_measurement": "degC"}])])
    assert hub["sensors"][0]["unit_of_measurement"] == "°C"
    assert hub["sensors"][0]["precision"] == 1
