"""Fixtures: an agency's webhook receiver on a free port, hubs (restartable) with the agencies integration."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub.auth.tokens import create_token
from hub.clock import FakeClock
from hub.config.core import CoreConfig
from hub.core import Event, Hub, callback
from hub.http import HubHTTP, async_setup_http
from hub.recorder import async_setup_recorder
from hub.setup import IntegrationState, async_get_setup_manager
from tests.conftest import free_port

# Two agency keys in the Standard Webhooks form (32 random bytes each) and a plain-text one.
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OLD_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
MINISTRY_SECRET = "ministry-shared-secret-2026"

# The official OASIS CAP 1.2 schema, shipped with the tests (tests/data/cap/NOTICE.md: OASIS allows the copy).
CAP_XSD = Path(__file__).resolve().parents[2] / "data" / "cap" / "CAP-v1.2.xsd"


def key_of(secret: str) -> bytes:
    """The HMAC key of a configured secret, decoded here independently of the integration."""
    return base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()


def expected_signature(secret: str, message_id: str, timestamp: str | int, body: bytes) -> str:
    """A Standard Webhooks v1 signature computed with hmac directly."""
    digest = hmac.new(key_of(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_request(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Headers an agency sends with a webhook."""
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": expected_signature(secret, message_id, timestamp, body),
            "content-type": "application/json"}


@pytest.fixture(scope="session")
def cap_schema() -> Any:
    """The official OASIS CAP 1.2 schema (tests/data/cap/CAP-v1.2.xsd, a dev dependency reads it)."""
    import xmlschema

    return xmlschema.XMLSchema(str(CAP_XSD))


# --------------------------------------------------------------------------- the agency's receiver


@dataclass
class Received:
    """One webhook as the agency received it."""

    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Receiver:
    """An agency endpoint: records every request, answers with scripted responses (then 200)."""

    url: str = ""
    requests: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    responses: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.put_nowait(Received({k.lower(): v for k, v in request.headers.items()}, body))
        status, headers = self.responses.pop(0) if self.responses else (200, {})
        return web.Response(status=status, headers=headers, text="" if status < 300 else f"status {status}")

    async def next(self, timeout: float = 10) -> Received:
        return await asyncio.wait_for(self.requests.get(), timeout)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on a free port of 127.0.0.1."""
    rx = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/hacho", rx.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rx.url = f"http://127.0.0.1:{port}/hooks/hacho"
    yield rx
    await runner.cleanup()


# --------------------------------------------------------------------------- hubs


@dataclass
class Site:
    """A running hub with the agencies integration, its API and a way to watch events."""

    hub: Hub
    http: HubHTTP
    session: aiohttp.ClientSession
    token: str
    events: dict[str, asyncio.Queue[Event]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.http.base_url}{path}"

    def watch(self, *event_types: str) -> None:
        """Start queueing these events (call before causing them)."""
        for event_type in event_types:
            queue: asyncio.Queue[Event] = asyncio.Queue()
            self.events[event_type] = queue

            @callback
            def _put(event: Event, queue: asyncio.Queue[Event] = queue) -> None:
                queue.put_nowait(event)

            self.hub.bus.async_listen(event_type, _put)

    async def next_event(self, event_type: str, timeout: float = 10) -> Event:
        return await asyncio.wait_for(self.events[event_type].get(), timeout)

    async def api(self, method: str, path: str, *, token: bool = True, **kwargs: Any) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.request(method, self.url(path), headers=headers, **kwargs) as resp:
            raw = await resp.read()
            return resp.status, (await resp.json(content_type=None)) if raw else None

    async def notify(self, **data: Any) -> dict[str, Any]:
        response = await self.hub.services.async_call("agency", "notify", data, blocking=True,
                                                      return_response=True)
        assert response is not None
        return response


StartSite = Callable[..., Awaitable[Site]]


def agency(receiver: Receiver, agency_id: str = "fire_brigade", **extra: Any) -> dict[str, Any]:
    """An agency entry posting to the receiver, signed with SECRET, fast retries."""
    return {"id": agency_id, "name": "Bomberos de Ceuta", "url": receiver.url, "formats": ["cap"],
            "secret": SECRET, "timeout": 5, "max_attempts": 5, "backoff_base": 10, **extra}


@pytest.fixture
async def start_site(config_dir: Path, fake_clock: FakeClock, tmp_path: Path) -> AsyncIterator[StartSite]:
    """`await start_site(section)` starts a hub (FakeClock, SQLite recorder, API on a free port) with
    `agencies: section` (with the audit log when `audit=True`, automation `rules` when given); call it
    again after stopping the first for a restart on the same database."""
    sites: list[Site] = []
    session = aiohttp.ClientSession()
    token = await asyncio.get_running_loop().run_in_executor(None, create_token, config_dir, "frontend", "ceuta")
    db_url = f"sqlite:///{tmp_path / 'hacho.db'}"

    async def _start(section: Any, *, audit: bool = False, rules: list[dict[str, Any]] | None = None) -> Site:
        hub = Hub(config_dir, clock=fake_clock)
        hub.config = CoreConfig(name="Ceuta Ciudad Segura", site="ceuta", time_zone="Africa/Ceuta")
        await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600})
        http = await async_setup_http(hub, {"port": 0})
        if audit:
            hub_audit = pytest.importorskip("hub.audit")
            await hub_audit.async_setup_audit(hub)
        status = await async_get_setup_manager(hub).async_setup_all({"agencies": section})
        assert status["agencies"].state is IntegrationState.loaded, status["agencies"].error
        if rules is not None:  # after the integrations, as the bootstrap does
            automations = pytest.importorskip("automations")
            await automations.async_setup(hub, {"automations": rules})
        await hub.async_start()
        await http.async_start()
        site = Site(hub, http, session, token)
        sites.append(site)
        return site

    yield _start
    for site in sites:
        if not site.hub.is_stopping:
            await site.hub.async_stop()
    await session.close()
