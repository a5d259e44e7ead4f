"""Tests of the shared validators in hub.helpers.config_validation (cv)."""

from __future__ import annotations

import logging
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from hub.config import get_location, load_yaml
from hub.config.validation import deprecated
from hub.helpers import config_validation as cv


def invalid(validator: Any, value: Any) -> str:
    """The message of the vol.Invalid that `validator(value)` raises."""
    with pytest.raises(vol.Invalid) as err:
        validator(value)
    return str(err.value)


def test_string() -> None:
    assert cv.string("abc") == "abc"
    assert cv.string(12) == "12"
    assert cv.string(1.5) == "1.5"
    assert invalid(cv.string, None) == "expected a string, got nothing"
    assert invalid(cv.string, [1]) == "expected a string"
    assert invalid(cv.string, {"a": 1}) == "expected a string"


@pytest.mark.parametrize("value", [True, "yes", "on", "true", "TRUE", " On ", "enable", 1, "1"])
def test_boolean_true(value: Any) -> None:
    assert cv.boolean(value) is True


@pytest.mark.parametrize("value", [False, "no", "off", "false", "False", "disable", 0, "0"])
def test_boolean_false(value: Any) -> None:
    assert cv.boolean(value) is False


@pytest.mark.parametrize("value", ["maybe", 2, None, [], ""])
def test_boolean_invalid(value: Any) -> None:
    assert invalid(cv.boolean, value) == "expected boolean (true/false, yes/no, on/off)"


def test_positive_int() -> None:
    assert cv.positive_int(0) == 0
    assert cv.positive_int("42") == 42
    assert cv.positive_int(7.0) == 7
    for value in (-1, "-3", 1.5, "x", True, None):
        assert invalid(cv.positive_int, value) == "expected int >= 0"


def test_port() -> None:
    assert cv.port(1) == 1
    assert cv.port("502") == 502
    assert cv.port(65535) == 65535
    for value in (0, 65536, "abc", -1, None, 8.5):
        assert invalid(cv.port, value) == "expected int between 1 and 65535"


def test_positive_float() -> None:
    assert cv.positive_float(0) == 0.0
    assert cv.positive_float("2.5") == 2.5
    for value in (-0.1, "x", float("nan"), float("inf"), True):
        assert invalid(cv.positive_float, value) == "expected float >= 0"


def test_latitude_longitude() -> None:
    assert cv.latitude("35.8894") == 35.8894
    assert cv.latitude(-90) == -90.0
    assert cv.longitude(-5.3213) == -5.3213
    assert cv.longitude(180) == 180.0
    for value in (90.1, -91, "north"):
        assert invalid(cv.latitude, value) == "expected latitude between -90 and 90"
    for bad in (180.5, -181, None):
        assert invalid(cv.longitude, bad) == "expected longitude between -180 and 180"


def test_entity_id() -> None:
    assert cv.entity_id("cover.bollard_1") == "cover.bollard_1"
    assert cv.entity_id("Cover.Bollard_1") == "cover.bollard_1"
    for value in ("bollard_1", "cover.", "cover.bollard__1", "cover.bollard-1", "cover.x.y"):
        assert invalid(cv.entity_id, value).startswith("invalid entity id")
    assert invalid(cv.entity_id, 5) == "expected an entity id 'domain.object_id'"


def test_entity_ids() -> None:
    assert cv.entity_ids("cover.b1, cover.b2,,") == ["cover.b1", "cover.b2"]
    assert cv.entity_ids(["sensor.a", "Sensor.B"]) == ["sensor.a", "sensor.b"]
    assert cv.entity_ids("sensor.a") == ["sensor.a"]
    assert invalid(cv.entity_ids, "sensor.a, nope").startswith("invalid entity id")
    assert invalid(cv.entity_ids, None) == "expected entity ids, got nothing"


def test_entity_domain() -> None:
    assert cv.entity_domain("cover")("cover.b1") == "cover.b1"
    assert cv.entity_domain(["cover", "switch"])("switch.pump") == "switch.pump"
    assert invalid(cv.entity_domain("cover"), "light.x") == "expected an entity id in domain 'cover'"
    assert invalid(cv.entity_domain(["cover", "switch"]), "light.x") == (
        "expected an entity id in domain 'cover' or 'switch'")


def test_slug() -> None:
    assert cv.slug("centro_norte") == "centro_norte"
    assert cv.slug(7) == "7"
    assert invalid(cv.slug, "Centro Norte") == "expected a slug (lower-case letters, digits and _) " \
                                               "(try 'centro_norte')"
    assert invalid(cv.slug, "") == "expected a slug (lower-case letters, digits and _)"
    assert invalid(cv.slug, None) == "expected a slug (lower-case letters, digits and _)"
    assert cv.slugify("Frontera del Tarajal — Puesto 2") == "frontera_del_tarajal_puesto_2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (30, timedelta(seconds=30)),
        (1.5, timedelta(seconds=1.5)),
        ("45", timedelta(seconds=45)),
        ("00:05", timedelta(minutes=5)),
        ("01:02:03", timedelta(hours=1, minutes=2, seconds=3)),
        ("00:00:01.5", timedelta(seconds=1, milliseconds=500)),
        ("-00:10", timedelta(minutes=-10)),
        ({"hours": 1, "minutes": 30}, timedelta(hours=1, minutes=30)),
        ({"seconds": 2, "milliseconds": 250}, timedelta(seconds=2, milliseconds=250)),
        ({"days": 1}, timedelta(days=1)),
        (timedelta(minutes=3), timedelta(minutes=3)),
    ],
)
def test_time_period(value: Any, expected: timedelta) -> None:
    assert cv.time_period(value) == expected


