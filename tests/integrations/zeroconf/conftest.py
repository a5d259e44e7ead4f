"""Fixtures for zeroconf: a hub with its HTTP API and the zeroconf integration on loopback, and a 'device'."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from hub.auth.tokens import create_token
from hub.core import Event, Hub, callback
from hub.http import HubHTTP, async_setup_http
from hub.setup import IntegrationState, async_get_setup_manager


@dataclass
class DiscoveryHub:
    """A started hub with zeroconf on 127.0.0.1 and a token for its API."""

    hub: Hub
    http: HubHTTP
    token: str
    session: aiohttp.ClientSession
    name: str

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(f"{self.http.base_url}{path}",
                                    headers={"Authorization": f"Bearer {self.token}"}) as resp:
            return resp.status, await resp.json()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
async def discovery_hub(hub: Hub, unique: str) -> AsyncIterator[DiscoveryHub]:
    """zeroconf set up like the bootstrap does it: before the HTTP API starts."""
    token = await hub.async_add_executor_job(create_token, hub.config_dir, "engineer", None)
    http = await async_setup_http(hub, {"port": 0})
    name = f"Hacho test {unique}"
    manager = async_get_setup_manager(hub)
    status = await manager.async_setup_all({"zeroconf": {"name": name, "interfaces": ["127.0.0.1"]}})
    assert status["zeroconf"].state is IntegrationState.loaded, status["zeroconf"].error
    await http.async_start()
    async with aiohttp.ClientSession() as session:
        yield DiscoveryHub(hub, http, token, session, name)
    await manager.async_unload_all()


@pytest.fixture
async def device_zc() -> AsyncIterator[AsyncZeroconf]:
    """Another mDNS responder on loopback: the devices on the 'network'."""
    aiozc = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    yield aiozc
    await aiozc.async_unregister_all_services()
    await aiozc.async_close()


def recorder(hub: Hub, event_type: str) -> tuple[list[Event], Callable[[Callable[[Event], bool]], Any]]:
    """Record `event_type`; the second item waits (10 s at most) for a recorded event matching a test."""
    events: list[Event] = []
    changed = asyncio.Event()

    @callback
    def record(event: Event) -> None:
        events.append(event)
        changed.set()

    hub.bus.async_listen(event_type, record)

    async def wait(match: Callable[[Event], bool]) -> Event:
        async with asyncio.timeout(10):
            while True:
                for event in events:
                    if match(event):
                        return event
                changed.clear()
                await changed.wait()

    return events, wait
