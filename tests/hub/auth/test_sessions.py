"""Sessions: password login, lockout per account and per address, idle/absolute timeouts, CSRF, the cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub.auth import passwords
from hub.auth.sessions import (
    EVENT_LOGIN,
    EVENT_LOGIN_FAILED,
    EVENT_LOGOUT,
    LoginError,
    LoginThrottle,
    SessionConfig,
    SessionManager,
    async_setup_sessions,
)
from hub.auth.users import add_user, async_get_users, set_password
from hub.clock import FakeClock
from hub.core import Event, Hub, callback
from hub.http import KEY_USER, async_setup_http
from hub.http.access import ROLES_ALL
from hub.http.session import (
    COOKIE_NAME,
    CSRF_HEADER,
    KEY_SESSION,
    install_session_middleware,
    set_session_cookie,
)

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


@pytest.fixture
def events(fake_hub: Hub) -> list[Event]:
    found: list[Event] = []

    @callback
    def collect(event: Event) -> None:
        found.append(event)

    for event_type in (EVENT_LOGIN, EVENT_LOGIN_FAILED, EVENT_LOGOUT):
        fake_hub.bus.async_listen(event_type, collect)
    return found


@pytest.fixture
async def manager(fake_hub: Hub, config_dir: Path) -> SessionManager:
    for user_id, centre in (("op1", "local_police"), ("op2", "national_police")):
        await fake_hub.async_add_executor_job(
            lambda u=user_id, c=centre: add_user(config_dir, u, role="operator", centre=c, password=PASSWORD))
    return await async_setup_sessions(fake_hub)


async def test_login_validate_logout(manager: SessionManager, events: list[Event]) -> None:
    session, token = await manager.async_login("OP1", PASSWORD, ip="10.0.0.5", user_agent="Chromium")
    assert (session.user_id, session.centre, session.role.value) == ("op1", "local_police", "operator")
    assert token not in repr(session) and session.csrf_token not in repr(session)
    assert manager.validate(token) is session
    assert manager.validate("forged") is None
    user = await manager.async_authenticate(token)
    assert user is not None and (user.id, user.centre) == ("op1", "local_police")
    assert [(e.event_type, e.data["user_id"], e.context.user_id) for e in events] == [
        (EVENT_LOGIN, "op1", "op1")]
    assert token not in str(events[0].data)
    assert manager.logout(token)
    assert manager.validate(token) is None
    assert events[-1].event_type == EVENT_LOGOUT and events[-1].data["reason"] == "logout"


async def test_wrong_password_and_unknown_user_look_the_same(manager: SessionManager,
                                                             events: list[Event]) -> None:
    messages = []
    for name, password in (("op1", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(LoginError) as info:
            await manager.async_login(name, password, ip="10.0.0.5")
        assert info.value.reason == "invalid_credentials"
        messages.append(str(info.value))
    assert messages[0] == messages[1] == "Wrong user name or password"
    assert [(e.event_type, e.data["username"], e.data["reason"]) for e in events] == [
        (EVENT_LOGIN_FAILED, "op1", "invalid_credentials"), (EVENT_LOGIN_FAILED, "nobody", "invalid_credentials")]
    assert all(PASSWORD not in str(e.data) for e in events)


async def test_account_lockout_backs_off(manager: SessionManager, fake_clock: FakeClock,
                                         events: list[Event]) -> None:
    for attempt in range(5):
        with pytest.raises(LoginError) as info:
            await manager.async_login("op1", "wrong password!", ip=f"10.0.0.{attempt}")
    assert info.value.retry_after == 60  # the fifth failure locks the account
    with pytest.raises(LoginError, match="try again in 60 s") as info:
        await manager.async_login("op1", PASSWORD, ip="10.9.9.9")  # even the right password, elsewhere
    assert info.value.reason == "locked_out"
    assert events[-1].data["reason"] == "locked_out"
    await manager.async_login("op2", PASSWORD, ip="10.0.0.1")  # other accounts are fine
    await fake_clock.async_advance(61)
    for _ in range(5):
        with pytest.raises(LoginError):
            await manager.async_login("op1", "wrong password!", ip="10.0.0.1")
    with pytest.raises(LoginError) as info:
        await manager.async_login("op1", PASSWORD, ip="10.0.0.1")
    assert info.value.retry_after == 120  # the second lock in the window doubles
    await fake_clock.async_advance(121)
    session, _ = await manager.async_login("op1", PASSWORD, ip="10.0.0.1")
    assert session.user_id == "op1"


async def test_address_lockout(manager: SessionManager) -> None:
    for attempt in range(20):
        with pytest.raises(LoginError):
            await manager.async_login(f"guess{attempt}", "wrong password!", ip="198.51.100.7")
    with pytest.raises(LoginError) as info:
        await manager.async_login("op1", PASSWORD, ip="198.51.100.7")
    assert info.value.reason == "locked_out"
    session, _ = await manager.async_login("op1", PASSWORD, ip="10.0.0.1")
    assert session.user_id == "op1"


async def test_throttle_forgives_after_a_quiet_window(fake_clock: FakeClock) -> None:
    throttle = LoginThrottle(fake_clock, SessionConfig(account_max_failures=2, failure_window=100, lockout=10))
    assert throttle.record_failure("a", None) == 0
    assert throttle.record_failure("a", None) == 10
    assert throttle.retry_after("A", None) == 10
    await fake_clock.async_advance(150)  # a quiet window
    throttle.record_failure("a", None)
    assert throttle.record_failure("a", None) == 10  # not doubled
    throttle.record_success("a", None)
    assert throttle.retry_after("a", None) == 0


async def test_throttle_counts_attempts_before_their_check(fake_clock: FakeClock) -> None:
    throttle = LoginThrottle(fake_clock, SessionConfig(account_max_failures=3, ip_max_failures=4, lockout=10))
    assert [throttle.begin("a", "10.0.0.1") for _ in range(4)] == [0, 0, 0, 10]  # 3 in flight fill it
    throttle.release("a", "10.0.0.1")  # one was not checked after all (the hash limiter was full)
    assert throttle.begin("a", "10.0.0.1") == 0
    assert throttle.record_failure("a", "10.0.0.1") == 0
    assert throttle.record_failure("a", "10.0.0.1") == 0
    assert throttle.record_failure("a", "10.0.0.1") == 10  # the third failure locks
    assert throttle.begin("a", "10.0.0.9") == 10
    assert throttle.begin("b", "10.0.0.1") == 0  # the address has 3 failures of 4
    assert throttle.begin("c", "10.0.0.1") == 10  # ... and one attempt in flight
    throttle.record_success("b", "10.0.0.1")
    assert throttle.begin("c", "10.0.0.1") == 0  # a success gives the address its attempt back


async def test_idle_timeout(manager: SessionManager, fake_clock: FakeClock, events: list[Event]) -> None:
    session, token = await manager.async_login("op1", PASSWORD)
    await fake_clock.async_advance(29 * 60)
    assert manager.validate(token) is session  # seen: the idle clock restarts
    await fake_clock.async_advance(29 * 60)
    assert manager.validate(token) is session
    await fake_clock.async_advance(30 * 60)
    assert manager.validate(token) is None
    assert events[-1].data == {"user_id": "op1", "centre": "local_police", "session_id": session.id,
                               "reason": "idle_timeout"}


async def test_absolute_timeout(manager: SessionManager, fake_clock: FakeClock) -> None:
    _, token = await manager.async_login("op1", PASSWORD)
    for _ in range(12 * 6 - 1):
        await fake_clock.async_advance(10 * 60)
        assert manager.validate(token) is not None
    await fake_clock.async_advance(10 * 60)
    assert manager.validate(token) is None


async def test_expired_sessions_are_purged_by_the_timer(manager: SessionManager, fake_clock: FakeClock,
                                                        events: list[Event]) -> None:
    await manager.async_login("op1", PASSWORD)
    await fake_clock.async_advance(31 * 60)
    assert manager.sessions() == []
    assert events[-1].data["reason"] == "idle_timeout"


async def test_changed_user_loses_sessions(manager: SessionManager, fake_hub: Hub, config_dir: Path,
                                           events: list[Event]) -> None:
    _, token1 = await manager.async_login("op1", PASSWORD)
    _, token2 = await manager.async_login("op2", PASSWORD)
    await fake_hub.async_add_executor_job(set_password, config_dir, "op1", "another long secret")
    await (await async_get_users(fake_hub)).async_load()
    assert manager.validate(token1) is None
    assert manager.validate(token2) is not None
    assert events[-1].data["reason"] == "user_changed"
    await (await async_get_users(fake_hub)).async_set_disabled("op2", True)
    assert manager.validate(token2) is None
    assert events[-1].data["reason"] == "user_disabled"


async def test_revoke_and_session_limit(fake_hub: Hub, config_dir: Path) -> None:
    await fake_hub.async_add_executor_job(
        lambda: add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD))
    manager = SessionManager(fake_hub, await async_get_users(fake_hub), SessionConfig(max_sessions_per_user=2))
    _, token1 = await manager.async_login("op1", PASSWORD)
    second, token2 = await manager.async_login("op1", PASSWORD)
    _, token3 = await manager.async_login("op1", PASSWORD)
    assert manager.validate(token1) is None  # the oldest went
    assert manager.revoke(second.id)
    assert not manager.revoke(second.id)
    assert manager.validate(token2) is None and manager.validate(token3) is not None
    assert manager.revoke_user("op1") == 1


async def test_csrf_check(manager: SessionManager) -> None:
    session, _ = await manager.async_login("op1", PASSWORD)
    other, _ = await manager.async_login("op2", PASSWORD)
    assert manager.check_csrf(session, session.csrf_token)
    assert not manager.check_csrf(session, other.csrf_token)
    assert not manager.check_csrf(session, None)
    assert not manager.check_csrf(session, "")


@pytest.fixture
async def web_app(fake_hub: Hub, manager: SessionManager) -> AsyncIterator[str]:
    """The hub's HTTP server with sessions installed, a login route and a state-changing route."""
    http = await async_setup_http(fake_hub, {"port": 0})

    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        session, token = await manager.async_login(str(form["username"]), str(form["password"]),
                                                   ip=request.remote)
        response = web.json_response({"csrf_token": session.csrf_token})
        set_session_cookie(response, token, request=request)
        return response

    async def me(request: web.Request) -> web.Response:
        return web.json_response({"user": request[KEY_USER].id, "session": request[KEY_SESSION].id})

    async def change(request: web.Request) -> web.Response:
        return web.json_response({"changed_by": request[KEY_USER].id})

    http.allow_unauthenticated(http.app.router.add_post("/login", login), ROLES_ALL)
    http.declare_route(http.app.router.add_get("/me", me, allow_head=False), ROLES_ALL)
    http.declare_route(http.app.router.add_post("/change", change), ROLES_ALL)
    install_session_middleware(http, manager)
    await http.async_start()
    yield http.base_url
    await http.async_stop()


