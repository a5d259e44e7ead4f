"""Tests of the `hub:` section: schema defaults, CoreConfig, load_configuration and check_config."""

from __future__ import annotations

import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.config import (
    CORE_CONFIG_SCHEMA,
    ControlCentre,
    CoreConfig,
    async_load_configuration,
    build_core_config,
    check_config,
    load_configuration,
    validate,
)
from hub.core import Hub
from hub.exceptions import ConfigError


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


def test_defaults() -> None:
    core = build_core_config(None)
    assert core == CoreConfig()
    assert core.name == "Hacho"
    assert core.site == "hacho"
    assert core.latitude is None and core.longitude is None
    assert core.elevation == 0
    assert core.time_zone == "UTC"
    assert core.tz == ZoneInfo("UTC")
    assert core.unit_system == "metric"
    assert core.control_centres == (ControlCentre("main", "Main", (), True),)
    assert core.allowlist_external_dirs == ()
    assert validate(CORE_CONFIG_SCHEMA, {})["control_centres"] == [
        {"id": "main", "name": "Main", "areas": [], "default": True, "shares": []}]


def test_full_section(cfg: Path) -> None:
    write(cfg / "configuration.yaml", """
        hub:
          name: Ceuta Ciudad Segura
          site: ceuta
          latitude: 35.8894
          longitude: -5.3213
          elevation: 12
          time_zone: Africa/Ceuta
          control_centres:
            - id: norte
              name: Centro Norte
              areas: [puerto, centro]
            - id: sur
              areas: frontera
              default: yes
          allowlist_external_dirs:
            - /var/lib/hacho/media
        """)
    core = build_core_config(load_configuration(cfg)["hub"])
    assert core.site == "ceuta"
    assert (core.latitude, core.longitude, core.elevation) == (35.8894, -5.3213, 12.0)
    assert core.tz == ZoneInfo("Africa/Ceuta")
    assert core.control_centres == (
        ControlCentre("norte", "Centro Norte", ("puerto", "centro"), False),
        ControlCentre("sur", "Sur", ("frontera",), True),
    )
    assert core.default_centre.id == "sur"
    assert core.centre("norte") is core.control_centres[0]
    assert core.centre("este") is None
    assert core.centre_for_area("puerto").id == "norte"
    assert core.centre_for_area("playa").id == "sur"
    assert core.centre_for_area(None).id == "sur"
    assert core.is_allowed_path("/var/lib/hacho/media/clip.mp4")
    assert not core.is_allowed_path("/etc/passwd")
    with pytest.raises(AttributeError):
        core.site = "other"  # type: ignore[misc]


def test_first_centre_is_default_when_none_is_marked() -> None:
    core = build_core_config({"control_centres": [{"id": "norte"}, {"id": "sur"}]})
    assert [centre.default for centre in core.control_centres] == [True, False]


def core_errors(cfg: Path, hub_yaml: str) -> list[str]:
    write(cfg / "configuration.yaml", hub_yaml)
    return check_config(cfg)


def test_bad_time_zone(cfg: Path) -> None:
    errors = core_errors(cfg, """
        hub:
          name: Ceuta
          time_zone: Africa/Atlantis
        """)
    assert errors == ["config/configuration.yaml:3: [hub] 'time_zone': invalid time zone (expected an IANA "
                      "name such as 'Africa/Ceuta' or 'UTC'), got 'Africa/Atlantis'"]


def test_bad_latitude(cfg: Path) -> None:
    errors = core_errors(cfg, """
        hub:
          latitude: 95.5
          longitude: -5.3
        """)
    assert errors == ["config/configuration.yaml:2: [hub] 'latitude': expected latitude between -90 and 90, "
                      "got 95.5"]


def test_latitude_without_longitude(cfg: Path) -> None:
    errors = core_errors(cfg, "hub:\n  latitude: 35.9\n")
    assert errors == ["config/configuration.yaml:2: [hub] latitude and longitude must be given together"]


def test_bad_site_unit_system_and_centres(cfg: Path) -> None:
    errors = core_errors(cfg, """
        hub:
          site: Ceuta Norte
          unit_system: nautical
          control_centres:
            - id: norte
              default: true
            - id: norte
              areas: [Puerto]
        """)
    assert errors == [
        "config/configuration.yaml:2: [hub] 'site': expected a slug (lower-case letters, digits and _) "
        "(try 'ceuta_norte'), got 'Ceuta Norte'",
        "config/configuration.yaml:3: [hub] 'unit_system': expected 'metric' or 'imperial', got 'nautical'",
        "config/configuration.yaml:8: [hub] 'control_centres[1].areas[0]': expected a slug (lower-case "
        "letters, digits and _) (try 'puerto'), got 'Puerto'",
    ]


def test_duplicate_centres_and_two_defaults(cfg: Path) -> None:
    errors = core_errors(cfg, """
        hub:
          control_centres:
            - id: norte
              default: true
            - id: sur
              default: true
        """)
    assert errors == ["config/configuration.yaml:6: [hub] 'control_centres[1].default': only one control "
                      "centre can be the default, got True"]
    errors = core_errors(cfg, """
        hub:
          control_centres:
            - id: norte
            - id: norte
        """)
    assert errors == ["config/configuration.yaml:4: [hub] 'control_centres[1].id': duplicate control centre "
                      "id 'norte'"]


def test_unknown_hub_key(cfg: Path) -> None:
    errors = core_errors(cfg, "hub:\n  name: Ceuta\n  tim_zone: UTC\n")
    assert errors == ["config/configuration.yaml:3: [hub] unknown key 'tim_zone' (did you mean 'time_zone'?)"]


def test_check_config_ok_and_loader_errors(cfg: Path) -> None:
    assert core_errors(cfg, "hub:\n  name: Ceuta\nmodbus:\n  host: plc\n") == []
    assert core_errors(cfg, "modbus:\n  host: plc\n") == []  # no hub: section is fine
    assert core_errors(cfg, "hub:\n  password: !secret nope\n") == [
        "config/configuration.yaml:2: secret 'nope' not found (searched config/secrets.yaml (absent))"]


def test_missing_configuration_yaml(cfg: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_configuration(cfg)
    assert str(err.value) == ("config/configuration.yaml: configuration file not found (is 'config' the "
                              "config directory?)")
    assert check_config(cfg) == [str(err.value)]


def test_configuration_must_be_a_mapping(cfg: Path) -> None:
    write(cfg / "configuration.yaml", "- hub\n")
    with pytest.raises(ConfigError, match=r"^config/configuration\.yaml:1: the configuration must be a map"):
        load_configuration(cfg)


def test_load_configuration_uses_secrets(cfg: Path) -> None:
    write(cfg / "secrets.yaml", "site_name: Ceuta\n")
    write(cfg / "configuration.yaml", "hub:\n  name: !secret site_name\n")
    assert build_core_config(load_configuration(cfg)["hub"]).name == "Ceuta"


async def test_async_load_configuration(hub: Hub) -> None:
    (hub.config_dir / "configuration.yaml").write_text("hub:\n  site: ceuta\n", encoding="utf-8")
    config = await async_load_configuration(hub)
    assert config["hub"] == {"site": "ceuta"}
