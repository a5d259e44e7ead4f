"""The agencies: section from YAML with !secret; defaults; errors that say where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config.core import load_configuration
from hub.config.validation import validate
from hub.exceptions import ConfigError
from integrations.agencies.config import CONFIG_SCHEMA, AgenciesConfig
from integrations.agencies.const import Format
from integrations.agencies.signing import WebhookSecret

from .conftest import OLD_SECRET, SECRET

YAML = """
agencies:
  sender: cecop@ceuta.es
  status: Exercise
  agencies:
    - id: fire_brigade
      name: Bomberos de Ceuta
      url: https://bomberos.example/hooks/hacho?token=abc
      formats: [cap, json]
      secrets: [!secret fire_new, !secret fire_old]
      max_attempts: 8
      events:
        - event_type: thermal_fire_detected
          match: {confirmed: true, severity: [high, critical]}
          cap: {event: Incendio, category: [Fire], severity: Severe, headline: "Fuego en {camera}"}
      inbound:
        schema: fire_status
        rate_limit: {requests: 30, per: 60}
    - id: ministry
      url: https://interior.example/hooks
      secret: !secret ministry
      inbound:
        webhook_id: ministry_hotlist
        schema: {plate: str, action: str, "reason?": str}
"""


def write(config_dir: Path, yaml: str, secrets: str) -> None:
    (config_dir / "configuration.yaml").write_text(yaml)
    (config_dir / "secrets.yaml").write_text(secrets)


def load(config_dir: Path) -> AgenciesConfig:
    raw = load_configuration(config_dir)
    return AgenciesConfig.from_config(validate(CONFIG_SCHEMA, raw["agencies"], "agencies"))


def test_yaml_with_secrets(config_dir: Path) -> None:
    write(config_dir, YAML, f"fire_new: {SECRET}\nfire_old: {OLD_SECRET}\nministry: a-long-ministry-secret\n")
    conf = load(config_dir)
    assert (conf.sender, conf.status, conf.scope, conf.language) == ("cecop@ceuta.es", "Exercise", "Restricted",
                                                                     "es-ES")
    fire, ministry = conf.agencies
    assert fire.formats == (Format.CAP, Format.JSON)
    assert fire.secrets == (WebhookSecret.parse(SECRET), WebhookSecret.parse(OLD_SECRET))
    assert (fire.max_attempts, fire.timeout, fire.enabled) == (8, 10.0, True)
    assert fire.endpoint == "https://bomberos.example"  # no path or token in what is displayed
    [rule] = fire.events
    assert rule.match == {"confirmed": (True,), "severity": ("high", "critical")}
    assert rule.cap["urgency"] == "Unknown" and rule.cap["radius_km"] == 1.0
    assert fire.inbound is not None and fire.inbound.webhook_id == "fire_brigade"
    assert fire.inbound.rate == 0.5 and fire.inbound.burst == 30 and fire.inbound.tolerance == 300
    assert fire.inbound.secrets == fire.secrets  # by default the agency's own keys
    assert ministry.name == "ministry" and ministry.formats == (Format.JSON,)
    assert ministry.inbound is not None and ministry.inbound.webhook_id == "ministry_hotlist"
    assert ministry.inbound.schema({"plate": "1234ABC", "action": "add"}) == {"plate": "1234ABC", "action": "add"}


def test_a_bare_list_is_the_short_form() -> None:
    conf = AgenciesConfig.from_config(CONFIG_SCHEMA([{"id": "a", "url": "http://x", "secret": SECRET}]))
    assert [a.id for a in conf.agencies] == ["a"]


@pytest.mark.parametrize(("agency", "message"), [
    ({"id": "a", "url": "http://x"}, "needs a secret"),
    ({"id": "a", "url": "http://x", "secret": "change-me"}, "at least 16 bytes"),
    ({"id": "a", "url": "ftp://x", "secret": SECRET}, "expected a URL"),
    ({"id": "A b", "url": "http://x", "secret": SECRET}, "slug"),
    ({"id": "a", "url": "http://x", "secret": SECRET, "formats": ["pdf"]}, "formats"),
    ({"id": "a", "url": "http://x", "secret": SECRET,
      "events": [{"event_type": "agency_delivery_failed"}]}, "would loop"),
    ({"id": "a", "url": "http://x", "secret": SECRET,
      "events": [{"event_type": "x", "cap": {"headline": "{data.__class__}"}}]}, "plain field names"),
    ({"id": "a", "url": "http://x", "secret": SECRET, "inbound": {"schema": "tweets"}}, "unknown body schema"),
])
def test_bad_agencies_are_refused_with_a_reason(agency: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(CONFIG_SCHEMA, {"agencies": [agency]}, "agencies")


def test_ids_and_webhook_ids_are_unique() -> None:
    one = {"id": "a", "url": "http://x", "secret": SECRET}
    with pytest.raises(ConfigError, match="used twice"):
        validate(CONFIG_SCHEMA, [one, one], "agencies")
    with pytest.raises(ConfigError, match="webhook id 'a' is used twice"):
        validate(CONFIG_SCHEMA, [{**one, "inbound": {}}, {**one, "id": "b", "inbound": {"webhook_id": "a"}}],
                 "agencies")


def test_errors_name_the_file_and_line(config_dir: Path) -> None:
    write(config_dir, YAML.replace("max_attempts: 8", "max_attempts: lots"),
          f"fire_new: {SECRET}\nfire_old: {OLD_SECRET}\nministry: a-long-ministry-secret\n")
    raw = load_configuration(config_dir)
    with pytest.raises(ConfigError) as err:
        validate(CONFIG_SCHEMA, raw["agencies"], "agencies")
    assert any("configuration.yaml:11" in line and "max_attempts" in line for line in err.value.errors)