async def test_cookie_session_and_csrf_over_http(web_app: str, fake_clock: FakeClock) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as client:
        async with client.get(f"{web_app}/me") as resp:
            assert resp.status == 401
        async with client.post(f"{web_app}/login", data={"username": "op1", "password": PASSWORD}) as resp:
            assert resp.status == 200
            csrf = (await resp.json())["csrf_token"]
            cookie = resp.headers["Set-Cookie"]
            assert cookie.startswith(f"{COOKIE_NAME}=")
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
            assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
        async with client.get(f"{web_app}/me") as resp:
            assert resp.status == 200
            assert (await resp.json())["user"] == "op1"
        async with client.post(f"{web_app}/change", json={}) as resp:
            assert resp.status == 403
            assert (await resp.json())["error"]["code"] == "csrf_failed"
        async with client.post(f"{web_app}/change", json={}, headers={CSRF_HEADER: "wrong"}) as resp:
            assert resp.status == 403
        async with client.post(f"{web_app}/change", data={"csrf_token": csrf}) as resp:
            assert resp.status == 200
        async with client.post(f"{web_app}/change", json={}, headers={CSRF_HEADER: csrf}) as resp:
            assert resp.status == 200
            assert (await resp.json()) == {"changed_by": "op1"}
        await fake_clock.async_advance(31 * 60)
        async with client.get(f"{web_app}/me") as resp:
            assert resp.status == 401
            assert f"{COOKIE_NAME}=\"\"" in resp.headers.get("Set-Cookie", "")


