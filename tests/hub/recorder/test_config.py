"""The recorder's configuration schema and its include/exclude rules."""

from __future__ import annotations

import pytest
import voluptuous as vol

from hub.recorder import CONFIG_SCHEMA, RecorderFilter


def test_schema_defaults() -> None:
    conf = CONFIG_SCHEMA({})
    assert "db_url" not in conf  # the SQLite file in the config dir
    assert conf["commit_interval"] == 1.0
    assert conf["purge_keep_days"] == 30
    assert conf["purge_keep_days_by_domain"] == {"anpr": 7}
    assert conf["auto_purge"] is True
    assert conf["max_queue"] >= 10_000
    assert conf["include"] == {"domains": [], "entities": [], "entity_globs": [], "event_types": []}
    assert CONFIG_SCHEMA(conf) == conf  # validating twice changes nothing (bootstrap validates first)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"commit_interval": 0}, "commit_interval"),
        ({"max_queue": 10}, "max_queue"),
        ({"purge_keep_days": -1}, "purge_keep_days"),
        ({"purge_keep_days_by_domain": {"anpr": "a week"}}, "purge_keep_days_by_domain"),
        ({"include": {"domain": ["light"]}}, "include"),
        ({"exclude": {"entities": [3]}}, "exclude"),
        ({"db_path": "x"}, "db_path"),
    ],
)
def test_schema_rejects(config: dict[str, object], key: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        CONFIG_SCHEMA(config)
    assert key in str(err.value)


def _filter(include: dict[str, list[str]] | None = None, exclude: dict[str, list[str]] | None = None
            ) -> RecorderFilter:
    conf = CONFIG_SCHEMA({"include": include or {}, "exclude": exclude or {}})
    return RecorderFilter(conf["include"], conf["exclude"])


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ({}, {}, {"light.a": True, "sensor.b": True}),
        ({"domains": ["light"]}, {}, {"light.a": True, "sensor.b": False}),
        ({"entities": ["sensor.b"]}, {}, {"light.a": False, "sensor.b": True}),
        ({}, {"domains": ["sensor"]}, {"light.a": True, "sensor.b": False}),
        ({"entities": ["sensor.b"]}, {"domains": ["sensor"]},
         {"sensor.b": True, "sensor.c": False, "light.a": True}),
        ({"domains": ["sensor"]}, {"entities": ["sensor.c"]},
         {"sensor.b": True, "sensor.c": False, "light.a": False}),
        ({"entity_globs": ["sensor.gate_*"]}, {"entity_globs": ["sensor.gate_9*"]},
         {"sensor.gate_1": True, "sensor.gate_90": False, "sensor.temp": False}),
        ({"domains": ["LIGHT"]}, {}, {"light.a": True}),
    ],
)
def test_entity_rules(include: dict[str, list[str]], exclude: dict[str, list[str]],
                      expected: dict[str, bool]) -> None:
    rules = _filter(include, exclude)
    assert {entity_id: rules.entity_allowed(entity_id) for entity_id in expected} == expected


def test_event_rules() -> None:
    rules = _filter({"event_types": ["anpr_plate_read", "bollard_raised"]},
                    {"event_types": ["bollard_raised"]})
    assert rules.event_allowed("anpr_plate_read")
    assert not rules.event_allowed("bollard_raised")
    assert not rules.event_allowed("thermal_fire_detected")
    assert rules.record_states
    assert not _filter(exclude={"event_types": ["state_changed"]}).record_states
