"""Tests of validate() and humanize_error(): every error as one line naming file:line, key, expected, got."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import voluptuous as vol

from hub.config import format_extra_key, humanize_error, load_configuration, load_yaml, validate
from hub.exceptions import ConfigError
from hub.helpers import config_validation as cv

MODBUS_SCHEMA = vol.Schema({
    vol.Required("host"): cv.string,
    vol.Optional("port", default=502): cv.port,
    vol.Optional("timeout", default=3): cv.positive_float,
    vol.Optional("devices", default=list): cv.list_of(vol.Schema({
        vol.Required("name"): cv.slug,
        vol.Required("address"): cv.positive_int,
        vol.Optional("kind", default="bollard"): vol.In(["bollard", "panel"]),
    })),
})


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = Path("config")
    path.mkdir()
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def modbus_errors(cfg: Path, modbus_yaml: str) -> list[str]:
    """Load configuration.yaml including integrations/modbus.yaml and validate the modbus section."""
    write(cfg / "integrations" / "modbus.yaml", modbus_yaml)
    write(cfg / "configuration.yaml", """
        hub:
          name: Ceuta
        modbus: !include integrations/modbus.yaml
        """)
    config = load_configuration(cfg)
    with pytest.raises(ConfigError) as err:
        validate(MODBUS_SCHEMA, config["modbus"], "modbus")
    return err.value.errors


def test_valid_config_returns_validated_value(cfg: Path) -> None:
    path = write(cfg / "modbus.yaml", """
        host: plc.local
        devices:
          - name: bollard_1
            address: "100"
        """)
    result = validate(MODBUS_SCHEMA, load_yaml(path), "modbus")
    assert result == {"host": "plc.local", "port": 502, "timeout": 3.0,
                      "devices": [{"name": "bollard_1", "address": 100, "kind": "bollard"}]}


def test_wrong_type_in_included_file(cfg: Path) -> None:
    errors = modbus_errors(cfg, """
        host: plc.local
        port: abc
        """)
    assert errors == ["config/integrations/modbus.yaml:2: [modbus] 'port': expected int between 1 and 65535, "
                      "got 'abc'"]


def test_out_of_range_int_uses_the_key_line(cfg: Path) -> None:
    # 70000 is an int: it has no location of its own, so the line is the one of `port:`.
    errors = modbus_errors(cfg, """
        host: plc.local

        port: 70000
        """)
    assert errors == ["config/integrations/modbus.yaml:3: [modbus] 'port': expected int between 1 and 65535, "
                      "got 70000"]


def test_extra_key_with_suggestion(cfg: Path) -> None:
    errors = modbus_errors(cfg, """
        host: plc.local
        prot: 502
        """)
    assert errors == ["config/integrations/modbus.yaml:2: [modbus] unknown key 'prot' (did you mean 'port'?)"]


def test_extra_key_without_close_match(cfg: Path) -> None:
    errors = modbus_errors(cfg, """
        host: plc.local
        colour: blue
        """)
    assert errors == ["config/integrations/modbus.yaml:2: [modbus] unknown key 'colour'"]


def test_missing_required_key(cfg: Path) -> None:
    errors = modbus_errors(cfg, """
        port: 502
        """)
    assert errors == ["config/integrations/modbus.yaml:1: [modbus] missing required key 'host'"]


def test_all_errors_are_reported_sorted_by_line(cfg: Path) -> None:
    errors = modbus_errors(cfg, """
        port: 0
        timeout: -1
        devices:
          - name: Bollard 1
            address: 100
          - name: bollard_2
            adress: 101
          - name: panel_1
            address: 102
            kind: lamp
        """)
    # Every error of every list item, sorted by line (errors on the same line keep voluptuous' order).
    assert errors == [
        "config/integrations/modbus.yaml:1: [modbus] 'port': expected int between 1 and 65535, got 0",
        "config/integrations/modbus.yaml:1: [modbus] missing required key 'host'",
        "config/integrations/modbus.yaml:2: [modbus] 'timeout': expected float >= 0, got -1",
        "config/integrations/modbus.yaml:4: [modbus] 'devices[0].name': expected a slug (lower-case letters, "
        "digits and _) (try 'bollard_1'), got 'Bollard 1'",
        "config/integrations/modbus.yaml:6: [modbus] 'devices[1]': missing required key 'address'",
        "config/integrations/modbus.yaml:7: [modbus] 'devices[1]': unknown key 'adress' "
        "(did you mean 'address'?)",
        "config/integrations/modbus.yaml:10: [modbus] 'devices[2].kind': value must be one of ['bollard', "
        "'panel'], got 'lamp'",
    ]


def test_error_message_lists_every_error(cfg: Path) -> None:
    write(cfg / "integrations" / "modbus.yaml", "port: 0\n")
    path = write(cfg / "configuration.yaml", "modbus: !include integrations/modbus.yaml\n")
    with pytest.raises(ConfigError) as err:
        validate(MODBUS_SCHEMA, load_yaml(path)["modbus"], "modbus")
    assert str(err.value) == (
        "Invalid configuration for modbus (2 errors):\n"
        "  config/integrations/modbus.yaml:1: [modbus] 'port': expected int between 1 and 65535, got 0\n"
        "  config/integrations/modbus.yaml:1: [modbus] missing required key 'host'"
    )


def test_wrong_container_type(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        modbus:
          - host: plc.local
        """)
    with pytest.raises(ConfigError) as err:
        validate(MODBUS_SCHEMA, load_yaml(path)["modbus"], "modbus")
    assert err.value.errors == ["config/configuration.yaml:2: [modbus] expected a dictionary, got [{'host': "
                                "'plc.local'}]"]


