"""`hacho token create` needs a user or a service account with a role, and every user and token change made
from the command line lands in the hash-chained audit log, as the web's changes do."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hacho.__main__ import main
from hub.audit.chain import row_as_dict, verify_chain
from hub.audit.cli import database_url
from hub.audit.models import AuditEntry
from hub.auth import passwords
from hub.auth.tokens import list_tokens
from hub.auth.users import list_users
from hub.recorder.engine import create_db_engine

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes() -> Any:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


@pytest.fixture
def site(config_dir: Path) -> Path:
    (config_dir / "configuration.yaml").write_text(
        "hub:\n  control_centres:\n    - id: local_police\n    - id: national_police\n")
    return config_dir


def _entries(config_dir: Path) -> list[dict[str, Any]]:
    engine = create_db_engine(database_url(config_dir))
    try:
        with Session(engine) as session:
            assert verify_chain(session).ok
            return [row_as_dict(row) for row in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
    finally:
        engine.dispose()


def _hacho(site: Path, *argv: str) -> int:
    return main([*argv[:2], "-c", str(site), *argv[2:]])


def test_token_create_needs_a_user_or_a_service_account(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        _hacho(site, "token", "create", "--name", "ops")  # the half-working token of before
    assert refused.value.code == 2
    assert "--user" in capsys.readouterr().err and list_tokens(site) == []
    assert _hacho(site, "token", "create", "--name", "ops", "--user", "nobody") == 2
    assert "no user 'nobody'" in capsys.readouterr().err and list_tokens(site) == []
    assert _hacho(site, "token", "create", "--name", "ops", "--service-account", "sync") == 2
    assert "--role" in capsys.readouterr().err and list_users(site) == []
    # a service account: a user without a password (no login), with the role and centre given
    assert _hacho(site, "token", "create", "--name", "bomberos", "--service-account", "bomberos_sync",
                  "--role", "agency", "--centre", "local_police") == 0
    (account,) = list_users(site)
    assert (account.id, account.role.value, account.centre, account.can_log_in) == (
        "bomberos_sync", "agency", "local_police", False)
    (token,) = list_tokens(site)
    assert (token.user_id, token.centre) == ("bomberos_sync", "local_police")
    refusals = [e for e in _entries(site) if e["outcome"] == "refused"]
    assert [e["target"] for e in refusals] == ["token/ops", "token/ops"]


def test_every_cli_user_and_token_change_is_audited(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert _hacho(site, "user", "add", "ana", "--role", "operator", "--centre", "local_police",
                  "--password-stdin") == 0
    assert _hacho(site, "token", "create", "--name", "ana-console", "--user", "ana") == 0
    assert list_tokens(site)[0].user_id == "ana" and list_tokens(site)[0].centre == "local_police"
    assert _hacho(site, "token", "create", "--name", "x", "--user", "ana", "--centre", "national_police") == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("brand new password\n"))
    assert _hacho(site, "user", "passwd", "ana", "--password-stdin") == 0
    assert _hacho(site, "user", "role", "ana", "supervisor") == 0
    assert list_users(site)[0].role.value == "supervisor"
    assert _hacho(site, "user", "disable", "ana") == 0
    assert _hacho(site, "token", "revoke", "--name", "ana-console") == 0
    assert _hacho(site, "user", "remove", "ana") == 0
    assert _hacho(site, "user", "remove", "ana") == 1  # refused: no such user
    entries = _entries(site)
    changes = [(e["action"], e["target"], e["outcome"], e["data"].get("change")) for e in entries]
    assert changes == [
        ("user_change", "user/ana", "ok", "add"),
        ("token_change", "token/ana-console", "ok", "create"),
        ("token_change", "token/x", "refused", "create"),
        ("user_change", "user/ana", "ok", "passwd"),
        ("user_change", "user/ana", "ok", "role"),
        ("user_change", "user/ana", "ok", "disable"),
        ("token_change", "token/ana-console", "ok", "revoke"),
        ("user_change", "user/ana", "ok", "remove"),
        ("user_change", "user/ana", "refused", "remove"),
    ]
    assert all(e["user_id"].startswith("cli:") and e["data"]["via"] == "cli" for e in entries)
    assert entries[0]["data"]["role"] == "operator" and entries[0]["centre"] == "local_police"
    assert entries[4]["data"]["role"] == "supervisor"
    assert PASSWORD not in str(entries) and "brand new password" not in str(entries)
