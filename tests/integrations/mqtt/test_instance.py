"""Two hubs on one broker: each has a client id of its own (kept across restarts) and topics under its own prefix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiomqtt
import pytest

from hub.core import Hub
from integrations.mqtt import CONFIG_SCHEMA, async_unload
from integrations.mqtt.instance import expand_topic, expand_topics

from .conftest import SetupMqtt, wait_for_state


async def _stop(hub: Hub) -> None:
    if not hub.is_stopping:
        await hub.async_stop()


async def test_the_client_id_is_the_site_and_a_suffix_kept_in_storage(hub: Hub, setup_mqtt: SetupMqtt,
                                                                      tmp_path: Path, prefix: str) -> None:
    client = await setup_mqtt()
    first_id = client.client_id
    assert first_id is not None and re.fullmatch(r"hacho-[0-9a-f]{8}", first_id), first_id
    stored = json.loads((hub.config_dir / ".storage" / "mqtt.client.json").read_text())
    assert first_id == f"hacho-{stored['data']['suffix']}"
    await async_unload(hub)

    # The same site (config directory) again: the same client, as the broker knew it.
    again = Hub(hub.config_dir)
    await again.async_start()
    # Another hub on the machine (another config directory): its own client, and neither is kicked off.
    other_dir = tmp_path / "other-site"
    other_dir.mkdir()
    other = Hub(other_dir)
    await other.async_start()
    try:
        again_client = await setup_mqtt(again)
        assert again_client.client_id == first_id
        other_client = await setup_mqtt(other)
        assert other_client.client_id not in (None, first_id)
        # A round trip on the first connection after the second one connected: with one id for both,
        # the broker had dropped the first (and it reconnected, kicking the other in turn).
        await again_client.async_publish(f"{prefix}/ping", "1", qos=1)
        assert again_client.connected and other_client.connected
        assert again_client.stats.connects == 1 and other_client.stats.connects == 1
    finally:
        await _stop(again)
        await _stop(other)


async def test_a_configured_client_id_is_used_as_is(hub: Hub, setup_mqtt: SetupMqtt) -> None:
    client = await setup_mqtt(client_id="ccs-main-hub")
    assert client.client_id == "ccs-main-hub"
    assert not (hub.config_dir / ".storage" / "mqtt.client.json").exists()


async def test_tilde_topics_are_under_the_topic_prefix(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                       publisher: aiomqtt.Client) -> None:
    await setup_mqtt(topic_prefix=prefix, sensor=[
        {"name": "Port gust", "object_id": "port_gust", "state_topic": "~/weather/port",
         "value_template": "{{ value_json.gust }}"},
    ])
    await publisher.publish(f"{prefix}/weather/port", json.dumps({"gust": 21.5}))
    state = await wait_for_state(hub, "sensor.port_gust", lambda s: s is not None and s.state == "21.5")
    assert state is not None


def test_tilde_stands_for_the_prefix_only_at_the_start() -> None:
    assert expand_topic("~", "ceuta") == "ceuta"
    assert expand_topic("~/weather/port", "ceuta") == "ceuta/weather/port"
    assert expand_topic("weather/~/port", "ceuta") == "weather/~/port"
    assert expand_topic("~weather", "ceuta") == "~weather"
    config = CONFIG_SCHEMA({"discovery_prefix": "~/homeassistant", "sensor": [
        {"state_topic": "~/air/centro", "availability": [{"topic": "~/air/centro/status"}]}]})
    expanded = expand_topics(config, "melilla")
    assert expanded["discovery_prefix"] == "melilla/homeassistant"
    assert expanded["birth_message"]["topic"] == "melilla/homeassistant/status"
    assert expanded["sensor"][0]["state_topic"] == "melilla/air/centro"
    assert expanded["sensor"][0]["availability"][0]["topic"] == "melilla/air/centro/status"
    assert config["sensor"][0]["state_topic"] == "~/air/centro"  # the validated config is left as it was


@pytest.mark.parametrize("bad", ["a/+/b", "#", ""])
def test_a_topic_prefix_has_no_wildcards(bad: str) -> None:
    with pytest.raises(Exception, match="topic"):
        CONFIG_SCHEMA({"topic_prefix": bad})
