"""Simulated weather over the Strait: Levante gales with gusts, day/night temperature and humidity, rain.

`RegionalWeather` is the weather of the whole city (wind regime, gales, pressure, the day's
temperature); each `StationModel` reads it through its own exposure and noise. Everything is
seeded: the same seed and the same sequence of steps give the same readings.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, tzinfo

from .daycycle import Smoothed, gauss_bump, hour_of_day, seasonal, solar_elevation

__all__ = ["Gale", "RegionalWeather", "StationModel", "StationReading"]

# Mean wind (m/s) the regional model drifts towards: calm days, sea breeze, and a Levante gale.
_BREEZE_MS = 3.0
_BREEZE_DAY_MS = 2.5  # extra breeze in the afternoon
_GALE_MS = (13.0, 17.0)  # a Levante gale's mean wind; x1.2 exposure and ~1.4 gust factor: 75-95 km/h gusts
_GALE_RAMP_S = 600.0  # gales build up and die down over ten minutes
_WIND_TAU_S = 900.0


@dataclass(slots=True)
class Gale:
    """A Levante (easterly) gale: when it starts, how long it lasts, how strong its mean wind is."""

    start: float
    duration: float
    strength: float  # mean wind at full strength, m/s

    def factor(self, now: float) -> float:
        """0 outside the gale, ramping to 1 and back down."""
        elapsed = now - self.start
        if elapsed < 0 or elapsed > self.duration:
            return 0.0
        ramp = min(_GALE_RAMP_S, self.duration / 3)
        return min(1.0, elapsed / ramp, (self.duration - elapsed) / ramp)


class RegionalWeather:
    """The city's weather: a wind regime with gales (rate per day), pressure, the day's temperature."""

    def __init__(self, rng: random.Random, tz: tzinfo, latitude: float, longitude: float,
                 gale_rate: float, gale_duration: tuple[float, float]) -> None:
        self.rng = rng
        self.tz = tz
        self.latitude = latitude
        self.longitude = longitude
        self.gale_rate = gale_rate  # gales per day
        self.gale_duration = gale_duration  # seconds (min, max)
        self.gale: Gale | None = None
        self.gales_started = 0
        self.mean_wind = _BREEZE_MS  # m/s, what stations see (before their own exposure)
        self._base_wind = _BREEZE_MS  # m/s, the regime's wind without the slow fluctuation
        self.direction = 90.0  # degrees the wind comes from (Levante: east)
        self.pressure = 1016.0
        self.rain_rate = 0.0  # mm/h
        self._wind_noise = Smoothed(0.18, _WIND_TAU_S)  # relative
        self._temp_noise = Smoothed(0.6, 3 * 3600)
        self._humidity_noise = Smoothed(4.0, 2 * 3600)
        self._last: float | None = None
        self.now = 0.0

    # ---- what the simulator (or the storm service) does

    def start_gale(self, now: float, duration: float | None = None, strength: float | None = None) -> Gale:
        """Start a gale now (the `simulator.storm` service, or the random schedule)."""
        low, high = self.gale_duration
        self.gale = Gale(now, duration if duration is not None else self.rng.uniform(low, high),
                         strength if strength is not None else self.rng.uniform(*_GALE_MS))
        self.gales_started += 1
        return self.gale

    def step(self, now: float) -> None:
        """Advance the regional weather to `now` (epoch seconds)."""
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        self.now = now
        rng = self.rng
        if self.gale is not None and now > self.gale.start + self.gale.duration:
            self.gale = None
        if self.gale is None and dt > 0 and self.gale_rate > 0:
            if rng.random() < 1 - math.exp(-self.gale_rate * dt / 86400):
                self.start_gale(now)
        local = datetime.fromtimestamp(now, self.tz)
        breeze = _BREEZE_MS + _BREEZE_DAY_MS * gauss_bump(hour_of_day(local), 15.0, 3.0)
        gale = self.gale.factor(now) if self.gale is not None else 0.0
        target = breeze + gale * ((self.gale.strength if self.gale else 0.0) - breeze)
        keep = math.exp(-dt / 300) if dt else 1.0
        self._base_wind = keep * self._base_wind + (1 - keep) * target if gale == 0 else target
        # The slow fluctuation is relative; a gale blows steadier than a fickle breeze.
        self.mean_wind = max(0.3, self._base_wind * (1 + self._wind_noise.step(rng, dt) * (0.35 if gale else 1.0)))
        wanted_direction = 85.0 if gale else (270.0 if local.hour in range(11, 19) else 95.0)
        turn = ((wanted_direction - self.direction + 180) % 360) - 180
        self.direction = (self.direction + turn * (1 - math.exp(-dt / 1800)) + rng.gauss(0, 4)) % 360
        pressure_target = 1016.0 - 9.0 * gale
        self.pressure += (pressure_target - self.pressure) * (1 - math.exp(-dt / 7200)) + rng.gauss(0, 0.02)
        self.rain_rate = max(0.0, gale * rng.uniform(0.0, 6.0) - 1.0) if gale > 0.5 else 0.0
        self._temp_noise.step(rng, dt)
        self._humidity_noise.step(rng, dt)

    # ---- what stations read

    def temperature(self) -> float:
        """Air temperature near sea level, °C: season, a day/night swing peaking mid-afternoon, noise."""
        local = datetime.fromtimestamp(self.now, self.tz)
        mean = seasonal(local.timetuple().tm_yday, 13.5, 24.5)
        swing = 3.2 * math.cos(2 * math.pi * (hour_of_day(local) - 15.0) / 24)
        gale = self.gale.factor(self.now) if self.gale is not None else 0.0
        return mean + swing + self._temp_noise.value - 1.5 * gale

    def humidity(self, temperature: float) -> float:
        """Relative humidity, %: the sea keeps it high; it peaks at dawn when the air is coolest."""
        local = datetime.fromtimestamp(self.now, self.tz)
        base = 74.0 - 2.2 * (temperature - seasonal(local.timetuple().tm_yday, 13.5, 24.5))
        if self.rain_rate > 0:
            base += 15
        return max(25.0, min(100.0, base + self._humidity_noise.value))

    def sun(self) -> float:
        """Sun elevation over the city, degrees."""
        return solar_elevation(self.latitude, self.longitude, datetime.fromtimestamp(self.now, self.tz))


@dataclass(slots=True)
class StationReading:
    """One weather station report, in the units the station sends (wind in m/s)."""

    wind_speed: float
    wind_gust: float
    wind_direction: float
    temperature: float
    humidity: float
    pressure: float
    rain: float  # mm since the station started (total_increasing)
    rain_rate: float

    def as_payload(self) -> dict[str, float]:
        return {
            "wind_speed": round(self.wind_speed, 1), "wind_gust": round(self.wind_gust, 1),
            "wind_dir": round(self.wind_direction), "temperature": round(self.temperature, 1),
            "humidity": round(self.humidity), "pressure": round(self.pressure, 1),
            "rain": round(self.rain, 1), "rain_rate": round(self.rain_rate, 1),
        }


class StationModel:
    """A weather station: the regional weather seen through its exposure, height and own turbulence."""

    def __init__(self, rng: random.Random, region: RegionalWeather, *, exposure: float = 1.0,
                 elevation: float = 10.0) -> None:
        self.rng = rng
        self.region = region
        self.exposure = exposure
        self.elevation = elevation
        self.rain_total = 0.0
        self._gust_noise = Smoothed(0.06, 60)
        self._last: float | None = None

    def read(self, now: float) -> StationReading:
        """The station's report at `now` (the region must have been stepped to `now`)."""
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        rng, region = self.rng, self.region
        mean = max(0.0, region.mean_wind * self.exposure * rng.uniform(0.95, 1.05))
        # The highest 3-second wind of the interval: 25-50 % over the mean, with now and then a stronger burst.
        factor = 1.25 + 0.15 * rng.random() + abs(self._gust_noise.step(rng, dt))
        if rng.random() < 0.03:
            factor += rng.uniform(0.05, 0.2)
        gust = max(mean, mean * factor)
        temperature = region.temperature() - 0.0065 * self.elevation + rng.gauss(0, 0.1)
        humidity = region.humidity(temperature) + rng.gauss(0, 0.8)
        pressure = region.pressure + rng.gauss(0, 0.05)  # reduced to sea level (QNH), as stations report it
        rain_rate = region.rain_rate * rng.uniform(0.8, 1.2)
        self.rain_total += rain_rate * dt / 3600
        return StationReading(
            wind_speed=mean, wind_gust=gust, wind_direction=(region.direction + rng.gauss(0, 6)) % 360,
            temperature=temperature, humidity=max(5.0, min(100.0, humidity)), pressure=pressure,
            rain=self.rain_total, rain_rate=rain_rate,
        )
