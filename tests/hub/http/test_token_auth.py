"""Tokens on a running server: CLI revoke/create take effect without restart; last_used is recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.auth import create_token, list_tokens, revoke_token, tokens_path
from hub.clock import FakeClock
from hub.core import Hub

from .conftest import Api


@pytest.fixture
def api_hub(fake_hub: Hub) -> Hub:
    """These tests move the clock past the token file's re-check interval."""
    return fake_hub


async def test_cli_revoke_takes_effect_on_running_server(api: Api, fake_clock: FakeClock) -> None:
    assert (await api.request("GET", "/api/states"))[0] == 200
    # the CLI runs in another process; here in the executor, the way it would touch the file
    assert await api.hub.async_add_executor_job(revoke_token, api.hub.config_dir, "operator")
    await fake_clock.async_advance(1.5)
    await api.hub.async_block_till_done()  # the server's watch may be reading the file right now
    status, body = await api.request("GET", "/api/states")
    assert status == 401
    assert body["error"]["message"] == "Invalid or revoked access token"
    async with api.session.ws_connect(api.url("/api/websocket")) as ws:
        await ws.receive_json(timeout=5)
        await ws.send_json({"type": "auth", "access_token": api.token})
        assert (await ws.receive_json(timeout=5))["type"] == "auth_invalid"


async def test_file_is_checked_twice_a_second_not_per_request(api: Api, fake_clock: FakeClock) -> None:
    token = await api.hub.async_add_executor_job(create_token, api.hub.config_dir, "console_sur")
    await fake_clock.async_advance(0.2)
    assert (await api.request("GET", "/api/states", token=token))[0] == 401  # not re-read yet
    await fake_clock.async_advance(0.4)  # the server's watch re-reads it every 0.5 s
    await api.hub.async_block_till_done()
    assert (await api.request("GET", "/api/states", token=token))[0] == 200


async def test_last_used_is_recorded(api: Api, fake_clock: FakeClock) -> None:
    assert list_tokens(api.hub.config_dir)[0].last_used is None
    assert (await api.request("GET", "/api/states"))[0] == 200
    await api.hub.async_block_till_done()
    expected = datetime.fromtimestamp(fake_clock.time(), UTC).isoformat(timespec="seconds")
    assert list_tokens(api.hub.config_dir)[0].last_used == expected


async def test_unreadable_token_file_fails_closed(api: Api, fake_clock: FakeClock) -> None:
    path = tokens_path(api.hub.config_dir)
    good = path.read_bytes()
    path.write_text("{garbage")
    await fake_clock.async_advance(1.5)
    await api.hub.async_block_till_done()  # the server's watch may be reading the file right now
    assert (await api.request("GET", "/api/states"))[0] == 401
    path.write_bytes(good)
    await fake_clock.async_advance(1.5)
    await api.hub.async_block_till_done()  # the server's watch may be reading the file right now
    assert (await api.request("GET", "/api/states"))[0] == 200
