"""An open websocket ends with its credential: a token revoked (CLI in another process, or the hub's own
store), a user disabled or removed. On a FakeClock, so "within a second" is a second of the hub's time."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from hub.auth import passwords
from hub.auth.users import add_user
from hub.clock import FakeClock
from hub.core import Hub
from hub.http import HubHTTP
from hub.http.access import ROLES_STAFF
from hub.http.const import KEY_HUB, KEY_USER
from hub.http.websocket_api import ActiveConnection
from hub.http.websocket_credentials import CLOSE_CREDENTIAL_ENDED

from .conftest import Api, StartApi
from .test_websocket import connect, receive

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def api_hub(fake_hub: Hub) -> Hub:
    return fake_hub


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


async def hacho(config_dir: Path, *args: str) -> None:
    """Run the `hacho` CLI in its own process, as an operator would while the hub runs."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hacho", *args, env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, (out, err)


async def still_answers(ws: aiohttp.ClientWebSocketResponse, msg_id: int) -> None:
    await ws.send_json({"id": msg_id, "type": "get_states"})
    answer = await receive(ws)
    assert answer["id"] == msg_id and answer["success"] is True


async def assert_closed_by_hub(ws: aiohttp.ClientWebSocketResponse) -> None:
    """The next frame is the hub's close with the credential code (queued results are dropped)."""
    msg = await ws.receive(timeout=5)
    while msg.type is aiohttp.WSMsgType.TEXT:
        msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE, msg
    assert msg.data == CLOSE_CREDENTIAL_ENDED


async def test_cli_token_revoke_closes_the_websocket_within_a_second(api: Api, fake_clock: FakeClock) -> None:
    async with connect(api) as ws:
        await still_answers(ws, 1)
        await hacho(api.hub.config_dir, "token", "revoke", "-c", str(api.hub.config_dir), "--name", "operator")
        await fake_clock.async_advance(1.0)
        await api.hub.async_block_till_done()
        await assert_closed_by_hub(ws)


async def test_token_revoked_through_the_hub_closes_its_websocket_at_once(start_api: StartApi) -> None:
    api = await start_api()
    other = await api.http.token_store.async_create_token("console_sur", "ceuta_sur")
    async with connect(api) as ws, connect(api, other) as kept:
        assert await api.http.token_store.async_revoke_token("operator")
        await assert_closed_by_hub(ws)
        await still_answers(kept, 1)  # another token's socket is untouched


@pytest.mark.parametrize("action", ["disable", "remove"])
async def test_disabling_or_removing_the_user_closes_its_token_websockets(
        start_api: StartApi, fake_clock: FakeClock, action: str) -> None:
    api = await start_api()
    config_dir = api.hub.config_dir
    await api.hub.async_add_executor_job(
        lambda: add_user(config_dir, "operator", role="operator", centre="ceuta_norte", password="x" * 12))
    await fake_clock.async_advance(1.0)
    await api.hub.async_block_till_done()
    async with connect(api) as ws:
        await still_answers(ws, 1)
        await hacho(config_dir, "user", action, "operator", "-c", str(config_dir))
        await fake_clock.async_advance(1.0)
        await api.hub.async_block_till_done()
        await assert_closed_by_hub(ws)


async def test_each_message_rechecks_the_credential_first(start_api: StartApi) -> None:
    """The second line: a credential that ended without a push is caught by the next message."""
    valid = [True]

    async def socket(request: web.Request) -> web.WebSocketResponse:
        wsock = web.WebSocketResponse()
        await wsock.prepare(request)
        connection = ActiveConnection(request[KEY_HUB], wsock, request[KEY_USER], credential=lambda: valid[0])
        await connection.async_run()
        connection.async_cleanup()
        await connection.async_wait_closed()
        await wsock.close()
        return wsock

    def add_route(http: HubHTTP) -> None:
        http.declare_route(http.app.router.add_get("/test/socket", socket, allow_head=False), ROLES_STAFF)

    api = await start_api(before_start=add_route)
    async with api.session.ws_connect(api.url("/test/socket"),
                                      headers={"Authorization": f"Bearer {api.token}"}) as ws:
        await ws.send_json({"id": 1, "type": "ping"})
        assert await receive(ws) == {"id": 1, "type": "pong"}
        valid[0] = False
        await ws.send_json({"id": 2, "type": "ping"})  # not answered: the socket closes instead
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, CLOSE_CREDENTIAL_ENDED)
