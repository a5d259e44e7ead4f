"""Time-of-day shapes for the simulated city: sun height, rush hours, office hours, seeded noise helpers."""

from __future__ import annotations

import math
import random
from datetime import datetime

__all__ = [
    "Smoothed",
    "border_profile",
    "delivery_profile",
    "gauss_bump",
    "hour_of_day",
    "office_profile",
    "poisson",
    "seasonal",
    "solar_elevation",
    "traffic_profile",
]


def hour_of_day(local: datetime) -> float:
    """Fractional local hour, 0 <= h < 24."""
    return local.hour + local.minute / 60 + local.second / 3600


def gauss_bump(hour: float, centre: float, width: float) -> float:
    """A bell around `centre` (hours), 1 at the centre, wrapping around midnight."""
    distance = min(abs(hour - centre), 24 - abs(hour - centre))
    return math.exp(-0.5 * (distance / width) ** 2)


def seasonal(day_of_year: int, winter: float, summer: float) -> float:
    """A value that moves from `winter` (late January) to `summer` (late July) and back."""
    phase = math.cos(2 * math.pi * (day_of_year - 205) / 365.25)  # 1 in late July, -1 in late January
    return (winter + summer) / 2 + (summer - winter) / 2 * phase


def solar_elevation(latitude: float, longitude: float, utc: datetime) -> float:
    """Approximate sun elevation in degrees (good to a degree or two, plenty for a simulation)."""
    day = utc.timetuple().tm_yday
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + day) / 365)
    solar_hours = utc.hour + utc.minute / 60 + utc.second / 3600 + longitude / 15
    hour_angle = math.radians(15 * (solar_hours - 12))
    lat = math.radians(latitude)
    sine = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(declination) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))


def traffic_profile(hour: float, weekday: int) -> float:
    """Urban traffic demand as a fraction of capacity: morning, midday (Spanish lunch) and evening peaks."""
    if weekday >= 5:  # weekends: a late morning and an evening out, no commute
        return 0.06 + 0.45 * gauss_bump(hour, 12.5, 2.5) + 0.4 * gauss_bump(hour, 20.0, 2.0)
    return (0.05 + 0.85 * gauss_bump(hour, 8.3, 0.8) + 0.6 * gauss_bump(hour, 14.3, 0.9)
            + 0.7 * gauss_bump(hour, 19.3, 1.3) + 0.3 * gauss_bump(hour, 11.0, 2.0))


def border_profile(hour: float, weekday: int) -> float:
    """Traffic towards the Tarajal crossing: cross-border workers early and late, a midday wave."""
    scale = 0.6 if weekday >= 5 else 1.0
    return scale * (0.04 + 0.9 * gauss_bump(hour, 7.5, 0.9) + 0.45 * gauss_bump(hour, 13.0, 1.5)
                    + 0.8 * gauss_bump(hour, 17.8, 1.1))


def office_profile(hour: float, weekday: int) -> float:
    """Occupancy of a public office building (Spanish administration: 8:00-15:00, a few until evening)."""
    if weekday >= 5:
        return 0.03
    ramp_in = 1 / (1 + math.exp(-(hour - 8.0) * 3))
    ramp_out = 1 / (1 + math.exp((hour - 15.2) * 2.5))
    return 0.03 + 0.9 * ramp_in * ramp_out + 0.15 * gauss_bump(hour, 18.0, 1.5)


def delivery_profile(hour: float, weekday: int) -> float:
    """Vehicles allowed into pedestrian streets: deliveries in the morning, residents at night (0..1)."""
    if weekday == 6:
        return 0.15 + 0.2 * gauss_bump(hour, 12.0, 3.0)
    return 0.08 + 0.9 * gauss_bump(hour, 9.0, 1.2) + 0.3 * gauss_bump(hour, 21.0, 1.5)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class Smoothed:
    """AR(1) noise: each step keeps `memory` of the last value (time constant `tau` seconds)."""

    __slots__ = ("sigma", "tau", "value")

    def __init__(self, sigma: float, tau: float) -> None:
        self.sigma = sigma
        self.tau = tau
        self.value = 0.0

    def step(self, rng: random.Random, dt: float) -> float:
        memory = math.exp(-dt / self.tau) if self.tau > 0 else 0.0
        self.value = memory * self.value + math.sqrt(max(0.0, 1 - memory * memory)) * rng.gauss(0, self.sigma)
        return self.value
