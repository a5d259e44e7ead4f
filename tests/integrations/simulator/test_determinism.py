"""A seeded simulator plays the same city twice: the same first readings for the same seed, others for another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.clock import FakeClock
from hub.core import Hub
from integrations.simulator import get_simulator
from tests.conftest import free_port

from .conftest import SetupSections

STATIONS = {"stations": [{"id": "port", "exposure": 1.25}, {"id": "hacho", "exposure": 1.4, "elevation": 190}]}


def _config(seed: int, prefix: str) -> dict[str, Any]:
    # Nothing listens on this port: readings are computed (and dropped) while the link keeps retrying.
    return {"seed": seed, "time_zone": "Africa/Ceuta", "topic_prefix": prefix, "mqtt": {"port": free_port()},
            "weather": {"interval": 10, **STATIONS},
            "air_quality": {"interval": 60, "stations": [{"id": "centro"}]},
            "energy_meters": {"interval": 15, "meters": [{"id": "asamblea", "base_kw": 30, "peak_kw": 200}]},
            "traffic_counters": {"interval": 60, "counters": [{"id": "espana"}]}}


async def _first_readings(tmp_path: Path, name: str, seed: int, prefix: str,
                          setup_sections: SetupSections, steps: int = 12) -> list[Any]:
    directory = tmp_path / name
    directory.mkdir()
    clock = FakeClock(1782900000.0)
    hub = Hub(directory, clock=clock)
    await hub.async_start()
    try:
        await setup_sections(hub, simulator=_config(seed, prefix))
        simulator = get_simulator(hub)
        readings = []
        for _ in range(steps):
            await clock.async_advance(10)
            readings.append([device.last for device in (*simulator.stations.values(), *simulator.air.values(),
                                                         *simulator.meters.values(), *simulator.counters.values())])
        return readings
    finally:
        await hub.async_stop()


async def test_same_seed_same_first_readings(tmp_path: Path, prefix: str, setup_sections: SetupSections) -> None:
    first = await _first_readings(tmp_path, "a", 42, prefix, setup_sections)
    again = await _first_readings(tmp_path, "b", 42, prefix, setup_sections)
    other = await _first_readings(tmp_path, "c", 43, prefix, setup_sections)
    assert first == again
    assert first != other
    weather = [step[0] for step in first]
    assert len({w["wind_gust"] for w in weather}) > 1  # the readings move from one interval to the next
    assert set(weather[0]) == {"wind_speed", "wind_gust", "wind_dir", "temperature", "humidity", "pressure",
                               "rain", "rain_rate"}


async def test_devices_use_the_broker_of_the_mqtt_section(hub: Hub, prefix: str,
                                                          setup_sections: SetupSections) -> None:
    port = free_port()  # nothing listens: both clients keep retrying, which is all this test needs
    await setup_sections(hub, mqtt={"broker": "127.0.0.1", "port": port, "username": "hub", "password": "pw",
                                    "discovery_prefix": f"{prefix}/ha"},
                         simulator={"topic_prefix": prefix, "weather": {"stations": [{"id": "port"}]}})
    simulator = get_simulator(hub)
    assert simulator.link is not None
    assert (simulator.link.host, simulator.link.port) == ("127.0.0.1", port)
    assert simulator.discovery_prefix == f"{prefix}/ha"
    assert simulator.link.status_topic == f"{prefix}/simulator/status"
