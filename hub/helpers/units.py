"""Units and device classes for sensors: the tables, unit aliases, converters and city sensor kinds.

Shared by every integration that makes sensors (MQTT, Modbus, the simulator). A sensor declares the
unit its source sends (`source_unit`) and the unit users want (`unit_of_measurement`); when they
differ, `convert(value, source_unit, unit, device_class)` turns one into the other, and
`check_unit(device_class, unit)` says at load time when a unit does not fit a device class.

Units are Home Assistant's spellings (`°C`, `km/h`, `µg/m³`, `kWh`). `normalize_unit` accepts the
common ASCII spellings devices send (`degC`, `kmh`, `ug/m3`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..exceptions import HubError

__all__ = [
    "CITY_SENSOR_KINDS",
    "DEVICE_CLASS_UNITS",
    "NON_NUMERIC_DEVICE_CLASSES",
    "STATE_CLASSES",
    "SensorKind",
    "UnitConversionError",
    "can_convert",
    "check_unit",
    "convert",
    "converter",
    "is_numeric_device_class",
    "normalize_unit",
]


class UnitConversionError(HubError, ValueError):
    """Two units cannot be converted into each other (different quantities, or unknown units)."""


# --------------------------------------------------------------------------- units

TEMP_C: Final = "°C"
TEMP_F: Final = "°F"
TEMP_K: Final = "K"
PERCENT: Final = "%"
DEGREE: Final = "°"
SPEED_MS: Final = "m/s"
SPEED_KMH: Final = "km/h"
SPEED_MPH: Final = "mph"
SPEED_KN: Final = "kn"
SPEED_FTS: Final = "ft/s"
SPEED_BEAUFORT: Final = "Beaufort"
PRESSURE_HPA: Final = "hPa"
PRESSURE_PA: Final = "Pa"
PRESSURE_KPA: Final = "kPa"
PRESSURE_MBAR: Final = "mbar"
PRESSURE_BAR: Final = "bar"
PRESSURE_MMHG: Final = "mmHg"
PRESSURE_INHG: Final = "inHg"
PRESSURE_PSI: Final = "psi"
LENGTH_MM: Final = "mm"
LENGTH_CM: Final = "cm"
LENGTH_IN: Final = "in"
LENGTH_M: Final = "m"
LENGTH_KM: Final = "km"
RATE_MMH: Final = "mm/h"
RATE_INH: Final = "in/h"
CONC_UGM3: Final = "µg/m³"
CONC_MGM3: Final = "mg/m³"
CONC_PPB: Final = "ppb"
CONC_PPM: Final = "ppm"
POWER_W: Final = "W"
POWER_KW: Final = "kW"
POWER_MW: Final = "MW"
ENERGY_WH: Final = "Wh"
ENERGY_KWH: Final = "kWh"
ENERGY_MWH: Final = "MWh"
ENERGY_GJ: Final = "GJ"
ENERGY_MJ: Final = "MJ"
VOLTAGE_V: Final = "V"
CURRENT_A: Final = "A"
ILLUMINANCE_LX: Final = "lx"
IRRADIANCE_WM2: Final = "W/m²"
VEHICLES: Final = "vehicles"
VEHICLES_PER_HOUR: Final = "vehicles/h"
DURATION_S: Final = "s"
DURATION_MIN: Final = "min"
DURATION_H: Final = "h"

_ALIASES: Final[dict[str, str]] = {
    "c": TEMP_C, "degc": TEMP_C, "ºc": TEMP_C, "celsius": TEMP_C, "°c": TEMP_C,
    "f": TEMP_F, "degf": TEMP_F, "ºf": TEMP_F, "fahrenheit": TEMP_F, "°f": TEMP_F,
    "k": TEMP_K, "kelvin": TEMP_K,
    "deg": DEGREE, "degrees": DEGREE, "º": DEGREE,
    "ms": SPEED_MS, "m/s": SPEED_MS, "mps": SPEED_MS, "m s-1": SPEED_MS,
    "kmh": SPEED_KMH, "km/h": SPEED_KMH, "kph": SPEED_KMH, "km h-1": SPEED_KMH,
    "mph": SPEED_MPH, "kn": SPEED_KN, "kt": SPEED_KN, "kts": SPEED_KN, "knots": SPEED_KN,
    "ft/s": SPEED_FTS, "fps": SPEED_FTS, "beaufort": SPEED_BEAUFORT, "bft": SPEED_BEAUFORT,
    "hpa": PRESSURE_HPA, "pa": PRESSURE_PA, "kpa": PRESSURE_KPA, "mbar": PRESSURE_MBAR, "mb": PRESSURE_MBAR,
    "bar": PRESSURE_BAR, "mmhg": PRESSURE_MMHG, "inhg": PRESSURE_INHG, "psi": PRESSURE_PSI,
    "mm": LENGTH_MM, "cm": LENGTH_CM, "in": LENGTH_IN, "m": LENGTH_M, "km": LENGTH_KM,
    "mm/h": RATE_MMH, "mmh": RATE_MMH, "in/h": RATE_INH,
    "ug/m3": CONC_UGM3, "µg/m3": CONC_UGM3, "μg/m³": CONC_UGM3, "μg/m3": CONC_UGM3, "ugm3": CONC_UGM3,
    "µg/m³": CONC_UGM3, "mg/m3": CONC_MGM3, "mg/m³": CONC_MGM3, "ppb": CONC_PPB, "ppm": CONC_PPM,
    "w": POWER_W, "kw": POWER_KW, "mw": POWER_MW, "wh": ENERGY_WH, "kwh": ENERGY_KWH, "mwh": ENERGY_MWH,
    "gj": ENERGY_GJ, "mj": ENERGY_MJ, "v": VOLTAGE_V, "a": CURRENT_A,
    "lx": ILLUMINANCE_LX, "lux": ILLUMINANCE_LX,
    "w/m2": IRRADIANCE_WM2, "w/m²": IRRADIANCE_WM2, "%": PERCENT, "percent": PERCENT,
    "veh": VEHICLES, "vehicles": VEHICLES, "veh/h": VEHICLES_PER_HOUR, "vehicles/h": VEHICLES_PER_HOUR,
    "s": DURATION_S, "sec": DURATION_S, "min": DURATION_MIN, "h": DURATION_H,
}


def normalize_unit(unit: str | None) -> str | None:
    """The canonical spelling of a unit (`kmh` -> `km/h`, `degC` -> `°C`); unknown units pass unchanged.

    Case matters only where it must: `MW` (megawatt) and `mW` would both read as `mw`, so exact
    canonical spellings are kept before the case-insensitive alias table is consulted.
    """
    if unit is None:
        return None
    text = unit.strip()
    if text in _CANONICAL:
        return text
    return _ALIASES.get(text.lower(), text)


# --------------------------------------------------------------------------- converters

@dataclass(frozen=True, slots=True)
class _Linear:
    """A quantity whose units differ by a factor: value_in_base = value * factor[unit]."""

    name: str
    factors: dict[str, float]

    def convert(self, value: float, from_unit: str, to_unit: str) -> float:
        return value * self.factors[from_unit] / self.factors[to_unit]


_SPEED = _Linear("speed", {SPEED_MS: 1.0, SPEED_KMH: 1 / 3.6, SPEED_MPH: 0.44704, SPEED_KN: 1852 / 3600,
                           SPEED_FTS: 0.3048})
_PRESSURE = _Linear("pressure", {PRESSURE_PA: 1.0, PRESSURE_HPA: 100.0, PRESSURE_KPA: 1000.0,
                                 PRESSURE_MBAR: 100.0, PRESSURE_BAR: 100_000.0, PRESSURE_MMHG: 133.322387415,
                                 PRESSURE_INHG: 3386.389, PRESSURE_PSI: 6894.757293168})
_LENGTH = _Linear("length", {LENGTH_MM: 1.0, LENGTH_CM: 10.0, LENGTH_IN: 25.4, LENGTH_M: 1000.0,
                             LENGTH_KM: 1e6})
_RAIN_RATE = _Linear("precipitation intensity", {RATE_MMH: 1.0, RATE_INH: 25.4})
_POWER = _Linear("power", {POWER_W: 1.0, POWER_KW: 1e3, POWER_MW: 1e6})
_ENERGY = _Linear("energy", {ENERGY_WH: 1.0, ENERGY_KWH: 1e3, ENERGY_MWH: 1e6, ENERGY_MJ: 1e6 / 3600,
                             ENERGY_GJ: 1e9 / 3600})
_MASS_CONC = _Linear("mass concentration", {CONC_UGM3: 1.0, CONC_MGM3: 1000.0})
_MIXING = _Linear("mixing ratio", {CONC_PPB: 1.0, CONC_PPM: 1000.0})
_DURATION = _Linear("duration", {DURATION_S: 1.0, DURATION_MIN: 60.0, DURATION_H: 3600.0})
_LINEAR = (_SPEED, _PRESSURE, _LENGTH, _RAIN_RATE, _POWER, _ENERGY, _MASS_CONC, _MIXING, _DURATION)
_BY_UNIT: dict[str, _Linear] = {unit: quantity for quantity in _LINEAR for unit in quantity.factors}

_TEMPERATURE = (TEMP_C, TEMP_F, TEMP_K)

# Gas molecular weights (g/mol) for ppb <-> µg/m³ at 25 °C and 1013.25 hPa (molar volume 24.45 l),
# the reference conditions of the EU air quality directive for gases.
MOLAR_VOLUME_L: Final = 24.45
MOLECULAR_WEIGHTS: Final[dict[str, float]] = {
    "nitrogen_dioxide": 46.0055, "ozone": 47.9982, "sulphur_dioxide": 64.066, "carbon_monoxide": 28.010,
    "nitrogen_monoxide": 30.006,
}

# Beaufort scale upper bounds in m/s (force n is below _BEAUFORT[n]); used one way only (m/s -> Bft).
_BEAUFORT: Final = (0.5, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7)


def _temperature(value: float, from_unit: str, to_unit: str) -> float:
    if from_unit == TEMP_F:
        celsius = (value - 32.0) * 5.0 / 9.0
    elif from_unit == TEMP_K:
        celsius = value - 273.15
    else:
        celsius = value
    if to_unit == TEMP_F:
        return celsius * 9.0 / 5.0 + 32.0
    if to_unit == TEMP_K:
        return celsius + 273.15
    return celsius


def _beaufort(metres_per_second: float) -> float:
    for force, bound in enumerate(_BEAUFORT):
        if metres_per_second < bound:
            return float(force)
    return 12.0


def converter(from_unit: str | None, to_unit: str | None,
              device_class: str | None = None) -> Callable[[float], float]:
    """A function converting values from `from_unit` to `to_unit` (identity when equal).

    Gases given in ppb/ppm convert to µg/m³ and back when `device_class` names the gas
    (`nitrogen_dioxide`, `ozone`...). Raises UnitConversionError when there is no conversion.
    """
    src, dst = normalize_unit(from_unit), normalize_unit(to_unit)
    if src == dst:
        return _identity
    if src is None or dst is None:
        raise UnitConversionError(f"cannot convert {from_unit!r} to {to_unit!r}: a unit is missing")
    if src in _TEMPERATURE and dst in _TEMPERATURE:
        return lambda value: _temperature(value, src, dst)
    if dst == SPEED_BEAUFORT and src in _SPEED.factors:
        to_ms = _SPEED.factors[src]
        return lambda value: _beaufort(value * to_ms)
    quantity = _BY_UNIT.get(src)
    if quantity is not None and _BY_UNIT.get(dst) is quantity:
        factor = quantity.factors[src] / quantity.factors[dst]
        return lambda value: value * factor
    weight = MOLECULAR_WEIGHTS.get(device_class or "")
    if weight is not None:
        gas = _gas_converter(src, dst, weight)
        if gas is not None:
            return gas
    where = f" for device class {device_class}" if device_class else ""
    raise UnitConversionError(f"cannot convert {from_unit!r} to {to_unit!r}{where}")


def _gas_converter(src: str, dst: str, weight: float) -> Callable[[float], float] | None:
    if src in _MIXING.factors and dst in _MASS_CONC.factors:
        # ppb * MW / molar volume = µg/m³
        factor = _MIXING.factors[src] * weight / MOLAR_VOLUME_L / _MASS_CONC.factors[dst]
        return lambda value: value * factor
    if src in _MASS_CONC.factors and dst in _MIXING.factors:
        factor = _MASS_CONC.factors[src] * MOLAR_VOLUME_L / weight / _MIXING.factors[dst]
        return lambda value: value * factor
    return None


def _identity(value: float) -> float:
    return value


def can_convert(from_unit: str | None, to_unit: str | None, device_class: str | None = None) -> bool:
    """Whether `converter(from_unit, to_unit, device_class)` exists."""
    try:
        converter(from_unit, to_unit, device_class)
    except UnitConversionError:
        return False
    return True


def convert(value: float, from_unit: str | None, to_unit: str | None,
            device_class: str | None = None) -> float:
    """Convert one value (`convert(10, "m/s", "km/h") == 36.0`). Raises UnitConversionError."""
    return converter(from_unit, to_unit, device_class)(value)


# --------------------------------------------------------------------------- device classes

STATE_CLASSES: Final = ("measurement", "total", "total_increasing")

# Device class -> the units it accepts (first: the usual one). Home Assistant's names and units,
# plus three this project needs for traffic loops (`traffic_count`, `traffic_flow`, `occupancy`).
DEVICE_CLASS_UNITS: Final[dict[str, tuple[str, ...]]] = {
    "temperature": (TEMP_C, TEMP_F, TEMP_K),
    "humidity": (PERCENT,),
    "moisture": (PERCENT,),
    "battery": (PERCENT,),
    "pressure": tuple(_PRESSURE.factors),
    "atmospheric_pressure": tuple(_PRESSURE.factors),
    "wind_speed": (SPEED_KMH, SPEED_MS, SPEED_MPH, SPEED_KN, SPEED_FTS, SPEED_BEAUFORT),
    "speed": (SPEED_KMH, SPEED_MS, SPEED_MPH, SPEED_KN, SPEED_FTS, RATE_MMH, RATE_INH),
    "wind_direction": (DEGREE,),
    "precipitation": (LENGTH_MM, LENGTH_CM, LENGTH_IN),
    "precipitation_intensity": (RATE_MMH, RATE_INH),
    "pm25": (CONC_UGM3,),
    "pm10": (CONC_UGM3,),
    "pm1": (CONC_UGM3,),
    "nitrogen_dioxide": (CONC_UGM3, CONC_PPB),
    "nitrogen_monoxide": (CONC_UGM3, CONC_PPB),
    "ozone": (CONC_UGM3, CONC_PPB),
    "sulphur_dioxide": (CONC_UGM3, CONC_PPB),
    "carbon_monoxide": (CONC_PPM, CONC_MGM3, CONC_UGM3),
    "aqi": (),
    "power": (POWER_W, POWER_KW, POWER_MW),
    "energy": (ENERGY_KWH, ENERGY_WH, ENERGY_MWH, ENERGY_MJ, ENERGY_GJ),
    "voltage": (VOLTAGE_V,),
    "current": (CURRENT_A,),
    "illuminance": (ILLUMINANCE_LX,),
    "irradiance": (IRRADIANCE_WM2,),
    "duration": (DURATION_S, DURATION_MIN, DURATION_H),
    "distance": (LENGTH_M, LENGTH_KM, LENGTH_CM, LENGTH_MM, LENGTH_IN),
    "traffic_count": (VEHICLES,),
    "traffic_flow": (VEHICLES_PER_HOUR,),
    "occupancy": (PERCENT,),
}
_CANONICAL: Final = frozenset(unit for units in DEVICE_CLASS_UNITS.values() for unit in units) | frozenset(
    _BY_UNIT) | {SPEED_BEAUFORT}

NON_NUMERIC_DEVICE_CLASSES: Final = frozenset({"enum", "timestamp", "date"})


def is_numeric_device_class(device_class: str | None) -> bool:
    """Whether states of this device class are numbers (every class but enum, timestamp and date)."""
    return device_class is not None and device_class not in NON_NUMERIC_DEVICE_CLASSES


def check_unit(device_class: str | None, unit: str | None) -> str | None:
    """Why `unit` does not fit `device_class`, or None when it does (or the class is not in the table)."""
    if device_class is None or unit is None:
        return None
    allowed = DEVICE_CLASS_UNITS.get(device_class)
    if not allowed or normalize_unit(unit) in allowed:
        return None
    return f"unit {unit!r} does not fit device class {device_class!r} (expected one of {', '.join(allowed)})"


# --------------------------------------------------------------------------- city sensor kinds

@dataclass(frozen=True, slots=True, kw_only=True)
class SensorKind:
    """Defaults for one kind of city sensor: what it measures and how it is shown."""

    device_class: str | None
    unit: str | None
    state_class: str | None = "measurement"
    icon: str | None = None
    precision: int | None = None


# `kind: wind_gust` in a sensor's config fills device class, unit, state class and icon; the
# source may send another unit (`source_unit: m/s`) and the value is converted.
CITY_SENSOR_KINDS: Final[dict[str, SensorKind]] = {
    # weather station
    "wind_speed": SensorKind(device_class="wind_speed", unit=SPEED_KMH, icon="mdi:weather-windy",
                             precision=1),
    "wind_gust": SensorKind(device_class="wind_speed", unit=SPEED_KMH, icon="mdi:weather-windy-variant",
                            precision=1),
    "wind_direction": SensorKind(device_class="wind_direction", unit=DEGREE, state_class="measurement",
                                 icon="mdi:compass-outline", precision=0),
    "temperature": SensorKind(device_class="temperature", unit=TEMP_C, precision=1),
    "humidity": SensorKind(device_class="humidity", unit=PERCENT, precision=0),
    "rain": SensorKind(device_class="precipitation", unit=LENGTH_MM, state_class="total_increasing",
                       icon="mdi:weather-rainy", precision=1),
    "rain_rate": SensorKind(device_class="precipitation_intensity", unit=RATE_MMH, icon="mdi:weather-pouring",
                            precision=1),
    "pressure": SensorKind(device_class="atmospheric_pressure", unit=PRESSURE_HPA, precision=1),
    # air quality
    "pm25": SensorKind(device_class="pm25", unit=CONC_UGM3, precision=0),
    "pm10": SensorKind(device_class="pm10", unit=CONC_UGM3, precision=0),
    "no2": SensorKind(device_class="nitrogen_dioxide", unit=CONC_UGM3, precision=0),
    "o3": SensorKind(device_class="ozone", unit=CONC_UGM3, precision=0),
    # energy meters
    "power": SensorKind(device_class="power", unit=POWER_KW, precision=2),
    "energy": SensorKind(device_class="energy", unit=ENERGY_KWH, state_class="total_increasing", precision=1),
    # traffic loop counters
    "vehicles": SensorKind(device_class="traffic_count", unit=VEHICLES, state_class="measurement",
                           icon="mdi:car-multiple", precision=0),
    "traffic_flow": SensorKind(device_class="traffic_flow", unit=VEHICLES_PER_HOUR, icon="mdi:car-multiple",
                               precision=0),
    "occupancy": SensorKind(device_class="occupancy", unit=PERCENT, icon="mdi:car-select", precision=1),
    "traffic_speed": SensorKind(device_class="speed", unit=SPEED_KMH, icon="mdi:speedometer", precision=0),
}
