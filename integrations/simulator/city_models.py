"""Simulated city sensors: air quality, building energy meters and traffic loop counters, seeded.

Each model takes its own `random.Random` and the regional weather (wind disperses pollution, the
sun makes ozone, heat and cold drive air conditioning) and produces one reading per `read(now)`.
"""

from __future__ import annotations

import math
import random
from datetime import datetime

from .daycycle import (
    Smoothed,
    border_profile,
    gauss_bump,
    hour_of_day,
    office_profile,
    poisson,
    traffic_profile,
)
from .weather import RegionalWeather

__all__ = ["PROFILES", "AirQualityModel", "EnergyMeterModel", "LoopCounterModel"]

# Effective vehicle length seen by a loop (vehicle + loop), metres: turns flow and speed into occupancy.
_EFFECTIVE_LENGTH_M = 7.5


class AirQualityModel:
    """PM2.5, PM10, NO2 and O3 (µg/m³): traffic and ferries, dispersion by wind, sun-made ozone, calima."""

    def __init__(self, rng: random.Random, region: RegionalWeather, *, traffic_factor: float = 1.0,
                 port: bool = False, calima_rate: float = 0.04) -> None:
        self.rng = rng
        self.region = region
        self.traffic_factor = traffic_factor
        self.port = port  # ferries and the container quay add NO2 and PM
        self.calima_rate = calima_rate  # Saharan dust episodes per day
        self.calima_until = 0.0
        self.calima_strength = 0.0
        self._pm_noise = Smoothed(2.0, 1800)
        self._no2_noise = Smoothed(4.0, 900)
        self._o3_noise = Smoothed(4.0, 1800)
        self._last: float | None = None

    def read(self, now: float) -> dict[str, float]:
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        rng, region = self.rng, self.region
        if now >= self.calima_until and dt > 0 and rng.random() < 1 - math.exp(-self.calima_rate * dt / 86400):
            self.calima_until = now + rng.uniform(12, 60) * 3600
            self.calima_strength = rng.uniform(30, 110)
        calima = self.calima_strength if now < self.calima_until else 0.0
        local = datetime.fromtimestamp(now, region.tz)
        hour = hour_of_day(local)
        traffic = traffic_profile(hour, local.weekday()) * self.traffic_factor
        dilution = 1 + region.mean_wind / 6
        ships = 0.0
        if self.port:  # a fast ferry to Algeciras leaves roughly every hour from 7:00 to 22:00
            minute = local.minute + local.second / 60
            ships = 25.0 * math.exp(-0.5 * ((minute - 5) / 6) ** 2) if 7 <= hour <= 22 else 0.0
        no2 = max(2.0, (10 + 48 * traffic + ships) / dilution + self._no2_noise.step(rng, dt))
        pm25 = max(2.0, 6 + 11 * traffic / dilution + 0.35 * calima + ships / 10 + self._pm_noise.step(rng, dt))
        pm10 = max(pm25 + 1, pm25 * 1.65 + 4 + calima + 6 * max(0.0, region.mean_wind - 10) / dilution)
        sun = max(0.0, math.sin(math.radians(max(0.0, region.sun()))))
        o3 = max(4.0, 38 + 55 * sun - 0.45 * no2 + 3 * region.mean_wind / 5 + self._o3_noise.step(rng, dt))
        return {"pm25": round(pm25, 1), "pm10": round(pm10, 1), "no2": round(no2, 1), "o3": round(o3, 1)}


def _office(hour: float, weekday: int) -> float:
    return office_profile(hour, weekday)


def _hospital(hour: float, weekday: int) -> float:
    return 0.55 + 0.35 * gauss_bump(hour, 12.0, 3.5) + 0.1 * gauss_bump(hour, 19.5, 2.0)


def _port(hour: float, weekday: int) -> float:
    return 0.35 + 0.45 * gauss_bump(hour, 10.0, 3.0) + 0.4 * gauss_bump(hour, 20.5, 1.5)


PROFILES = {"office": _office, "hospital": _hospital, "port": _port}


class EnergyMeterModel:
    """A building's meter: base load, occupancy profile, air conditioning against the outside temperature."""

    def __init__(self, rng: random.Random, region: RegionalWeather, *, profile: str, base_kw: float,
                 peak_kw: float, energy_kwh: float = 0.0) -> None:
        self.rng = rng
        self.region = region
        self.profile = PROFILES[profile]
        self.base_kw = base_kw
        self.peak_kw = peak_kw
        self.energy_kwh = energy_kwh
        self._noise = Smoothed(0.03, 300)
        self._last: float | None = None
        self.power_kw = base_kw

    def read(self, now: float) -> dict[str, float]:
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        local = datetime.fromtimestamp(now, self.region.tz)
        occupancy = self.profile(hour_of_day(local), local.weekday())
        temperature = self.region.temperature()
        hvac = 0.02 * self.peak_kw * (max(0.0, temperature - 22) + 0.6 * max(0.0, 15 - temperature))
        power = self.base_kw + (self.peak_kw - self.base_kw) * occupancy + hvac
        power *= 1 + self._noise.step(self.rng, dt)
        # Trapezoid: the energy of the interval at the mean of the last and this power.
        self.energy_kwh += (self.power_kw + power) / 2 * dt / 3600
        self.power_kw = max(0.0, power)
        voltage = 230 + self.rng.gauss(0, 1.2) - 2.5 * self.power_kw / max(self.peak_kw, 1)
        return {"power": round(self.power_kw, 2), "energy": round(self.energy_kwh, 2),
                "voltage": round(voltage, 1)}


class LoopCounterModel:
    """An inductive-loop counting station: vehicles per interval, occupancy and mean speed, rush hours."""

    def __init__(self, rng: random.Random, region: RegionalWeather, *, lanes: int, capacity: float,
                 free_speed: float, profile: str = "urban") -> None:
        self.rng = rng
        self.region = region
        self.lanes = lanes
        self.capacity = capacity  # vehicles per hour per lane
        self.free_speed = free_speed  # km/h
        self.profile = border_profile if profile == "border" else traffic_profile
        self._demand_noise = Smoothed(0.08, 900)
        self._last: float | None = None

    def read(self, now: float, interval: float) -> dict[str, float | None]:
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        rng = self.rng
        local = datetime.fromtimestamp(now, self.region.tz)
        ratio = min(1.05, self.profile(hour_of_day(local), local.weekday()) * (1 + self._demand_noise.step(rng, dt)))
        ratio = max(0.0, ratio)
        vehicles = poisson(rng, self.capacity * self.lanes * ratio * interval / 3600)
        flow = vehicles * 3600 / interval
        speed = self.free_speed * (1 - 0.65 * ratio ** 3) + rng.gauss(0, 1.5)
        if self.region.rain_rate > 0:
            speed *= 0.85
        speed = max(6.0, speed)
        per_lane = flow / self.lanes
        occupancy = min(100.0, per_lane * _EFFECTIVE_LENGTH_M / 1000 / speed * 100)
        # No vehicle, no measured speed: the station reports none (the sensor reads unknown).
        return {"vehicles": vehicles, "flow": round(flow), "occupancy": round(occupancy, 1),
                "speed": round(speed) if vehicles else None, "interval": round(interval)}
