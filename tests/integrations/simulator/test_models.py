"""The seeded models on their own: same seed, same city; gales bring gusts over 70 km/h; days have a shape."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from integrations.simulator.city_models import AirQualityModel, EnergyMeterModel, LoopCounterModel
from integrations.simulator.weather import RegionalWeather, StationModel

TZ = ZoneInfo("Africa/Ceuta")
JULY_1 = datetime(2026, 7, 1, tzinfo=TZ).timestamp()  # midnight, local time
CEUTA = (35.8883, -5.3162)


def _port(seed: int, gale_rate: float = 2.0) -> tuple[RegionalWeather, StationModel]:
    region = RegionalWeather(random.Random(f"{seed}:region"), TZ, *CEUTA, gale_rate, (1200.0, 5400.0))
    return region, StationModel(random.Random(f"{seed}:port"), region, exposure=1.25, elevation=8)


def _gusts_kmh(seed: int, hours: float, gale_rate: float = 2.0, step: float = 10.0) -> list[float]:
    region, port = _port(seed, gale_rate)
    gusts = []
    for i in range(int(hours * 3600 / step)):
        now = JULY_1 + i * step
        region.step(now)
        gusts.append(port.read(now).wind_gust * 3.6)
    return gusts


def test_same_seed_same_readings_other_seed_other_readings() -> None:
    first = _gusts_kmh(7, 0.5)
    assert first == _gusts_kmh(7, 0.5)
    assert first != _gusts_kmh(8, 0.5)
    assert len(set(first)) > 100  # it moves


def test_gales_bring_gusts_over_70_kmh_at_an_exposed_station() -> None:
    gusts = _gusts_kmh(2026, 48, gale_rate=3.0)
    over = [g for g in gusts if g > 70]
    assert over, "no gust over 70 km/h in two days with three gales a day"
    assert max(gusts) < 150  # a Levante gale, not a hurricane
    calm = _gusts_kmh(2026, 48, gale_rate=0.0)
    assert max(calm) < 70  # without gales the port never reaches the warning threshold


def test_a_forced_gale_starts_now_and_ends_on_time() -> None:
    region, port = _port(5, gale_rate=0.0)
    region.step(JULY_1)
    gale = region.start_gale(JULY_1, duration=3600, strength=15.0)
    peak = []
    for i in range(1, 360):
        now = JULY_1 + i * 10
        region.step(now)
        peak.append(port.read(now).wind_gust * 3.6)
    assert max(peak[60:300]) > 70  # full strength after the ramp
    region.step(gale.start + gale.duration + 1)
    assert region.gale is None


def test_day_and_night() -> None:
    region, port = _port(11, gale_rate=0.0)
    air = AirQualityModel(random.Random("air"), region)
    office = EnergyMeterModel(random.Random("meter"), region, profile="office", base_kw=40, peak_kw=200)
    road = LoopCounterModel(random.Random("loop"), region, lanes=2, capacity=1600, free_speed=50)
    by_hour: dict[int, dict[str, float]] = {}
    for i in range(0, 24 * 3600, 60):
        now = JULY_1 + i
        region.step(now)
        reading = port.read(now)
        hour = datetime.fromtimestamp(now, TZ).hour
        if i % 3600 == 0:
            traffic = road.read(now, 60)
            by_hour[hour] = {"temperature": reading.temperature, "humidity": reading.humidity,
                             "o3": air.read(now)["o3"], "power": office.read(now)["power"],
                             "flow": float(traffic["flow"] or 0)}
    assert by_hour[15]["temperature"] > by_hour[5]["temperature"] + 3
    assert by_hour[5]["humidity"] > by_hour[15]["humidity"]
    assert by_hour[14]["o3"] > by_hour[3]["o3"]  # the sun makes ozone
    assert by_hour[11]["power"] > 2 * by_hour[3]["power"]  # office hours (1 July 2026 is a Wednesday)
    assert by_hour[8]["flow"] > 3 * by_hour[3]["flow"]  # morning rush hour
    assert datetime.fromtimestamp(JULY_1, UTC).weekday() == 1  # Tuesday 22:00 UTC = Wednesday in Ceuta
