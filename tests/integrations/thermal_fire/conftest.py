"""Fixtures for thermal_fire: the coarse synthetic terrain, small cameras, a hub with the integration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Event, Hub
from integrations.thermal_fire import CONFIG_SCHEMA, DATA_KEY, async_setup, async_unload
from integrations.thermal_fire.elevation import ElevationGrid
from integrations.thermal_fire.manager import ThermalFireManager
from integrations.thermal_fire.scenarios import utc
from integrations.thermal_fire.scene import ceuta_terrain

TERRAIN_ARCSEC = 3.0  # 90 m cells: the same site, ten times cheaper than the 1" terrain
NIGHT = utc(2026, 7, 15, 1.0)
HACHO = {"id": "hacho", "name": "Monte Hacho", "lat": 35.8966, "lon": -5.2930, "height_m": 30.0}
BENZU = {"id": "benzu", "name": "Benzu", "lat": 35.9160, "lon": -5.3755, "height_m": 20.0}
# A ground point 2.9 km west of Monte Hacho, in the middle of its "west" preset (pan 262, tilt -2).
FIRE_POINT = (35.89305, -5.32448)


@pytest.fixture(scope="session")
def terrain() -> ElevationGrid:
    """The simulator's Ceuta terrain at 3 arc-seconds."""
    return ceuta_terrain(TERRAIN_ARCSEC)


@pytest.fixture
def fake_clock() -> FakeClock:
    """Night over Ceuta (01:00 UTC, 15 July 2026)."""
    return FakeClock(NIGHT)


def hub_config(**overrides: Any) -> dict[str, Any]:
    """One Monte Hacho tower, a 160x128 simulated camera, one preset, the coarse terrain."""
    config: dict[str, Any] = {
        "towers": [
            {
                **HACHO,
                "camera": {"source": "simulator", "width": 160, "height": 128, "queue_size": 8},
                "presets": [{"name": "west", "pan": 262.0, "tilt": -2.0, "dwell_s": 3}],
            }
        ],
        "simulator": {
            "terrain_arcsec": TERRAIN_ARCSEC,
            "seed": 3,
            "vehicles": 4,
            "ships": 2,
            "ignitions": [{"lat": FIRE_POINT[0], "lon": FIRE_POINT[1], "after_s": 40}],
        },
        "weather": {
            "wind_speed": "sensor.wind_speed",
            "wind_direction": "sensor.wind_direction",
            "temperature": "sensor.air_temperature",
            "humidity": "sensor.humidity",
        },
        "water_decimation": 4,
    }
    config.update(overrides)
    return CONFIG_SCHEMA(config)


class FireHub:
    """A hub with thermal_fire set up, the events it fired, and a way to let simulated time pass."""

    def __init__(self, hub: Hub, clock: FakeClock) -> None:
        self.hub = hub
        self.clock = clock
        self.events: list[Event] = []
        for kind in ("thermal_fire_detected", "thermal_fire_updated", "thermal_fire_cleared"):
            hub.bus.async_listen(kind, self.events.append)

    @property
    def manager(self) -> ThermalFireManager:
        return self.hub.data[DATA_KEY]

    def of(self, kind: str) -> list[Event]:
        """Events of one type, in order."""
        return [e for e in self.events if e.event_type == kind]

    async def run(self, seconds: float, until: str | None = None) -> None:
        """Advance the clock second by second, letting the scan loop and the worker catch up."""
        await self.manager.async_wait_idle()
        for _ in range(int(seconds)):
            await self.clock.async_advance(1.0)
            await self.manager.async_wait_idle()
            await self.hub.async_block_till_done()
            if until is not None and self.of(until):
                return


@pytest.fixture
async def fire_hub(fake_hub: Hub, fake_clock: FakeClock) -> AsyncIterator[FireHub]:
    """thermal_fire on a FakeClock hub, with weather entities, unloaded after the test."""
    fake_hub.states.async_set("sensor.wind_speed", "5.0", {"unit_of_measurement": "m/s"})
    fake_hub.states.async_set("sensor.wind_direction", "90")
    fake_hub.states.async_set("sensor.air_temperature", "31")
    fake_hub.states.async_set("sensor.humidity", "18")
    helper = FireHub(fake_hub, fake_clock)
    assert await async_setup(fake_hub, hub_config())
    yield helper
    await async_unload(fake_hub)