def test_time_period_invalid() -> None:
    message = "expected a time period: seconds, 'HH:MM', 'HH:MM:SS' or {hours, minutes, seconds}"
    assert invalid(cv.time_period, "five minutes") == message
    assert invalid(cv.time_period, None).startswith("expected a time period")
    assert invalid(cv.time_period, True).startswith("expected a time period")
    assert invalid(cv.time_period, {"hour": 1}) == (
        "unknown time period key 'hour' (expected days, hours, minutes, seconds, milliseconds)")
    assert invalid(cv.time_period, {}) == (
        "expected at least one of days, hours, minutes, seconds, milliseconds")
    assert invalid(cv.time_period, {"hours": "x"}) == "expected a number for 'hours'"


def test_time() -> None:
    assert cv.time("08:30") == time(8, 30)
    assert cv.time("23:59:59") == time(23, 59, 59)
    assert cv.time(time(7, 0)) == time(7, 0)
    for value in ("24:00", "12:60", "7", "12:30:00.5", "-01:00", 730, None):
        assert invalid(cv.time, value) == "expected a time of day 'HH:MM' or 'HH:MM:SS'"


def test_time_from_unquoted_yaml(tmp_path: Path) -> None:
    # The loader keeps 12:30:00 a string (YAML 1.1 would make it the int 45000).
    (tmp_path / "c.yaml").write_text("at: 12:30:00\ndelay: 01:30\n", encoding="utf-8")
    data = load_yaml(tmp_path / "c.yaml")
    assert cv.time(data["at"]) == time(12, 30)
    assert cv.time_period(data["delay"]) == timedelta(hours=1, minutes=30)


def test_time_zone() -> None:
    assert cv.time_zone("Africa/Ceuta") == "Africa/Ceuta"
    for value in ("Africa/Atlantis", "", "../etc/passwd", 5):
        assert invalid(cv.time_zone, value).startswith("invalid time zone")


def test_ensure_list() -> None:
    assert cv.ensure_list(None) == []
    assert cv.ensure_list("a") == ["a"]
    items: list[int] = [1, 2]
    assert cv.ensure_list(items) is items
    assert cv.ensure_list({"a": 1}) == [{"a": 1}]


def test_list_of_reports_every_bad_item() -> None:
    schema = vol.Schema({"ports": cv.list_of(cv.port)})
    assert schema({"ports": 502}) == {"ports": [502]}
    with pytest.raises(vol.MultipleInvalid) as err:
        schema({"ports": [502, 0, "x", 80]})
    assert [(error.path, error.error_message) for error in err.value.errors] == [
        (["ports", 1], "expected int between 1 and 65535"),
        (["ports", 2], "expected int between 1 and 65535"),
    ]


def test_url() -> None:
    assert cv.url("https://api.ceuta.es/v1") == "https://api.ceuta.es/v1"
    assert cv.url("http://10.0.0.5:8080") == "http://10.0.0.5:8080"
    for value in ("ftp://x", "api.ceuta.es", "http://", None):
        assert invalid(cv.url, value).startswith("expected")
    assert invalid(cv.url, "ftp://x") == "expected a URL (http://, https://)"
    rtsp = cv.url_with_schemes("rtsp", "rtsps")
    assert rtsp("rtsp://cam1.local/stream") == "rtsp://cam1.local/stream"
    assert invalid(rtsp, "http://cam1.local") == "expected a URL (rtsp://, rtsps://)"


def test_color_hex() -> None:
    assert cv.color_hex("#FF8800") == "#ff8800"
    assert cv.color_hex("#f80") == "#f80"
    for value in ("FF8800", "#ff880", "#gg0000", 0xFF8800):
        assert invalid(cv.color_hex, value) == "expected a hex colour '#rrggbb'"


def test_icon() -> None:
    assert cv.icon("mdi:fire") == "mdi:fire"
    for value in ("fire", "mdi:", ":fire"):
        assert invalid(cv.icon, value) == "expected an icon 'prefix:name', e.g. 'mdi:fire'"


def test_match_all() -> None:
    assert cv.match_all("*") == "*"
    assert invalid(cv.match_all, "all") == "expected '*'"


def test_empty_config_schema() -> None:
    schema = cv.empty_config_schema("simulator")
    assert schema(None) == {}
    assert schema({}) == {}
    assert invalid(schema, {"speed": 2}) == "simulator takes no options; write `simulator:` on its own"


def test_deprecated_moves_the_value_and_warns_with_location(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("host: plc\nipaddress: 10.0.0.7\n", encoding="utf-8")
    raw = load_yaml(path)
    schema = vol.All(deprecated("ipaddress", "address"), vol.Schema({"host": str, "address": str}))
    with caplog.at_level(logging.WARNING):
        result = schema(raw)
    assert result == {"host": "plc", "address": "10.0.0.7"}
    assert f"{path}:2: option 'ipaddress' is deprecated; use 'address' instead" in caplog.text
    assert "ipaddress" in raw  # the loaded config is not modified
    # The moved value keeps the line of the old key.
    moved = deprecated("ipaddress", "address")(raw)
    assert get_location(moved, "address") == (str(path), 2)


def test_deprecated_without_replacement_and_conflicts(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert deprecated("legacy")({"legacy": 1, "a": 2}) == {"a": 2}
    assert "option 'legacy' is deprecated and ignored; remove it" in caplog.text
    assert deprecated("legacy")({"a": 2}) == {"a": 2}
    assert invalid(deprecated("old", "new"), {"old": 1, "new": 2}) == (
        "both 'old' (deprecated) and 'new' are given; keep only 'new' @ data['old']")
    assert deprecated("old", "new")({"old": 1, "new": 1}) == {"new": 1}
