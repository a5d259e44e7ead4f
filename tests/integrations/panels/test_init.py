"""Tests of setting up the panels integration through the loader, from YAML, with reload."""

from __future__ import annotations

from pathlib import Path

from hub.config.yaml_loader import load_yaml
from hub.core import Hub
from hub.setup import IntegrationState, async_get_setup_manager

YAML = """
panels:
  - id: P-REVELLIN-1
    name: Paseo del Revellín
    area: revellin
    location: {lat: 35.8886, lon: -5.3187}
    driver: memory
    rows: 2
    chars_per_row: 16
  - id: P-HACHO-1
    driver: memory
    pictograms: [fire, fog]
"""


async def test_setup_from_yaml_reload_and_unload(fake_hub: Hub, config_dir: Path) -> None:
    (config_dir / "configuration.yaml").write_text(YAML, encoding="utf-8")
    raw = await fake_hub.async_add_executor_job(load_yaml, config_dir / "configuration.yaml")
    manager = async_get_setup_manager(fake_hub)
    assert await manager.async_setup_integration("panels", raw["panels"])
    assert manager.status["panels"].state is IntegrationState.loaded
    state = fake_hub.states.get("panel.p_revellin_1")
    assert state is not None and state.attributes["friendly_name"] == "Paseo del Revellín"
    assert state.attributes["chars_per_row"] == 16
    hacho = fake_hub.states.get("panel.p_hacho_1")
    assert hacho is not None and hacho.attributes["pictograms"] == ["fire", "fog"]

    await fake_hub.services.async_call("panel", "display", {
        "entity_id": "panel.p_hacho_1", "lines": ["FUEGO"], "pictogram": "fire", "priority": "emergency",
    })
    assert await manager.async_reload_integration("panels", raw["panels"][:1])
    assert fake_hub.states.get("panel.p_hacho_1") is None
    assert fake_hub.states.get("panel.p_revellin_1") is not None
    assert fake_hub.services.has_service("panel", "display")

    assert await manager.async_unload_integration("panels")
    assert fake_hub.states.async_entity_ids("panel") == []
    assert not fake_hub.services.has_service("panel", "display")


async def test_bad_config_disables_only_panels(fake_hub: Hub) -> None:
    manager = async_get_setup_manager(fake_hub)
    ok = await manager.async_setup_integration("panels", [{"id": "A", "rows": "many", "driver": "memory"}])
    assert not ok
    status = manager.status["panels"]
    assert status.state is IntegrationState.config_error
    assert "rows" in (status.error or "")
