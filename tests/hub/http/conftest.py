"""Fixtures for the HTTP API: a real server on a free port, a token for it, a client session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import pytest

from hub.auth.tokens import create_token
from hub.core import Hub, callback
from hub.http import HubHTTP, async_setup_http

_T = TypeVar("_T")


def collector(items: list[_T]) -> Callable[[_T], None]:
    """A @callback listener that appends to `items` (inline, so no race with the executor)."""

    @callback
    def _collect(item: _T) -> None:
        items.append(item)

    return _collect


@dataclass
class Api:
    """A started API server with a valid token."""

    hub: Hub
    http: HubHTTP
    token: str
    session: aiohttp.ClientSession
    headers: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.http.base_url}{path}"

    async def request(self, method: str, path: str, *, token: str | None = "default",
                      **kwargs: Any) -> tuple[int, Any]:
        """(status, parsed JSON body) of one request; token None sends no Authorization."""
        headers = dict(kwargs.pop("headers", {}))
        if token == "default":
            token = self.token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(method, self.url(path), headers=headers, **kwargs) as resp:
            body = await resp.json(content_type=None) if await resp.read() else None
            return resp.status, body


StartApi = Callable[..., Awaitable[Api]]


@pytest.fixture
def api_hub(hub: Hub) -> Hub:
    """The hub the API serves (override with `fake_hub` where a test moves the clock)."""
    return hub


@pytest.fixture
async def start_api(api_hub: Hub) -> AsyncIterator[StartApi]:
    """Start the API on a free port, after `before_start(http)` has added routes."""
    hub = api_hub
    session = aiohttp.ClientSession()
    started: list[HubHTTP] = []

    async def _start(conf: dict[str, Any] | None = None,
                     before_start: Callable[[HubHTTP], None] | None = None,
                     token_name: str = "operator", centre: str | None = "ceuta_norte") -> Api:
        token = await hub.async_add_executor_job(create_token, hub.config_dir, token_name, centre)
        http = await async_setup_http(hub, {"port": 0, **(conf or {})})
        if before_start is not None:
            before_start(http)
        await http.async_start()
        started.append(http)
        return Api(hub, http, token, session)

    yield _start
    await session.close()
    for http in started:
        await http.async_stop()


@pytest.fixture
async def api(start_api: StartApi) -> Api:
    """The API with default settings, token "operator" acting from centre ceuta_norte."""
    return await start_api()
