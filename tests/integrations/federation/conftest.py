"""Two centres, each its own hub (own SQLite database, own config dir), and a Mosquitto of the test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from hub.audit import async_setup_audit, get_audit
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Event, Hub, callback
from hub.recorder import async_setup_recorder
from integrations import alarm, federation
from integrations.federation.manager import FederationManager, get_federation
from tests.mosquitto import Broker, mosquitto_binary

LOCAL = "local_police"
NATIONAL = "national_police"
NAMES = {LOCAL: "Policía Local", NATIONAL: "Policía Nacional"}
ALARM_CONFIG: dict[str, Any] = {
    "types": [
        {"id": "fire", "name": "Fire", "severity": "critical", "shared": True},
        {"id": "door_open", "severity": "info"},  # not shared: never leaves its centre
    ],
}


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    """A started private broker; killed at the end."""
    instance = Broker(tmp_path, mosquitto_binary(), persistence=True,
                      options="max_queued_messages 0\nmax_inflight_messages 20\n")
    await instance.start()
    yield instance
    await instance.kill()


@dataclass
class Centre:
    """One centre's hub, and every event it saw (kept across its restarts)."""

    site: str
    directory: Path
    port: int
    extra: dict[str, Any]
    hub: Hub = None  # type: ignore[assignment]
    events: list[Event] = field(default_factory=list)

    @property
    def peer(self) -> str:
        return NATIONAL if self.site == LOCAL else LOCAL

    @property
    def federation(self) -> FederationManager:
        manager = get_federation(self.hub)
        assert manager is not None
        return manager

    @property
    def alarms(self) -> alarm.AlarmManager:
        manager = alarm.get_manager(self.hub)
        assert manager is not None
        return manager

    def config(self) -> dict[str, Any]:
        return federation.CONFIG_SCHEMA({
            "broker": "127.0.0.1", "port": self.port, "peers": [{"site": self.peer, "name": NAMES[self.peer]}],
            "heartbeat_interval": 0.5, "peer_timeout": 3, "resend_after": 1, "keepalive": 5,
            "share": {"events": [{"event_type": "thermal_fire_*"}, {"event_type": "test_*"}],
                      "states": [{"entity_id": "bollard.*"}]},
            "actuation": [{"entity_id": "bollard.*", "services": ["bollard.raise", "bollard.lower"]}],
            **self.extra,
        })

    async def start(self) -> Hub:
        hub = Hub(self.directory)
        hub.config = CoreConfig(site=self.site, control_centres=(ControlCentre(self.site, NAMES[self.site], (),
                                                                               True),))
        await async_setup_recorder(hub, {"db_url": f"sqlite:///{self.directory / 'hacho.db'}",
                                         "commit_interval": 0.2})
        await async_setup_audit(hub, register_views=False)
        assert await alarm.async_setup(hub, alarm.CONFIG_SCHEMA(ALARM_CONFIG))
        assert await federation.async_setup(hub, self.config())
        await hub.async_start()

        @callback
        def collect(event: Event) -> None:
            self.events.append(event)

        hub.bus.async_listen("*", collect)
        self.hub = hub
        return hub

    async def stop(self) -> None:
        await self.hub.async_stop()

    async def restart(self) -> Hub:
        await self.stop()
        return await self.start()

    def remote_events(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.event_type == event_type and e.origin.value == "remote"]

    async def audit(self, action: str) -> list[dict[str, Any]]:
        audit = get_audit(self.hub)
        assert audit is not None
        return await audit.async_query(action=action, limit=1000)


CentreFactory = Callable[..., Awaitable[Centre]]


@pytest.fixture
async def centres(tmp_path: Path, broker: Broker) -> AsyncIterator[CentreFactory]:
    """Start a centre: `await centres(LOCAL)`; every one started is stopped at the end."""
    started: list[Centre] = []

    async def start(site: str, **extra: Any) -> Centre:
        directory = tmp_path / site
        directory.mkdir(exist_ok=True)
        centre = Centre(site, directory, broker.port, extra)
        await centre.start()
        started.append(centre)
        return centre

    yield start
    for centre in started:
        if not centre.hub.is_stopping:
            await centre.stop()


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition",
                     explain: Callable[[], str] | None = None) -> None:
    """Poll `predicate` until true (the centres run on the real clock and a real broker)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}" + (f": {explain()}" if explain else ""))
        await asyncio.sleep(0.05)


def peer_state(centre: Centre) -> str | None:
    """The state of `federation.<peer>` at `centre`."""
    state = centre.hub.states.get(f"federation.{centre.peer}")
    return None if state is None else state.state


async def wait_connected(*pairs: Centre) -> None:
    """Each centre sees its peer connected."""
    for centre in pairs:
        await wait_until(partial(lambda c: peer_state(c) == "connected", centre),
                         what=f"{centre.site} to see {centre.peer} connected")
