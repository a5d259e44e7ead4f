"""Tests of the `panels:` configuration schema and the typed panel config."""

from __future__ import annotations

import pytest
import voluptuous as vol

from integrations.panels.config import CONFIG_SCHEMA, PanelConfig
from integrations.panels.const import DEFAULT_CHARSET


def test_a_list_gets_every_default() -> None:
    config = CONFIG_SCHEMA([{"id": "P-CALLE-REAL-1"}])
    assert config["datex2"] == {"country": "es", "national_identifier": "HACHO", "lang": "es",
                                "public": False}
    panel = PanelConfig.from_config(config["panels"][0])
    assert panel.name == "P-CALLE-REAL-1"
    assert panel.driver == "mqtt_json"
    assert panel.topic == "hacho/panels/P-CALLE-REAL-1"
    caps = panel.capabilities
    assert (caps.rows, caps.chars_per_row, caps.max_pages) == (3, 18, 3)
    assert caps.charset == frozenset(DEFAULT_CHARSET)
    assert set("ÁÉÍÓÚÑÜ") <= caps.charset
    assert (caps.brightness_min, caps.brightness_max, caps.colour) == (0, 100, "amber")
    assert dict(caps.pictograms) == {}


def test_mapping_form_empty_section_and_pictogram_numbers() -> None:
    assert CONFIG_SCHEMA(None)["panels"] == []
    assert CONFIG_SCHEMA({})["panels"] == []
    config = CONFIG_SCHEMA({
        "datex2": {"national_identifier": "CEUTA-CCS", "public": True},
        "panels": [
            {"id": "A", "driver": "ntcip", "topic": "signs/a", "pictograms": ["fog", "roadworks"],
             "brightness": {"min": 10, "max": 80}, "charset": "ABC "},
            {"id": "B", "pictograms": {"fog": 12}},
        ],
    })
    a, b = (PanelConfig.from_config(item) for item in config["panels"])
    assert dict(a.capabilities.pictograms) == {"fog": 1, "roadworks": 2}
    assert dict(b.capabilities.pictograms) == {"fog": 12}
    assert (a.capabilities.brightness_min, a.capabilities.brightness_max) == (10, 80)
    assert a.capabilities.charset == frozenset("ABC ")
    assert a.topic == "signs/a" and a.driver == "ntcip"


@pytest.mark.parametrize(("section", "message"), [
    ([{"id": "A"}, {"id": "A"}], "duplicate panel id 'A'"),
    ([{"id": "A", "rows": 0}], "value must be at least 1"),
    ([{"id": "A", "driver": "snmp"}], "value must be one of"),
    ([{"id": "A", "brightness": {"min": 50, "max": 50}}], "brightness min (50) must be below max (50)"),
    ([{"id": "A", "pictograms": {"fog": 300}}], "graphic number must be 1-255"),
    ([{"id": "A", "location": {"lat": 95, "lon": 0}}], "value must be at most 90"),
    ([{"id": "A", "colour": "purple"}], "value must be one of"),
    ([{"id": "A", "rows": 3, "unknown": 1}], "extra keys not allowed"),
    ("panels", "expected a list of panels"),
])
def test_bad_config_is_refused_with_a_reason(section: object, message: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        CONFIG_SCHEMA(section)
    assert message in str(err.value)
