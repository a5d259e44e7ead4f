"""A small Ceuta for alarm tests: two centres, three areas, a recorder on SQLite, the alarm integration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hub.auth import passwords
from hub.clock import FakeClock
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Context, Event, Hub, callback
from hub.helpers import area_registry
from hub.recorder import async_setup_recorder
from integrations import alarm
from integrations.alarm.const import EVENT_KINDS
from integrations.alarm.manager import AlarmManager

CENTRES = (ControlCentre("local_police", "Policía Local", ("centro",), True),
           ControlCentre("national_police", "Policía Nacional", ("tarajal",)))
AREAS = [
    {"id": "centro", "name": "Centro", "latitude": 35.8890, "longitude": -5.3180, "radius_m": 300},
    {"id": "tarajal", "name": "Tarajal", "latitude": 35.8710, "longitude": -5.3430, "radius_m": 300},
]
INTRUSION_SOP = """\
name: Intrusion at a fenced site
steps:
  - id: look
    title: Look at the cameras
  - id: send_patrol
    title: Send a patrol
    type: note
"""
ALARM_CONFIG: dict[str, Any] = {
    "types": [
        {"id": "fire", "name": "Fire", "severity": "critical", "sla_ack_seconds": 60, "escalate_after_seconds": 60,
         "sla_resolve_seconds": 600, "centre": "national_police", "shared": True,
         "raise_on": [{"event_type": "thermal_fire_detected"}],
         "sop": [
             {"id": "confirm", "title": "Confirm on the camera"},
             {"id": "call_bomberos", "title": "Call the fire brigade", "type": "note"},
             {"id": "close_access", "title": "Raise the access bollards", "type": "service",
              "service": "bollard.raise", "data": {"entity_id": "{{ alarm.entities }}", "reason": "fire"}},
         ]},
        {"id": "intrusion", "severity": "major", "sla_ack_seconds": 120, "sop": "intrusion.yaml"},
        {"id": "door_open", "severity": "info", "sla_ack_seconds": 300},
    ],
}
OP_L = Context(user_id="op_l", centre="local_police")
OP_N = Context(user_id="op_n", centre="national_police")


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


@dataclass
class Site:
    hub: Hub
    clock: FakeClock | None
    events: list[Event] = field(default_factory=list)

    @property
    def manager(self) -> AlarmManager:
        manager = alarm.get_manager(self.hub)
        assert manager is not None
        return manager

    def kinds(self) -> list[str]:
        names = {event_type: kind for kind, event_type in EVENT_KINDS.items()}
        return [names[e.event_type] for e in self.events]

    async def call(self, service: str, data: dict[str, Any], context: Context | None = None) -> dict[str, Any]:
        response = await self.hub.services.async_call("alarm", service, data, context=context,
                                                      return_response=True)
        assert response is not None
        return response


async def start_site(config_dir: Path, db_url: str, clock: FakeClock | None = None,
                     config: dict[str, Any] | None = None) -> Site:
    """A started hub with areas, the recorder and the alarm integration; collects alarm events."""
    sops = config_dir / "sops"
    sops.mkdir(exist_ok=True)
    (sops / "intrusion.yaml").write_text(INTRUSION_SOP)
    hub = Hub(config_dir, clock=clock)
    hub.config = CoreConfig(control_centres=CENTRES)
    await area_registry.async_setup_areas(hub, AREAS)
    await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600})
    assert await alarm.async_setup(hub, alarm.CONFIG_SCHEMA(config or ALARM_CONFIG))
    await hub.async_start()
    site = Site(hub, clock)

    @callback
    def collect(event: Event) -> None:
        site.events.append(event)

    for event_type in EVENT_KINDS.values():
        hub.bus.async_listen(event_type, collect)
    return site


SiteFactory = Callable[..., Any]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hacho.db'}"


@pytest.fixture
async def site(config_dir: Path, db_url: str, fake_clock: FakeClock) -> AsyncIterator[Site]:
    site = await start_site(config_dir, db_url, fake_clock)
    yield site
    if not site.hub.is_stopping:
        await site.hub.async_stop()