def test_session_cookie_is_secure_over_tls() -> None:
    response = web.Response()
    set_session_cookie(response, "token", secure=True)
    cookie: Any = response.cookies[COOKIE_NAME]
    assert cookie["secure"] is True and cookie["httponly"] is True and cookie["samesite"] == "Strict"


# ---- persistence across restarts


async def _restarted(config_dir: Path, clock: FakeClock,
                     logouts: list[Event] | None = None) -> tuple[Hub, SessionManager]:
    hub = Hub(config_dir, clock=clock)
    await hub.async_start()
    if logouts is not None:
        hub.bus.async_listen(EVENT_LOGOUT, logouts.append)
    return hub, await async_setup_sessions(hub)


async def test_sessions_survive_a_restart(manager: SessionManager, fake_hub: Hub, fake_clock: FakeClock,
                                          config_dir: Path) -> None:
    session, token = await manager.async_login("op1", PASSWORD, ip="10.0.0.7")
    _, token2 = await manager.async_login("op2", PASSWORD)
    assert manager.logout(token2)
    await fake_hub.async_stop()  # the final write flushes the pending save
    stored = (config_dir / ".storage" / "auth.sessions.json").read_text()
    assert token not in stored and token2 not in stored  # only hashes of the cookie tokens
    assert (config_dir / ".storage" / "auth.sessions.json").stat().st_mode & 0o077 == 0

    hub, restored = await _restarted(config_dir, fake_clock)
    try:
        again = restored.validate(token)
        assert again is not None and again.id == session.id and again.centre == "local_police"
        assert restored.check_csrf(again, session.csrf_token)  # the page's CSRF token still works
        assert restored.validate(token2) is None  # a logout stays a logout
        assert [s.user_id for s in restored.sessions()] == ["op1"]
    finally:
        await hub.async_stop()


