"""Long-lived tokens on disk: hashed, owner-only, atomic; the CLI functions and command."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from hub.auth import TokenError, create_token, list_tokens, revoke_token, tokens_path
from hub.cli.tokens import add_token_cli


def test_token_is_stored_hashed_and_owner_only(config_dir: Path) -> None:
    token = create_token(config_dir, "console_norte", centre="ceuta_norte")
    path = tokens_path(config_dir)
    raw = path.read_text()
    assert token not in raw
    stored = json.loads(raw)["tokens"]
    assert len(stored) == 1
    assert stored[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert stored[0]["name"] == "console_norte"
    assert stored[0]["user_id"] == "console_norte"
    assert stored[0]["centre"] == "ceuta_norte"
    assert stored[0]["last_used"] is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_tokens_are_unique_and_listed_without_secrets(config_dir: Path) -> None:
    first = create_token(config_dir, "a")
    second = create_token(config_dir, "b", user_id="agent_17")
    assert first != second
    infos = list_tokens(config_dir)
    assert [(info.name, info.user_id) for info in infos] == [("a", "a"), ("b", "agent_17")]
    assert "token_hash" not in infos[0].as_dict()
    assert infos[0].token_hash not in repr(infos[0])


def test_duplicate_and_bad_names_are_refused(config_dir: Path) -> None:
    create_token(config_dir, "a")
    with pytest.raises(TokenError, match="already exists"):
        create_token(config_dir, "a")
    with pytest.raises(TokenError, match="printable"):
        create_token(config_dir, "  ")


def test_revoke_by_name_or_id(config_dir: Path) -> None:
    create_token(config_dir, "a")
    create_token(config_dir, "b")
    b_id = next(info.id for info in list_tokens(config_dir) if info.name == "b")
    assert revoke_token(config_dir, "a") is True
    assert revoke_token(config_dir, b_id) is True
    assert revoke_token(config_dir, "a") is False
    assert list_tokens(config_dir) == []


def test_list_without_file_is_empty(config_dir: Path) -> None:
    assert list_tokens(config_dir) == []
    assert revoke_token(config_dir, "x") is False


def test_corrupt_file_names_the_file(config_dir: Path) -> None:
    path = tokens_path(config_dir)
    path.parent.mkdir()
    path.write_text("{broken")
    with pytest.raises(TokenError, match=r"auth_tokens\.json"):
        list_tokens(config_dir)


def _cli(config_dir: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="hacho")
    parser.add_argument("-c", "--config", default="unused")
    add_token_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["-c", str(config_dir), *argv])
    return int(args.func(args))


def test_cli_create_list_revoke(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config_dir, "token", "create", "console_sur", "--service-account", "console_sur",
                "--role", "operator", "--centre", "ceuta_sur") == 0
    token = capsys.readouterr().out.strip()
    assert list_tokens(config_dir)[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert _cli(config_dir, "token", "list") == 0
    listing = capsys.readouterr().out
    assert "console_sur" in listing and "centre=ceuta_sur" in listing and token not in listing
    assert _cli(config_dir, "token", "create", "console_sur", "--user", "console_sur") == 2
    assert "already exists" in capsys.readouterr().err
    assert _cli(config_dir, "token", "revoke", "console_sur") == 0
    assert _cli(config_dir, "token", "revoke", "console_sur") == 1
    assert list_tokens(config_dir) == []


def test_cli_config_after_subcommand(config_dir: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="hacho")
    parser.add_argument("-c", "--config", default=str(tmp_path / "elsewhere"))
    add_token_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["token", "-c", str(config_dir), "create", "x", "--service-account", "svc_x",
                              "--role", "operator", "--centre", "c"])
    assert args.func(args) == 0
    assert [info.name for info in list_tokens(config_dir)] == ["x"]
    assert not os.path.exists(tmp_path / "elsewhere")
