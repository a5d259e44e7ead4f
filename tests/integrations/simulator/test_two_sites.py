"""Two hubs on one machine and one broker: two copies of the Ceuta site, each with its simulated city, side by side.

Before, the site fixed `client_id: hacho-ceuta` (the broker kept kicking one hub off), both simulators published on
the same topics (one city's gale showed in the other) and both sites delivered to the one agency receiver on 8124
(one hub's deliveries were answered by the other's). Here neither hub loses its broker connection, every value a
hub's weather sensors take is its own simulator's latest reading, and each hub's alerts reach its own receiver.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hub.bootstrap import async_setup_hub, load_and_check_core
from hub.core import Event, Hub, callback
from integrations.mqtt import get_mqtt
from integrations.simulator import get_simulator
from integrations.simulator.const import EVENT_SIMULATOR_AGENCY_MESSAGE
from tests.ceuta_copy import copy_ceuta
from tests.conftest import free_port

# Heavy parts that play no role in what two hubs share (worker processes for the cameras, multicast announcements).
LEFT_OUT = ("anpr", "thermal_fire", "zeroconf", "face")
STATIONS = ("port", "hacho")
WINDOW = 30.0  # seconds the two hubs run side by side


@dataclass
class RunningSite:
    """One hub of the pair and what the test saw of it."""

    hub: Hub
    site: str
    foreign: list[tuple[str, str, str]] = field(default_factory=list)  # (entity, shown, own reading)
    readings: dict[str, int] = field(default_factory=dict)  # own readings shown, per entity
    flaps: list[str] = field(default_factory=list)  # entities gone unavailable after a reading
    agency_messages: list[str] = field(default_factory=list)  # message ids its own receiver got

    def watch(self) -> None:
        """Check every state a weather sensor takes against this hub's own simulator (the last reading)."""
        simulator = get_simulator(self.hub)

        @callback
        def changed(event: Event) -> None:
            entity_id = event.data["entity_id"]
            station = entity_id.removeprefix("sensor.").removesuffix("_wind_gust")
            if station not in STATIONS or event.data["new_state"] is None:
                return
            shown = event.data["new_state"].state
            if shown in ("unknown", "unavailable"):
                if self.readings.get(entity_id):
                    self.flaps.append(entity_id)
                return
            last = simulator.stations[station].last
            own = None if last is None else str(round(last["wind_gust"] * 3.6, 1))
            if shown == own:
                self.readings[entity_id] = self.readings.get(entity_id, 0) + 1
            else:
                self.foreign.append((entity_id, shown, str(own)))

        @callback
        def received(event: Event) -> None:
            self.agency_messages.append(event.data["message_id"])

        self.hub.bus.async_listen("state_changed", changed)
        self.hub.bus.async_listen(EVENT_SIMULATOR_AGENCY_MESSAGE, received)


async def _start(config_dir: Path, site: str, broker: tuple[str, int], monkeypatch: pytest.MonkeyPatch) -> Hub:
    """Start a hub on the copy with ports of its own (what a second hub on the machine is given)."""
    for variable in ("HACHO_HTTP_PORT", "HACHO_SIM_MODBUS_PORT", "HACHO_SIM_AGENCY_PORT", "HACHO_SIM_RTSP_PORT"):
        monkeypatch.setenv(variable, str(free_port()))
    monkeypatch.setenv("HACHO_MQTT_HOST", broker[0])
    monkeypatch.setenv("HACHO_MQTT_PORT", str(broker[1]))
    loaded = await asyncio.get_running_loop().run_in_executor(None, load_and_check_core, config_dir)
    assert loaded.errors == []
    hub = await async_setup_hub(config_dir, loaded)
    assert hub.config is not None and hub.config.site == site
    return hub


@pytest.fixture
async def two_sites(tmp_path: Path, mqtt_broker: tuple[str, int],
                    monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[RunningSite, RunningSite]]:
    run = uuid.uuid4().hex[:6]  # site ids no other run (or `make run` of the real Ceuta) on this broker uses
    sites = [(f"ceuta_{run}", 2026), (f"melilla_{run}", 2027)]
    running: list[RunningSite] = []
    try:
        for index, (site, seed) in enumerate(sites):
            config_dir = await asyncio.get_running_loop().run_in_executor(None, functools.partial(
                copy_ceuta, tmp_path / f"site{index}", site=site, seed=seed, sections_left_out=LEFT_OUT))
            running.append(RunningSite(await _start(config_dir, site, mqtt_broker, monkeypatch), site))
        yield running[0], running[1]
    finally:
        for item in running:
            await item.hub.async_stop()


async def _wait_for_readings(pair: tuple[RunningSite, RunningSite], timeout: float) -> None:
    """Until every watched sensor of both hubs has shown at least one reading of its own simulator."""
    try:
        async with asyncio.timeout(timeout):
            while not all(len(item.readings) == len(STATIONS) for item in pair):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail("not every sensor showed its own simulator's reading: "
                    + "; ".join(f"{item.site}: own {item.readings}, foreign {item.foreign}" for item in pair))


async def _wait_for_message(item: RunningSite, message_id: str, timeout: float) -> None:
    try:
        async with asyncio.timeout(timeout):
            while message_id not in item.agency_messages:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"{item.site}'s agency receiver never got its own message {message_id}")


async def test_two_sites_on_one_broker_and_machine_keep_to_themselves(
        two_sites: tuple[RunningSite, RunningSite]) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    for item in two_sites:
        item.watch()
    clients = [get_mqtt(item.hub) for item in two_sites]
    for client in clients:
        assert await client.async_wait_connected(15), "a hub did not connect to the broker"
    assert clients[0].client_id != clients[1].client_id
    for item in two_sites:
        link = get_simulator(item.hub).link
        assert link is not None and await link.async_wait_connected(15)
    # The weather stations report on connection and every 10 s: each hub shows its own city's wind.
    await _wait_for_readings(two_sites, timeout=WINDOW)

    # Each hub's alert reaches its own agency receiver, never the other hub's.
    sent: list[str] = []
    for item in two_sites:
        response: Any = await item.hub.services.async_call(
            "agency", "notify", {"agency_id": "ume", "event": f"Two-site test {item.site}", "status": "Test"},
            return_response=True)
        [message] = response["messages"]
        sent.append(message["message_id"])
    for item, message_id in zip(two_sites, sent, strict=True):
        await _wait_for_message(item, message_id, timeout=20)

    # Side by side for the rest of the window: no disconnect, no foreign value, no flapping.
    await asyncio.sleep(max(0.0, WINDOW - (loop.time() - started)))
    for item, client in zip(two_sites, clients, strict=True):
        assert client.connected and client.stats.connects == 1, f"{item.site}: MQTT reconnected"
        assert item.foreign == [], f"{item.site} showed another site's readings: {item.foreign}"
        assert item.flaps == [], f"{item.site}: sensors went unavailable: {item.flaps}"
        # it watched something after the first readings (a station in a calm reports the same 0.0 gust, which
        # changes no state: each station counts once at least, the sum counts later changes)
        assert sum(item.readings.values()) > len(STATIONS), item.readings
    assert sent[1] not in two_sites[0].agency_messages and sent[0] not in two_sites[1].agency_messages
