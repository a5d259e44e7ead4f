"""The thermal_fire: section: defaults, and errors that say where and why."""

from __future__ import annotations

import pytest
import voluptuous as vol

from integrations.thermal_fire import CONFIG_SCHEMA

TOWER = {"id": "hacho", "lat": 35.8966, "lon": -5.2930, "presets": [{"name": "west", "pan": 262, "tilt": -2}]}


def test_defaults() -> None:
    config = CONFIG_SCHEMA({"towers": [TOWER]})
    camera = config["towers"][0]["camera"]
    assert camera["source"] == "simulator" and (camera["width"], camera["height"]) == (640, 512)
    assert config["towers"][0]["presets"][0]["dwell_s"] == 3.0
    assert config["simulator"]["seed"] == 1 and config["detection"] == {"day": {}, "night": {}}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"camera": {"source": "files"}}, "needs 'path'"),
        ({"camera": {"source": "snapshot"}}, "needs 'url'"),
        ({"camera": {"source": "ftp"}}, "source"),
        ({"presets": []}, "presets"),
        ({"presets": [{"name": "West!", "pan": 0, "tilt": 0}]}, "lower-case"),
        ({"presets": [{"name": "w", "pan": 0, "tilt": 0, "exclusions": [{"rect": [5, 5, 1, 1]}]}]}, "x0 <= x1"),
    ],
)
def test_tower_errors(patch: dict, message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        CONFIG_SCHEMA({"towers": [{**TOWER, **patch}]})


def test_duplicate_towers_and_unknown_detection_settings() -> None:
    with pytest.raises(vol.Invalid, match="duplicate tower id 'hacho'"):
        CONFIG_SCHEMA({"towers": [TOWER, TOWER]})
    with pytest.raises(vol.Invalid, match="unknown detection setting"):
        CONFIG_SCHEMA({"towers": [TOWER], "detection": {"night": {"sensitivity": 3}}})
    config = CONFIG_SCHEMA({"towers": [TOWER], "detection": {"night": {"persistence": "4", "context_min_k": 2}}})
    assert config["detection"]["night"] == {"persistence": 4, "context_min_k": 2.0}
