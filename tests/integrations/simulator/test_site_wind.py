"""The bundled wind automation fed by the simulator: a gale at the port warns on the port panels, calm clears them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.clock import FakeClock
from hub.config.yaml_loader import load_yaml
from hub.core import Event, Hub, callback
from integrations.mqtt import get_mqtt
from integrations.simulator import get_simulator

from .conftest import SetupSections, wait_for_state

WIND_RULES = Path(__file__).resolve().parents[3] / "config" / "ceuta" / "automations" / "wind.yaml"


async def _reading(hub: Hub, clock: FakeClock) -> None:
    """Ten seconds on: the station reports, and the hub has the reading before time moves on again."""
    await clock.async_advance(10)
    last = get_simulator(hub).stations["port"].last
    assert last is not None
    expected = str(round(last["wind_gust"] * 3.6, 1))
    await wait_for_state(hub, "sensor.port_wind_gust", lambda state: state.state == expected)


async def test_a_simulated_gale_drives_the_ceuta_wind_rules(
        fake_hub: Hub, fake_clock: FakeClock, mqtt_broker: tuple[str, int], prefix: str,
        setup_sections: SetupSections) -> None:
    host, port = mqtt_broker
    mqtt: dict[str, Any] = {"broker": host, "port": port, "discovery_prefix": f"{prefix}/ha", "sensor": [
        {"name": "Port wind gust", "object_id": "port_wind_gust", "state_topic": f"{prefix}/weather/port",
         "kind": "wind_gust", "source_unit": "m/s", "value_template": "{{ value_json.wind_gust }}"}]}
    panels = [{"id": f"P-PORT-{n}", "topic": f"{prefix}/panels/P-PORT-{n}"} for n in (1, 2)]
    simulator = {"seed": 2026, "time_zone": "Africa/Ceuta", "topic_prefix": prefix, "remove_on_stop": True,
                 "mqtt": {"broker": host, "port": port},
                 "weather": {"interval": 10, "gale_rate": 0, "stations": [{"id": "port", "exposure": 1.25}]},
                 "panels": {"topics": [f"{prefix}/panels/+"]}}
    await setup_sections(fake_hub, mqtt=mqtt, panels=panels, simulator=simulator)
    from automations import async_setup as async_setup_automations

    rules = await fake_hub.async_add_executor_job(load_yaml, WIND_RULES)
    assert await async_setup_automations(fake_hub, {"automations": rules})
    assert await get_mqtt(fake_hub).async_wait_connected(10)
    link = get_simulator(fake_hub).link
    assert link is not None and await link.async_wait_connected(10)
    await fake_hub.async_block_till_done()
    calls: list[Event] = []
    fake_hub.bus.async_listen("call_service", callback(
        lambda event: calls.append(event) if event.data["domain"] == "panel" else None))

    await fake_hub.services.async_call("simulator", "storm", {"duration": 1200, "strength": 15})
    for _ in range(60):  # ten minutes: the gale builds up
        await _reading(fake_hub, fake_clock)
    warned = await wait_for_state(fake_hub, "panel.p_port_1", lambda s: s.state == "displaying")
    assert warned.attributes["pages"][0][0] == "VIENTO FUERTE"
    assert warned.attributes["priority"] == "security"
    await wait_for_state(fake_hub, "panel.p_port_2", lambda s: s.state == "displaying")
    signs = get_simulator(fake_hub).signs
    assert signs is not None
    assert {sign.panel_id: sign.showing for sign in signs.signs.values()}["P-PORT-1"] == \
        warned.attributes["message_id"]  # the sign took the message and said so

    for _ in range(3 * 60):  # the gale dies down; after 15 calm minutes the warning is cleared
        await _reading(fake_hub, fake_clock)
    await wait_for_state(fake_hub, "panel.p_port_1", lambda s: s.state == "blank")
    services = [(e.data["domain"], e.data["service"]) for e in calls]
    assert services.count(("panel", "display")) >= 1  # once per crossing of 70 km/h while the gale blows
    assert services[-1] == ("panel", "clear") and services.count(("panel", "clear")) == 1
