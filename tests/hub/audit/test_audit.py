"""The audit log: what is recorded, the hash chain, tampering found and named, the CLI, the REST view."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hacho.__main__ import main
from hub.audit import (
    ACTION_EXPORT,
    DATA_AUDIT,
    AuditLog,
    async_setup_audit,
    audit_record,
)
from hub.audit.cli import add_audit_cli, database_url
from hub.auth import async_setup_auth, passwords
from hub.auth.sessions import LoginError, get_sessions
from hub.auth.tokens import create_token
from hub.auth.users import add_user
from hub.clock import FakeClock
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Context, Hub, ServiceCall, callback
from hub.exceptions import Unauthorized
from hub.http import async_setup_http
from hub.http.access import ROLES_STAFF
from hub.http.const import KEY_HUB
from hub.http.view import HubView, request_context
from hub.recorder import async_setup_recorder
from tests.hub.recorder.conftest import pg_schema_url  # noqa: F401 - a fixture for db_url

PASSWORD = "correct horse battery"
CENTRES = (ControlCentre("local_police", "Local", ("centro",), True),
           ControlCentre("national_police", "National", ("tarajal",)))


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite by default; tests marked BOTH_DATABASES also run on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hacho.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


async def _start(config_dir: Path, db_url: str, clock: FakeClock | None = None) -> tuple[Hub, AuditLog]:
    hub = Hub(config_dir, clock=clock)
    hub.config = CoreConfig(control_centres=CENTRES)
    await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600})
    await async_setup_auth(hub)
    audit = await async_setup_audit(hub)
    await hub.async_start()
    for domain, service in (("bollard", "lower"), ("input_boolean", "turn_on")):
        hub.services.async_register(domain, service, callback(lambda call: None))
    hub.states.async_set("bollard.b_centro", "raised", {"area_id": "centro"})
    hub.states.async_set("bollard.b_tarajal", "raised", {"area_id": "tarajal"})
    return hub, audit


@pytest.fixture
async def site(config_dir: Path, db_url: str, fake_clock: FakeClock) -> AsyncIterator[tuple[Hub, AuditLog]]:
    for user_id, role, centre in (("op_l", "operator", "local_police"), ("sup_l", "supervisor", "local_police"),
                                  ("admin", "admin", "local_police"), ("op_n", "operator", "national_police")):
        add_user(config_dir, user_id, role=role, centre=centre, password=PASSWORD)
    hub, audit = await _start(config_dir, db_url, fake_clock)
    yield hub, audit
    if not hub.is_stopping:
        await hub.async_stop()


async def _activity(hub: Hub) -> None:
    """A login, a failed login, an allowed and a refused command, a non-audited call, an export."""
    sessions = get_sessions(hub)
    assert sessions is not None
    session, _ = await sessions.async_login("op_l", PASSWORD, ip="10.1.1.1")
    with pytest.raises(LoginError):
        await sessions.async_login("op_l", "not my password", ip="10.6.6.6")
    await hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_centro", "pin": "pin-7Q4X"},
                                  context=session.context())
    with pytest.raises(Unauthorized):
        await hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_tarajal"},
                                      context=session.context())
    await hub.services.async_call("input_boolean", "turn_on", {}, context=session.context())
    assert audit_record(hub, ACTION_EXPORT, context=session.context(), target="anpr/reads",
                        data={"rows": 12, "format": "csv", "password": "never"})
    audit = hub.data[DATA_AUDIT]
    await audit.async_flush()
    assert audit.pending == 0


@BOTH_DATABASES
async def test_entries_are_recorded_in_order(site: tuple[Hub, AuditLog]) -> None:
    hub, audit = site
    await _activity(hub)
    entries = list(reversed(await audit.async_query()))
    assert [(e["seq"], e["action"], e["user_id"], e["target"], e["outcome"]) for e in entries] == [
        (1, "login", "op_l", None, "ok"),
        (2, "login_failed", None, "op_l", "failed"),
        (3, "command", "op_l", "bollard.lower", "ok"),
        (4, "command_denied", "op_l", "bollard.lower", "denied"),
        (5, "export", "op_l", "anpr/reads", "ok"),
    ]
    assert entries[0]["data"]["ip"] == "10.1.1.1" and entries[0]["centre"] == "local_police"
    assert entries[2]["data"] == {"service_class": "actuation",
                                  "service_data": {"entity_id": "bollard.b_centro", "pin": "***"}}
    assert "not owned by 'local_police'" in entries[3]["data"]["reason"]
    assert entries[4]["data"] == {"rows": 12, "format": "csv", "password": "***"}
    text = json.dumps(entries)
    assert PASSWORD not in text and "not my password" not in text and "pin-7Q4X" not in text
    assert [e["seq"] for e in await audit.async_query(action="command")] == [3]
    result = await audit.async_verify()
    assert result.ok and result.entries == 5


async def _tamper(hub: Hub, sql: str) -> None:
    from sqlalchemy import text

    from hub.recorder import get_recorder

    await get_recorder(hub).async_db_job(lambda session: session.execute(text(sql)))


@BOTH_DATABASES
async def test_tampered_entry_is_named(site: tuple[Hub, AuditLog]) -> None:
    hub, audit = site
    await _activity(hub)
    await _tamper(hub, "UPDATE audit_log SET data = '{\"ip\":\"10.9.9.9\"}' WHERE seq = 2")
    result = await audit.async_verify()
    assert not result.ok
    assert (result.first_broken, result.entries) == (2, 1)
    assert "content does not match its hash" in (result.reason or "")


async def test_rechained_entry_breaks_the_next_link(site: tuple[Hub, AuditLog]) -> None:
    """Someone who also rewrites the hash of the entry they changed is caught at the next entry."""
    from hub.audit.chain import entry_hash
    from hub.audit.models import AuditEntry
    from hub.recorder import get_recorder

    hub, audit = site
    await _activity(hub)

    def rewrite(session: Any) -> None:
        row = session.get(AuditEntry, 3)
        row.target = "bollard.raise"
        row.hash = entry_hash(3, row, row.prev_hash)

    await get_recorder(hub).async_db_job(rewrite)
    result = await audit.async_verify()
    assert result.first_broken == 4
    assert "prev_hash does not match the hash of entry 3" in (result.reason or "")


async def test_deleted_entry_is_named(site: tuple[Hub, AuditLog]) -> None:
    hub, audit = site
    await _activity(hub)
    await _tamper(hub, "DELETE FROM audit_log WHERE seq = 3")
    result = await audit.async_verify()
    assert result.first_broken == 4 and result.reason == "entry 3 missing before it"


@BOTH_DATABASES
async def test_chain_continues_across_restarts(config_dir: Path, db_url: str) -> None:
    add_user(config_dir, "op_l", role="operator", centre="local_police", password=PASSWORD)
    hub, _audit = await _start(config_dir, db_url)
    await hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_centro"},
                                  context=Context(user_id="op_l", centre="local_police"))
    await hub.async_stop()  # the stop writes what is pending before the recorder closes
    hub, audit = await _start(config_dir, db_url)
    await hub.services.async_call("bollard", "lower", {"entity_id": "bollard.b_centro"})  # an automation
    entries = await audit.async_query()
    assert [(e["seq"], e["user_id"]) for e in entries] == [(2, None), (1, "op_l")]
    assert (await audit.async_verify()).entries == 2
    await hub.async_stop()


async def test_entries_wait_while_the_recorder_is_down(config_dir: Path, tmp_path: Path,
                                                       fake_clock: FakeClock) -> None:
    from hub.recorder import get_recorder

    hub, audit = await _start(config_dir, f"sqlite:///{tmp_path / 'a.db'}", fake_clock)
    recorder = get_recorder(hub)
    original = recorder.async_db_job
    failing = True

    async def flaky(fn: Any) -> Any:
        if failing:
            raise OSError("database unavailable")
        return await original(fn)

    recorder.async_db_job = flaky  # type: ignore[method-assign]
    audit.record("export", target="a")
    audit.record("export", target="b")
    await hub.async_block_till_done()
    assert audit.pending == 2
    failing = False
    await fake_clock.async_advance(5)
    await hub.async_block_till_done()
    assert audit.pending == 0
    assert [e["target"] for e in await audit.async_query()] == ["b", "a"]
    await hub.async_stop()


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hacho")
    add_audit_cli(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


async def test_cli_verify_names_the_first_broken_entry(config_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "site.db"
    (config_dir / "configuration.yaml").write_text(f"recorder:\n  db_url: sqlite:///{db}\n")
    assert database_url(config_dir) == f"sqlite:///{db}"
    add_user(config_dir, "op_l", role="operator", centre="local_police", password=PASSWORD)
    hub, _audit = await _start(config_dir, f"sqlite:///{db}")
    await _activity(hub)
    await hub.async_stop()
    args = _cli("audit", "verify", "-c", str(config_dir))
    assert args.func(args) == 0
    assert "Audit chain OK: 5 entries" in capsys.readouterr().out
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET user_id = 'someone_else' WHERE seq = 3")
    assert args.func(args) == 1
    assert "Audit chain BROKEN at entry 3: its content does not match its hash" in capsys.readouterr().err
    assert main(["audit", "verify", "-c", str(config_dir)]) == 1  # the `hacho` command
    assert "BROKEN at entry 3" in capsys.readouterr().err
    args = _cli("audit", "list", "-c", str(config_dir), "--limit", "2")
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "export" in lines[0]
    args = _cli("audit", "verify", "--db-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert args.func(args) == 2
    assert "does not exist" in capsys.readouterr().err


async def test_rest_view_for_supervisors(config_dir: Path, db_url: str) -> None:
    for user_id, role, centre in (("op_l", "operator", "local_police"), ("sup_l", "supervisor", "local_police"),
                                  ("sup_n", "supervisor", "national_police")):
        add_user(config_dir, user_id, role=role, centre=centre, password=PASSWORD)
    tokens = {u: create_token(config_dir, u, c, user_id=u)
              for u, c in (("op_l", "local_police"), ("sup_l", "local_police"), ("sup_n", "national_police"))}
    hub = Hub(config_dir)
    hub.config = CoreConfig(control_centres=CENTRES)
    await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600})
    await async_setup_auth(hub)
    http = await async_setup_http(hub, {"port": 0})
    audit = await async_setup_audit(hub)
    await hub.async_start()
    await http.async_start()
    audit.record("export", context=Context(user_id="op_l", centre="local_police"), target="anpr/reads")
    try:
        async with aiohttp.ClientSession() as client:
            async def get(user: str | None, path: str = "/api/audit") -> tuple[int, Any]:
                headers = {"Authorization": f"Bearer {tokens[user]}"} if user else {}
                async with client.get(f"{http.base_url}{path}", headers=headers) as resp:
                    return resp.status, await resp.json()

            assert (await get(None))[0] == 401
            assert (await get("op_l"))[0] == 403
            status, body = await get("sup_l")
            assert status == 200 and [e["target"] for e in body["entries"]] == ["anpr/reads"]
            status, body = await get("sup_n")
            assert status == 200 and body["entries"] == []  # another centre's entries
            assert (await get("sup_l", "/api/audit/verify"))[0] == 403
            status, body = await get("sup_l", "/api/audit?limit=x")
            assert status == 400 and "limit" in body["error"]["message"]
        views = await audit.async_query(action="view_sensitive")
        assert [(e["user_id"], e["target"]) for e in views] == [("sup_n", "audit_log"), ("sup_l", "audit_log")]
    finally:
        await hub.async_stop()


async def test_setup_needs_the_recorder(hub: Hub) -> None:
    from hub.exceptions import HubError

    with pytest.raises(HubError, match="needs the recorder"):
        await async_setup_audit(hub)
    assert not audit_record(hub, "export")


async def test_service_calls_without_audited_class_are_not_recorded(site: tuple[Hub, AuditLog]) -> None:
    hub, audit = site

    @callback
    def handler(call: ServiceCall) -> None:
        return None

    hub.services.async_register("notify", "send", handler)
    await hub.services.async_call("notify", "send", {}, context=Context(user_id="op_l", centre="local_police"))
    assert await audit.async_query() == []


class _ExportView(HubView):
    """A route that records an export, as the evidence and ANPR exports do."""

    url = "/api/test_export"
    name = "api:test_export"
    roles = ROLES_STAFF

    def __init__(self, recorded: asyncio.Event) -> None:
        self.recorded = recorded

    async def get(self, request: web.Request) -> dict[str, Any]:
        audit_record(request[KEY_HUB], ACTION_EXPORT, context=request_context(request), target="test/export")
        self.recorded.set()
        return {"ok": True}


async def test_a_request_that_records_an_entry_answers_only_after_its_commit(config_dir: Path, db_url: str) -> None:
    add_user(config_dir, "sup_l", role="supervisor", centre="local_police", password=PASSWORD)
    token = create_token(config_dir, "sup_l", "local_police", user_id="sup_l")
    hub = Hub(config_dir)
    hub.config = CoreConfig(control_centres=CENTRES)
    recorder = await async_setup_recorder(hub, {"db_url": db_url, "commit_interval": 3600})
    await async_setup_auth(hub)
    http = await async_setup_http(hub, {"port": 0})
    recorded = asyncio.Event()
    http.register_view(_ExportView(recorded))
    audit = await async_setup_audit(hub)
    await hub.async_start()
    await http.async_start()
    gate = threading.Event()
    blocked = hub.async_create_task(recorder.async_db_job(lambda _session: gate.wait(30)), "block the database")
    try:
        async with aiohttp.ClientSession() as client:
            async def export() -> int:
                async with client.get(f"{http.base_url}/api/test_export",
                                      headers={"Authorization": f"Bearer {token}"}) as resp:
                    return resp.status

            request = asyncio.ensure_future(export())
            await recorded.wait()  # the entry is recorded; the database cannot take it yet
            await asyncio.sleep(0.3)
            assert audit.pending == 1 and not request.done()  # no answer before the commit
            gate.set()
            assert await request == 200
            assert audit.pending == 0
        assert [e["target"] for e in await audit.async_query(action=ACTION_EXPORT)] == ["test/export"]
    finally:
        gate.set()
        await blocked
        await hub.async_stop()