def test_long_values_are_truncated_and_secrets_hidden(cfg: Path) -> None:
    write(cfg / "secrets.yaml", "plc_port: not-a-port\n")
    path = write(cfg / "configuration.yaml", f"""
        host: {"x" * 200}
        port: !secret plc_port
        """)
    schema = vol.Schema({"host": vol.All(cv.string, vol.Length(max=10)), "port": cv.port})
    with pytest.raises(ConfigError) as err:
        validate(schema, load_yaml(path))
    host_error, port_error = err.value.errors
    assert host_error.startswith(
        "config/configuration.yaml:1: 'host': length of value must be at most 10, got 'xxx")
    assert host_error.endswith("...")
    assert len(host_error) < 160
    assert port_error == "config/configuration.yaml:2: 'port': expected int between 1 and 65535, got <secret>"
    assert "not-a-port" not in str(err.value)


def test_plain_dicts_and_no_domain() -> None:
    with pytest.raises(ConfigError) as err:
        validate({"port": cv.port}, {"port": "x"})
    assert err.value.errors == ["'port': expected int between 1 and 65535, got 'x'"]


def test_humanize_error_directly(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        panels:
          - id: panel_1
            brightness: 300
        """)
    data = load_yaml(path)
    schema = vol.Schema({"panels": [{"id": cv.slug, "brightness": vol.All(int, vol.Range(max=100))}]})
    with pytest.raises(vol.MultipleInvalid) as err:
        schema(data)
    assert humanize_error(data, err.value, "panels") == (
        "config/configuration.yaml:3: [panels] 'panels[0].brightness': value must be at most 100, got 300"
    )


def test_suggestions_look_through_all_any_and_lists(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", """
        automation:
          - trigger:
              - platform: state
                entity_idd: sensor.x
        """)
    trigger = vol.Schema({vol.Required("platform"): str, vol.Optional("entity_id"): cv.entity_ids})
    schema = vol.Schema({"automation": vol.All(cv.ensure_list, [vol.Schema({"trigger": vol.All(cv.ensure_list,
                                                                                                 [trigger])})])})
    with pytest.raises(ConfigError) as err:
        validate(schema, load_yaml(path))
    assert err.value.errors == ["config/configuration.yaml:4: 'automation[0].trigger[0]': unknown key "
                                "'entity_idd' (did you mean 'entity_id'?)"]


def test_format_extra_key() -> None:
    assert format_extra_key("prot", ["port", "host"]) == "unknown key 'prot' (did you mean 'port'?)"
    assert format_extra_key("zzz", ["port", "host"]) == "unknown key 'zzz'"
    assert format_extra_key("prot") == "unknown key 'prot'"


def test_inclusive_group_error_has_no_noise(cfg: Path) -> None:
    path = write(cfg / "configuration.yaml", "a: 1\nlatitude: 35.9\n")
    message = "latitude and longitude go together"
    schema = vol.Schema({"a": int, vol.Inclusive("latitude", "coords", msg=message): float,
                         vol.Inclusive("longitude", "coords"): float})
    with pytest.raises(ConfigError) as err:
        validate(schema, load_yaml(path), "hub")
    assert err.value.errors == ["config/configuration.yaml:1: [hub] latitude and longitude go together"]
