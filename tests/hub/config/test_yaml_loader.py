"""Tests of the YAML loader: locations, tags, secrets, includes, duplicate keys and syntax errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hub.config import NodeDict, NodeList, NodeStr, Secrets, get_location, load_yaml
from hub.exceptions import ConfigError


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A relative config dir `config/` (the cwd is tmp_path), so messages show paths as given."""
    monkeypatch.chdir(tmp_path)
    path = Path("config")
    path.mkdir()
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_nodes_carry_file_and_line(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        hub:
          name: Ceuta
          ports:
            - 502
            - tcp
        """)
    data = load_yaml(path)
    assert isinstance(data, NodeDict)
    assert get_location(data) == ("config/configuration.yaml", 1)
    hub = data["hub"]
    assert isinstance(hub, NodeDict)
    assert isinstance(hub["name"], NodeStr)
    assert get_location(hub["name"]) == ("config/configuration.yaml", 2)
    assert hub["name"].__line__ == 2
    assert hub["name"].__config_file__ == "config/configuration.yaml"
    ports = hub["ports"]
    assert isinstance(ports, NodeList)
    assert get_location(ports) == ("config/configuration.yaml", 4)
    # An int has no location of its own: the list remembers the line of each item.
    assert get_location(ports, 0) == ("config/configuration.yaml", 4)
    assert get_location(ports, 1) == ("config/configuration.yaml", 5)
    assert get_location(42) is None
    # Keys are plain strings.
    assert all(type(key) is str for key in hub)


def test_key_line_points_at_the_key(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        modbus:
          host: plc.local

          port: 502
          timeout:
            seconds: 3
        """)
    modbus = load_yaml(path)["modbus"]
    assert modbus.key_line("port") == 4
    assert modbus.key_line("timeout") == 5
    assert modbus.key_line("missing") is None
    assert get_location(modbus, "port") == ("config/configuration.yaml", 4)
    # An unknown key falls back to the mapping itself.
    assert get_location(modbus, "missing") == ("config/configuration.yaml", 2)


