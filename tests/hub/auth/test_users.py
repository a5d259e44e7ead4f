"""Users on disk (argon2id, owner-only, atomic), the hub's UserStore, and the `hacho user` command."""

from __future__ import annotations

import argparse
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hacho.__main__ import main
from hub.auth import passwords
from hub.auth.passwords import PasswordError, check_password_rules, hash_password, verify_password
from hub.auth.users import (
    Role,
    UserError,
    UserStore,
    add_user,
    list_users,
    remove_user,
    set_disabled,
    set_password,
    users_path,
)
from hub.cli.users import add_user_cli
from hub.clock import FakeClock
from hub.core import Hub

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    """argon2id with a small cost, so the suite stays fast (the defaults are tested below)."""
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


def test_default_hash_is_argon2id_with_rfc9106_cost() -> None:
    passwords.configure_hasher()
    digest = hash_password(PASSWORD)
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(digest, PASSWORD)
    assert not verify_password(digest, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)


def test_password_rules() -> None:
    check_password_rules(PASSWORD, username="op1")
    with pytest.raises(PasswordError, match="at least 10"):
        check_password_rules("short")
    with pytest.raises(PasswordError, match="user name"):
        check_password_rules("operator_01", username="Operator_01")


def test_user_is_stored_hashed_and_owner_only(config_dir: Path) -> None:
    user = add_user(config_dir, "OP1", role="operator", centre="local_police", password=PASSWORD, name="Ana")
    assert (user.id, user.role, user.centre, user.name) == ("op1", Role.OPERATOR, "local_police", "Ana")
    path = users_path(config_dir)
    raw = path.read_text()
    assert PASSWORD not in raw
    stored = json.loads(raw)
    assert stored["key"] == "auth_users" and stored["version"] == 1
    assert stored["data"]["users"][0]["password_hash"].startswith("$argon2id$")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert user.password_hash not in repr(user)
    assert "password_hash" not in user.as_dict()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_add_refuses_bad_input(config_dir: Path) -> None:
    add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD)
    with pytest.raises(UserError, match="already exists"):
        add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD)
    with pytest.raises(UserError, match="Unknown role 'janitor'"):
        add_user(config_dir, "op2", role="janitor", centre="local_police", password=PASSWORD)
    with pytest.raises(UserError, match="Unknown control centre 'harbour'; configured: local_police"):
        add_user(config_dir, "op2", role="operator", centre="harbour", password=PASSWORD,
                 known_centres=["local_police"])
    with pytest.raises(UserError, match="needs a password"):
        add_user(config_dir, "op2", role="operator", centre="local_police")
    with pytest.raises(UserError, match="User id must be"):
        add_user(config_dir, "a b", role="operator", centre="local_police", password=PASSWORD)
    agency = add_user(config_dir, "bomberos", role="agency", centre="local_police", webhooks=["fire_in"])
    assert agency.webhooks == ("fire_in",) and not agency.can_log_in


def test_password_change_disable_and_remove(config_dir: Path) -> None:
    first = add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD)
    changed = set_password(config_dir, "op1", "another long secret")
    assert changed.password_hash != first.password_hash
    assert verify_password(changed.password_hash, "another long secret")
    assert set_disabled(config_dir, "op1", True).disabled
    assert not list_users(config_dir)[0].can_log_in
    remove_user(config_dir, "op1")
    assert list_users(config_dir) == []
    with pytest.raises(UserError, match="No user 'op1'"):
        remove_user(config_dir, "op1")


async def test_store_verifies_and_follows_file_changes(config_dir: Path, fake_clock: FakeClock,
                                                       fake_hub: Hub) -> None:
    add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD)
    store = UserStore(fake_hub)
    await store.async_load()
    changes: list[tuple[set[str], set[str]]] = []
    store.async_listen(lambda old, new: changes.append((set(old), set(new))))
    assert (await store.async_verify("OP1", PASSWORD)) is not None
    assert await store.async_verify("op1", "wrong password!") is None
    assert await store.async_verify("nobody", PASSWORD) is None
    # the CLI adds a user while the hub runs: known after the check interval
    await fake_hub.async_add_executor_job(
        lambda: add_user(config_dir, "op2", role="operator", centre="local_police", password=PASSWORD))
    await store.async_maybe_reload()
    assert store.get("op2") is None  # checked less than a second ago
    await fake_clock.async_advance(1.5)
    await store.async_maybe_reload()
    assert store.get("op2") is not None
    assert changes == [({"op1"}, {"op1", "op2"})]
    await store.async_set_disabled("op1", True)
    assert await store.async_verify("op1", PASSWORD) is None


async def test_unreadable_file_fails_closed(config_dir: Path, fake_hub: Hub) -> None:
    add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD)
    users_path(config_dir).write_text("{not json")
    store = UserStore(fake_hub)
    await store.async_load()
    assert store.broken and store.users == []
    assert await store.async_verify("op1", PASSWORD) is None


async def test_store_upgrades_old_hashes_at_login(config_dir: Path, fake_hub: Hub) -> None:
    add_user(config_dir, "op1", role="operator", centre="local_police", password=PASSWORD)
    old_hash = list_users(config_dir)[0].password_hash
    passwords.configure_hasher(time_cost=2, memory_cost=1024, parallelism=1)
    store = UserStore(fake_hub)
    await store.async_load()
    assert await store.async_verify("op1", PASSWORD) is not None
    new_hash = list_users(config_dir)[0].password_hash
    assert new_hash != old_hash and ",t=2," in new_hash


def _cli(config_dir: Path, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hacho")
    add_user_cli(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args([*argv[:2], *argv[2:], "-c", str(config_dir)])


def test_cli_add_passwd_list(config_dir: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    (config_dir / "configuration.yaml").write_text(
        "hub:\n  control_centres:\n    - id: local_police\n    - id: national_police\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = _cli(config_dir, "user", "add", "op1", "--role", "operator", "--centre", "national_police",
                "--password-stdin")
    assert args.func(args) == 0
    assert verify_password(list_users(config_dir)[0].password_hash, PASSWORD)
    args = _cli(config_dir, "user", "add", "op2", "--role", "operator", "--centre", "harbour", "--no-password")
    assert args.func(args) == 1
    assert "Unknown control centre 'harbour'" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("brand new password\n"))
    args = _cli(config_dir, "user", "passwd", "op1", "--password-stdin")
    assert args.func(args) == 0
    assert verify_password(list_users(config_dir)[0].password_hash, "brand new password")
    args = _cli(config_dir, "user", "list")
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "op1  role=operator  centre=national_police  login=password" in out
    assert "argon2" not in out
    assert main(["user", "disable", "op1", "-c", str(config_dir)]) == 0  # the `hacho` command
    assert list_users(config_dir)[0].disabled
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    args = _cli(config_dir, "user", "passwd", "op1", "--password-stdin")
    assert args.func(args) == 1
    assert "at least 10" in capsys.readouterr().err