async def test_restart_drops_expired_and_changed_sessions(manager: SessionManager, fake_hub: Hub,
                                                          fake_clock: FakeClock, config_dir: Path) -> None:
    _, token1 = await manager.async_login("op1", PASSWORD)
    _, token2 = await manager.async_login("op2", PASSWORD)
    await fake_hub.async_stop()
    # while the hub is down: op1's password is changed with the CLI, and 20 minutes pass
    set_password(config_dir, "op1", "another long secret")  # the hub (and its executor) is stopped
    await fake_clock.async_advance(20 * 60)
    logouts: list[Event] = []
    hub, restored = await _restarted(config_dir, fake_clock, logouts)
    try:
        assert restored.validate(token1) is None
        await hub.async_block_till_done()
        assert [(e.data["user_id"], e.data["reason"]) for e in logouts] == [("op1", "user_changed")]
        assert restored.validate(token2) is not None
        await fake_clock.async_advance(31 * 60)  # idle from here on
        assert restored.validate(token2) is None
        await hub.async_block_till_done()
        assert [e.data["reason"] for e in logouts] == ["user_changed", "idle_timeout"]
    finally:
        await hub.async_stop()
    hub, restored = await _restarted(config_dir, fake_clock)
    try:
        assert restored.sessions() == []
    finally:
        await hub.async_stop()


async def test_unreadable_session_file_means_logging_in_again(config_dir: Path, fake_clock: FakeClock,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    (config_dir / ".storage").mkdir(exist_ok=True)
    (config_dir / ".storage" / "auth.sessions.json").write_text("{not json")
    hub, restored = await _restarted(config_dir, fake_clock)
    try:
        assert restored.sessions() == []
        assert "is not valid JSON" in caplog.text
        assert list((config_dir / ".storage").glob("auth.sessions.json.corrupt-*"))  # kept aside, not lost
    finally:
        await hub.async_stop()


async def test_sessions_can_stay_in_memory(fake_hub: Hub, config_dir: Path) -> None:
    await fake_hub.async_add_executor_job(
        lambda: add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD))
    manager = SessionManager(fake_hub, await async_get_users(fake_hub), SessionConfig(persist=False))
    await manager.async_restore()
    await manager.async_login("op1", PASSWORD)
    await fake_hub.async_stop()
    assert not (config_dir / ".storage" / "auth.sessions.json").exists()
