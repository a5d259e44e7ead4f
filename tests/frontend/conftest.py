"""Fixtures for the frontend: a running simulated site, logged-in HTTP clients, cheap password hashes."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.auth import passwords

from .site import PASSWORD, Site, async_start_site, async_stop_site

_PAGE_DATA = re.compile(r'<script type="application/json" id="page-data">(.*?)</script>', re.S)
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_LOGIN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_data(html: str) -> Any:
    """The JSON a screen hands to its scripts."""
    match = _PAGE_DATA.search(html)
    assert match, "no page data"
    return json.loads(match.group(1))


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    """argon2 at its cheapest: logins in tests take microseconds, not 50 ms."""
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    """The simulated site, started, stopped after the test."""
    running = await async_start_site(config_dir)
    yield running
    await async_stop_site(running)


@dataclass
class WebClient:
    """A browser-like HTTP client with its own cookie jar; `csrf` once logged in."""

    site: Site
    session: aiohttp.ClientSession
    csrf: str | None = None

    def url(self, path: str) -> str:
        return self.site.url(path)

    async def login(self, user: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        """Log in through the form; returns the final response (redirects followed)."""
        async with self.session.get(self.url("/login")) as resp:
            form = await resp.text()
        match = _LOGIN_CSRF.search(form)
        assert match, form
        resp = await self.session.post(self.url("/login"), data={
            "username": user, "password": password, "csrf_token": match.group(1)})
        text = await resp.text()
        meta = _CSRF_META.search(text)
        self.csrf = meta.group(1) if meta else None
        return resp

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(self.url(path), **kwargs) as resp:
            return resp.status, await resp.text()

    async def post_json(self, path: str, data: Any, *, csrf: bool = True) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        async with self.session.post(self.url(path), json=data, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)


MakeClient = Callable[..., Awaitable[WebClient]]


@pytest.fixture
async def make_client(site: Site) -> AsyncIterator[MakeClient]:
    """`await make_client("op_local")`: a client logged in as that user (no user: anonymous)."""
    sessions: list[aiohttp.ClientSession] = []

    async def _make(user: str | None = None) -> WebClient:
        # unsafe=True: keep cookies for an IP address host (127.0.0.1), as browsers do.
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        client = WebClient(site, session)
        if user is not None:
            resp = await client.login(user)
            assert resp.status == 200, await resp.text()
        return client

    yield _make
    for session in sessions:
        await session.close()
