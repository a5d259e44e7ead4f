"""Tests for the unit tables and converters shared by sensor integrations."""

from __future__ import annotations

import pytest

from hub.helpers.units import (
    CITY_SENSOR_KINDS,
    DEVICE_CLASS_UNITS,
    UnitConversionError,
    can_convert,
    check_unit,
    convert,
    converter,
    is_numeric_device_class,
    normalize_unit,
)


@pytest.mark.parametrize(
    ("value", "src", "dst", "device_class", "expected"),
    [
        (10, "m/s", "km/h", None, 36.0),
        (36, "km/h", "m/s", None, 10.0),
        (10, "kn", "km/h", None, 18.52),
        (20, "°C", "°F", None, 68.0),
        (68, "°F", "°C", None, 20.0),
        (0, "°C", "K", None, 273.15),
        (1013.25, "hPa", "kPa", None, 101.325),
        (1000, "mbar", "hPa", None, 1000.0),
        (1, "in", "mm", None, 25.4),
        (2500, "W", "kW", None, 2.5),
        (1, "MWh", "kWh", None, 1000.0),
        (3.6, "MJ", "kWh", None, 1.0),
        (1, "mg/m³", "µg/m³", None, 1000.0),
        # EU reference conditions: 1 ppb NO2 = 46.0055 / 24.45 µg/m³
        (24.45, "ppb", "µg/m³", "nitrogen_dioxide", 46.0055),
        (47.9982, "µg/m³", "ppb", "ozone", 24.45),
        (5, "m/s", "Beaufort", None, 3.0),
        (33, "m/s", "Beaufort", None, 12.0),
    ],
)
def test_convert(value: float, src: str, dst: str, device_class: str | None, expected: float) -> None:
    assert convert(value, src, dst, device_class) == pytest.approx(expected)


def test_aliases_normalize_to_canonical_units() -> None:
    assert normalize_unit("kmh") == "km/h"
    assert normalize_unit("degC") == "°C"
    assert normalize_unit("ug/m3") == "µg/m³"
    assert normalize_unit(" kWh ") == "kWh"
    assert normalize_unit("MW") == "MW"  # canonical spellings win over the case-insensitive table
    assert normalize_unit("furlongs") == "furlongs"
    assert normalize_unit(None) is None
    assert convert(1, "ms", "kph") == pytest.approx(3.6)


def test_incompatible_units_raise_with_both_names() -> None:
    with pytest.raises(UnitConversionError, match="'m/s' to 'hPa'"):
        converter("m/s", "hPa")
    with pytest.raises(UnitConversionError, match="device class pm25"):
        converter("ppb", "µg/m³", "pm25")  # no molecular weight for particles
    assert not can_convert("W", "kWh")
    assert can_convert("kWh", "kWh")
    assert converter("km/h", "km/h")(12.5) == 12.5


def test_check_unit() -> None:
    assert check_unit("wind_speed", "km/h") is None
    assert check_unit("wind_speed", "kmh") is None
    error = check_unit("temperature", "hPa")
    assert error is not None and "temperature" in error and "°C" in error
    assert check_unit("something_new", "zz") is None
    assert check_unit(None, "zz") is None


def test_city_kinds_are_consistent_with_the_device_class_table() -> None:
    for name, kind in CITY_SENSOR_KINDS.items():
        assert kind.device_class in DEVICE_CLASS_UNITS, name
        assert check_unit(kind.device_class, kind.unit) is None, name
        assert is_numeric_device_class(kind.device_class)
    assert not is_numeric_device_class("enum")
    assert not is_numeric_device_class(None)