def test_empty_file_is_an_empty_mapping(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", "# nothing yet\n")
    data = load_yaml(path)
    assert data == {}
    assert get_location(data) == ("config/configuration.yaml", 1)


def test_yaml_12_numbers_and_times(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        address: 0100
        octal: 0o17
        hex: 0x1F
        at: 12:30:00
        short: 12:30
        big: 1_000
        exp: 1e3
        neg: -2.5
        flag: on
        empty: ~
        """)
    data = load_yaml(path)
    assert data["address"] == 100
    assert data["octal"] == 15
    assert data["hex"] == 31
    assert data["at"] == "12:30:00"
    assert data["short"] == "12:30"
    assert data["big"] == 1000
    assert data["exp"] == 1000.0
    assert data["neg"] == -2.5
    assert data["flag"] is True
    assert data["empty"] is None


def test_merge_keys_may_be_overridden(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        base: &base
          host: plc.local
          port: 502
        plc_2:
          <<: *base
          port: 1502
        """)
    data = load_yaml(path)
    assert data["plc_2"] == {"host": "plc.local", "port": 1502}
    assert data["plc_2"].key_line("port") == 6


def test_duplicate_key_names_both_lines(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        modbus:
          port: 502
          host: a
          port: 503
        """)
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == "config/configuration.yaml:4: duplicate key 'port' (first defined at line 2)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\n  b: 2\n", "config/configuration.yaml:2:4: invalid YAML: mapping values are not allowed"),
        ("a: [1, 2\nb: 3\n", "config/configuration.yaml:2:2: invalid YAML:"),
        ("a: !nope x\n", "config/configuration.yaml:1:4: unknown tag '!nope'"),
        ("a: 1\n---\nb: 2\n", "config/configuration.yaml:2:1: invalid YAML:"),
        ("a: 'unclosed\n", "config/configuration.yaml:2:1: invalid YAML:"),
    ],
)
def test_syntax_errors_name_file_line_column(cfg: Path, text: str, expected: str) -> None:
    path = cfg / "configuration.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value).startswith(expected), str(err.value)


def test_missing_file_and_bad_encoding(cfg: Path) -> None:
    with pytest.raises(ConfigError, match=r"^config/nope\.yaml: file not found$"):
        load_yaml(cfg / "nope.yaml")
    (cfg / "latin1.yaml").write_bytes("name: Ceut\xe1\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"^config/latin1\.yaml: not valid UTF-8"):
        load_yaml(cfg / "latin1.yaml")


# --------------------------------------------------------------------------- secrets


def test_secret_from_secrets_yaml(cfg: Path) -> None:
    write(cfg / "secrets.yaml", """
        db_password: hunter2
        mqtt_port: 8883
        """)
    path = write(cfg / "configuration.yaml", """
        recorder:
          password: !secret db_password
          port: !secret mqtt_port
        """)
    recorder = load_yaml(path)["recorder"]
    assert recorder["password"] == "hunter2"
    assert recorder["port"] == 8883
    # The secret is located where it is used, and marked so errors never print it.
    assert get_location(recorder["password"]) == ("config/configuration.yaml", 2)
    assert recorder["password"].__secret__ is True


def test_missing_secret_is_a_clear_error(cfg: Path) -> None:
    write(cfg / "secrets.yaml", "other: x\n")
    path = write(cfg / "configuration.yaml", """
        recorder:
          password: !secret db_password
        """)
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == (
        "config/configuration.yaml:2: secret 'db_password' not found (searched config/secrets.yaml)"
    )


def test_missing_secret_without_any_secrets_file(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", "password: !secret db_password\n")
    with pytest.raises(ConfigError, match=r"^config/configuration\.yaml:1: secret 'db_password' not found "
                                          r"\(searched config/secrets\.yaml \(absent\)\)$"):
        load_yaml(path)


def test_secrets_are_searched_upwards_to_the_root(cfg: Path) -> None:
    write(cfg / "secrets.yaml", "token: root-token\nshared: root\n")
    write(cfg / "integrations" / "secrets.yaml", "shared: nearer\n")
    write(cfg / "integrations" / "deep" / "plc.yaml", """
        token: !secret token
        shared: !secret shared
        """)
    path = write(cfg / "configuration.yaml", "plc: !include integrations/deep/plc.yaml\n")
    plc = load_yaml(path, Secrets(cfg))["plc"]
    assert plc == {"token": "root-token", "shared": "nearer"}


def test_secret_not_found_lists_every_file_searched(cfg: Path) -> None:
    write(cfg / "secrets.yaml", "a: 1\n")
    write(cfg / "sub" / "secrets.yaml", "b: 2\n")
    write(cfg / "sub" / "x.yaml", "value: !secret c\n")
    path = write(cfg / "configuration.yaml", "x: !include sub/x.yaml\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == (
        "config/sub/x.yaml:1: secret 'c' not found (searched config/sub/secrets.yaml, config/secrets.yaml)"
    )


def test_secrets_file_cannot_use_secrets(cfg: Path) -> None:
    write(cfg / "secrets.yaml", "a: !secret b\n")
    path = write(cfg / "configuration.yaml", "x: !secret a\n")
    with pytest.raises(ConfigError, match=r"config/secrets\.yaml:1: !secret cannot be used here"):
        load_yaml(path)


# --------------------------------------------------------------------------- env vars


def test_env_var(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HACHO_TEST_HOST", "plc.ceuta")
    monkeypatch.delenv("HACHO_TEST_MISSING", raising=False)
    path = write(cfg / "configuration.yaml", """
        host: !env_var HACHO_TEST_HOST
        port: !env_var HACHO_TEST_MISSING 502
        label: !env_var HACHO_TEST_MISSING Puerto de Ceuta
        """)
    data = load_yaml(path)
    assert data["host"] == "plc.ceuta"
    assert data["port"] == "502"
    assert data["label"] == "Puerto de Ceuta"
    assert get_location(data["port"]) == ("config/configuration.yaml", 2)


def test_env_var_missing_without_default(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HACHO_TEST_MISSING", raising=False)
    path = write(cfg / "configuration.yaml", "a: 1\nhost: !env_var HACHO_TEST_MISSING\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == (
        "config/configuration.yaml:2: environment variable 'HACHO_TEST_MISSING' is not set and no default "
        "is given"
    )


def test_env_var_references_inside_a_string(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HACHO_TEST_PORT", "18124")
    monkeypatch.delenv("HACHO_TEST_MISSING", raising=False)
    path = write(cfg / "configuration.yaml", """
        url: !env_var "http://127.0.0.1:${HACHO_TEST_PORT:-8124}/agencies/dgp"
        fallback: !env_var "http://127.0.0.1:${HACHO_TEST_MISSING:-8124}/agencies/${HACHO_TEST_MISSING:-}"
        """)
    data = load_yaml(path)
    assert data["url"] == "http://127.0.0.1:18124/agencies/dgp"
    assert data["fallback"] == "http://127.0.0.1:8124/agencies/"
    assert get_location(data["fallback"]) == ("config/configuration.yaml", 2)


@pytest.mark.parametrize(("text", "expected"), [
    ('"h:${HACHO_TEST_MISSING}/x"', "environment variable 'HACHO_TEST_MISSING' is not set and no default is given"),
    ('"h:${HACHO TEST}/x"', "malformed reference"),
    ('"h:${HACHO_TEST_MISSING:-1/x"', "malformed reference"),
])
def test_env_var_bad_references_name_the_line(cfg: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                              expected: str) -> None:
    monkeypatch.delenv("HACHO_TEST_MISSING", raising=False)
    path = write(cfg / "configuration.yaml", f"a: 1\nurl: !env_var {text}\n")
    with pytest.raises(ConfigError, match=expected) as err:
        load_yaml(path)
    assert str(err.value).startswith("config/configuration.yaml:2: ")


# --------------------------------------------------------------------------- includes


def test_nested_includes_keep_their_own_locations(cfg: Path) -> None:
    write(cfg / "integrations" / "modbus.yaml", """
        host: plc.local
        devices: !include devices/bollards.yaml
        """)
    write(cfg / "integrations" / "devices" / "bollards.yaml", """
        - name: bollard_1
          address: 100
        - name: bollard_2
          address: 101
        """)
    path = write(cfg / "configuration.yaml", """
        hub:
          name: Ceuta
        modbus: !include integrations/modbus.yaml
        """)
    data = load_yaml(path)
    assert data.key_line("modbus") == 3
    modbus = data["modbus"]
    assert get_location(modbus) == ("config/integrations/modbus.yaml", 1)
    devices = modbus["devices"]
    assert devices == [{"name": "bollard_1", "address": 100}, {"name": "bollard_2", "address": 101}]
    assert get_location(devices[1]) == ("config/integrations/devices/bollards.yaml", 3)
    assert get_location(devices[1], "address") == ("config/integrations/devices/bollards.yaml", 4)


def test_include_missing_file(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", "a: 1\nmodbus: !include integrations/modbus.yaml\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == ("config/configuration.yaml:2: !include: file not found: "
                              "config/integrations/modbus.yaml")


def test_include_cycle_is_an_error(cfg: Path) -> None:
    write(cfg / "a.yaml", "b: !include b.yaml\n")
    write(cfg / "b.yaml", "a: !include a.yaml\n")
    path = write(cfg / "configuration.yaml", "a: !include a.yaml\n")
    with pytest.raises(ConfigError, match=r"^config/b\.yaml:1: include cycle: config/a\.yaml"):
        load_yaml(path)


def test_error_inside_included_file_names_that_file(cfg: Path) -> None:
    write(cfg / "integrations" / "modbus.yaml", "host: a\nport: [1\n")
    path = write(cfg / "configuration.yaml", "modbus: !include integrations/modbus.yaml\n")
    with pytest.raises(ConfigError, match=r"^config/integrations/modbus\.yaml:3:1: invalid YAML"):
        load_yaml(path)


@pytest.fixture
def automations(cfg: Path) -> Path:
    """A directory tree of automation files, with files the dir tags must skip."""
    base = cfg / "automations"
    write(base / "b_fire.yaml", """
        - id: fire_1
          alias: Fire tower 1
        - id: fire_2
          alias: Fire tower 2
        """)
    write(base / "a_bollards.yaml", """
        - id: bollard_1
          alias: Raise bollard 1
        """)
    write(base / "zone" / "c_panels.yaml", """
        - id: panel_1
          alias: Panel 1
        """)
    write(base / "empty.yaml", "# nothing yet\n")
    write(base / ".hidden.yaml", "- id: hidden\n")
    write(base / ".git" / "x.yaml", "- id: in_hidden_dir\n")
    write(base / "notes.txt", "- id: not_yaml\n")
    write(base / "secrets.yaml", "token: x\n")
    return base


def test_include_dir_list(cfg: Path, automations: Path) -> None:
    write(automations / "single" / "d_one.yaml", "id: single\nalias: One\n")
    path = write(cfg / "configuration.yaml", "automation: !include_dir_list automations/single\n")
    data = load_yaml(path)["automation"]
    assert data == [{"id": "single", "alias": "One"}]
    assert get_location(data) == ("config/configuration.yaml", 1)
    assert get_location(data, 0) == ("config/automations/single/d_one.yaml", 1)

    path = write(cfg / "configuration.yaml", "automation: !include_dir_list automations\n")
    data = load_yaml(path)["automation"]
    # One item per file, recursive and sorted by path; hidden, empty, non-.yaml and secrets files skipped.
    assert [item["id"] if isinstance(item, dict) else [x["id"] for x in item] for item in data] == [
        ["bollard_1"], ["fire_1", "fire_2"], "single", ["panel_1"]]


def test_include_dir_merge_list(cfg: Path, automations: Path) -> None:
    path = write(cfg / "configuration.yaml", "automation: !include_dir_merge_list automations\n")
    data = load_yaml(path)["automation"]
    assert [item["id"] for item in data] == ["bollard_1", "fire_1", "fire_2", "panel_1"]
    assert get_location(data[2]) == ("config/automations/b_fire.yaml", 3)
    assert get_location(data[2], "alias") == ("config/automations/b_fire.yaml", 4)
    assert get_location(data, 3) == ("config/automations/zone/c_panels.yaml", 1)


def test_include_dir_merge_list_refuses_a_mapping(cfg: Path, automations: Path) -> None:
    write(automations / "bad.yaml", "id: oops\n")
    path = write(cfg / "configuration.yaml", "automation: !include_dir_merge_list automations\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == (
        "config/automations/bad.yaml:1: !include_dir_merge_list expects each file to hold a list, "
        "got a mapping"
    )


def test_include_dir_named(cfg: Path) -> None:
    write(cfg / "sops" / "fire.yaml", "steps: 3\nowner: bomberos\n")
    write(cfg / "sops" / "sub" / "ramming.yaml", "steps: 5\n")
    write(cfg / "sops" / "._fire.yaml", "steps: 0\n")
    path = write(cfg / "configuration.yaml", "sops: !include_dir_named sops\n")
    sops = load_yaml(path)["sops"]
    assert sops == {"fire": {"steps": 3, "owner": "bomberos"}, "ramming": {"steps": 5}}
    assert get_location(sops, "ramming") == ("config/sops/sub/ramming.yaml", 1)
    assert get_location(sops["fire"], "owner") == ("config/sops/fire.yaml", 2)


def test_include_dir_named_duplicate_names(cfg: Path) -> None:
    write(cfg / "sops" / "fire.yaml", "steps: 3\n")
    write(cfg / "sops" / "sub" / "fire.yaml", "steps: 5\n")
    path = write(cfg / "configuration.yaml", "sops: !include_dir_named sops\n")
    with pytest.raises(ConfigError, match=r"both define 'fire'"):
        load_yaml(path)


def test_include_dir_merge_named(cfg: Path) -> None:
    write(cfg / "scripts" / "a.yaml", """
        raise_all:
          sequence: []
        """)
    write(cfg / "scripts" / "b" / "c.yaml", """
        # lower all bollards
        lower_all:
          sequence: []
        """)
    path = write(cfg / "configuration.yaml", "script: !include_dir_merge_named scripts\n")
    scripts = load_yaml(path)["script"]
    assert list(scripts) == ["raise_all", "lower_all"]
    assert get_location(scripts, "lower_all") == ("config/scripts/b/c.yaml", 2)
    assert scripts.key_line("lower_all") == 2


def test_include_dir_merge_named_duplicate_key(cfg: Path) -> None:
    write(cfg / "scripts" / "a.yaml", "raise_all:\n  sequence: []\n")
    write(cfg / "scripts" / "b.yaml", "# b\nraise_all:\n  sequence: []\n")
    path = write(cfg / "configuration.yaml", "script: !include_dir_merge_named scripts\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == (
        "config/scripts/b.yaml:2: duplicate key 'raise_all' (already defined at config/scripts/a.yaml:1)"
    )


def test_include_dir_missing_directory(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", "automation: !include_dir_list nowhere\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == ("config/configuration.yaml:1: !include_dir_list: directory not found: "
                              "config/nowhere")


def test_includes_inside_dir_includes_and_secrets(cfg: Path) -> None:
    write(cfg / "secrets.yaml", "plc_host: 10.0.0.7\n")
    write(cfg / "packages" / "bollards.yaml", """
        modbus:
          host: !secret plc_host
          registers: !include ../registers.yaml
        """)
    write(cfg / "registers.yaml", "- 100\n- 101\n")
    path = write(cfg / "configuration.yaml", "packages: !include_dir_named packages\n")
    package = load_yaml(path)["packages"]["bollards"]
    assert package == {"modbus": {"host": "10.0.0.7", "registers": [100, 101]}}
    assert get_location(package["modbus"]["registers"], 1) == ("config/registers.yaml", 2)


def test_loads_a_thousand_automations(cfg: Path) -> None:
    body = "".join(
        f"- id: auto_{i}\n  alias: Automation {i}\n  trigger:\n    - platform: state\n"
        f"      entity_id: sensor.plate_{i}\n      to: 'on'\n  action:\n    - service: bollards.raise\n"
        f"      data: {{entity_id: cover.bollard_{i}, speed: 3}}\n"
        for i in range(1000)
    )
    (cfg / "automations.yaml").write_text(body, encoding="utf-8")
    data = load_yaml(cfg / "automations.yaml")
    assert len(data) == 1000
    assert get_location(data[999], "action") == ("config/automations.yaml", 999 * 9 + 7)
    assert data[999]["action"][0]["data"]["speed"] == 3
