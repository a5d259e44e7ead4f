"""Logins under load on the real site: concurrent guesses cannot pass the lockout, hashing is bounded."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter

import aiohttp

from hub.auth.passwords import DEFAULT_HASH_CONCURRENCY, DEFAULT_HASH_QUEUE
from hub.auth.sessions import EVENT_LOGIN_FAILED, SessionConfig
from hub.auth.users import get_users
from hub.core import Event, callback

from .conftest import MakeClient
from .site import PASSWORD, Site

_LOGIN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _login_form(session: aiohttp.ClientSession, site: Site) -> str:
    async with session.get(site.url("/login")) as resp:
        match = _LOGIN_CSRF.search(await resp.text())
    assert match
    return match.group(1)


async def _post_login(session: aiohttp.ClientSession, site: Site, csrf: str, user: str,
                      password: str) -> aiohttp.ClientResponse:
    async with session.post(site.url("/login"), allow_redirects=False, data={
            "username": user, "password": password, "csrf_token": csrf}) as resp:
        await resp.read()
        return resp


async def test_concurrent_wrong_passwords_cannot_pass_the_lockout(site: Site, make_client: MakeClient) -> None:
    limit = SessionConfig().account_max_failures
    failed: list[Event] = []

    @callback
    def collect(event: Event) -> None:
        failed.append(event)

    site.hub.bus.async_listen(EVENT_LOGIN_FAILED, collect)
    client = await make_client()
    csrf = await _login_form(client.session, site)
    responses = await asyncio.gather(*(
        _post_login(client.session, site, csrf, "op_local", "wrong password!") for _ in range(15)))
    statuses = Counter(resp.status for resp in responses)
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= statuses[401] <= limit, statuses
    assert statuses[429] == 15 - statuses[401]
    assert all(int(resp.headers["Retry-After"]) > 0 for resp in responses if resp.status == 429)
    await site.hub.async_block_till_done()
    checked = [e for e in failed if e.data["reason"] == "invalid_credentials"]
    assert len(checked) == statuses[401]  # a password was checked only for the 401s
    # and the account stays locked, even for the right password
    csrf = await _login_form(client.session, site)  # each answer renders a new form
    assert (await _post_login(client.session, site, csrf, "op_local", PASSWORD)).status == 429


async def test_full_hash_limiter_answers_429_at_once(site: Site, make_client: MakeClient) -> None:
    users = get_users(site.hub)
    assert users is not None
    release = threading.Event()
    holders = [asyncio.ensure_future(users.hash_limiter.async_run(release.wait, 10.0))
               for _ in range(DEFAULT_HASH_CONCURRENCY + DEFAULT_HASH_QUEUE)]
    try:
        await asyncio.sleep(0)
        assert users.hash_limiter.admitted == DEFAULT_HASH_CONCURRENCY + DEFAULT_HASH_QUEUE
        client = await make_client()
        csrf = await _login_form(client.session, site)
        resp = await _post_login(client.session, site, csrf, "op_local", PASSWORD)
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "1"
    finally:
        release.set()
        await asyncio.gather(*holders)
    assert users.hash_limiter.admitted == 0
    csrf = await _login_form(client.session, site)
    resp = await _post_login(client.session, site, csrf, "op_local", PASSWORD)
    assert resp.status == 303  # the refusal cost nothing: the account is not locked
