"""Queued panel messages survive a restart: order, expiry, templates, and what no longer fits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Hub
from hub.helpers.entity_platform import get_entity
from integrations.panels import CONFIG_SCHEMA, async_setup, async_unload
from integrations.panels.entity import PanelEntity

from .conftest import PORT, TARAJAL, panels_config

STORE = Path(".storage") / "panels.messages.json"


async def _start(config_dir: Path, clock: FakeClock, panels: list[dict[str, Any]] | None = None) -> Hub:
    hub = Hub(config_dir, clock=clock)
    await hub.async_start()
    config = CONFIG_SCHEMA({"panels": panels or panels_config(), "datex2": {"national_identifier": "CEUTA-CCS"}})
    assert await async_setup(hub, config)
    await hub.async_block_till_done()
    return hub


def _entity(hub: Hub, entity_id: str) -> PanelEntity:
    entity = get_entity(hub, entity_id)
    assert isinstance(entity, PanelEntity)
    return entity


def _shown_lines(hub: Hub, entity_id: str) -> list[str] | None:
    current = _entity(hub, entity_id).driver.current  # type: ignore[attr-defined]
    return None if current is None else list(current.lines)


async def test_queued_messages_come_back_after_a_restart(panels_hub: Hub, fake_clock: FakeClock,
                                                         config_dir: Path) -> None:
    hub = panels_hub
    hub.states.async_set("sensor.parking_free", "37")
    await hub.services.async_call("panel", "display", {
        "entity_id": PORT, "lines": ["PARKING", "{{ states('sensor.parking_free') }} LIBRES"]})
    await hub.services.async_call("panel", "display", {"entity_id": PORT, "lines": ["INCENDIO", "MONTE HACHO"],
                                                       "priority": "security", "duration": 600})
    await hub.services.async_call("panel", "display", {"entity_id": TARAJAL, "lines": ["COLAS"],
                                                       "duration": 60})
    await hub.async_block_till_done()
    before = [(m.id, m.priority.name, m.expires_at) for m in _entity(hub, PORT).messages]
    await hub.async_stop()
    stored = json.loads((config_dir / STORE).read_text())
    assert [m["priority"] for m in stored["data"]["panels"]["P-PORT-1"]] == ["security", "information"]

    await fake_clock.async_advance(120)  # the border message expires while the hub is down
    hub = await _start(config_dir, fake_clock)
    try:
        port = _entity(hub, PORT)
        assert [(m.id, m.priority.name, m.expires_at) for m in port.messages] == before
        assert _shown_lines(hub, PORT) == ["INCENDIO", "MONTE HACHO"]  # re-sent to the sign
        state = hub.states.get(TARAJAL)
        assert state is not None and state.state == "blank"

        # the security message still expires when it was meant to; the templated one follows its sensor
        hub.states.async_set("sensor.parking_free", "12")
        await fake_clock.async_advance(600 - 120)
        await hub.async_block_till_done()
        assert _shown_lines(hub, PORT) == ["PARKING", "12 LIBRES"]
        hub.states.async_set("sensor.parking_free", "11")
        await hub.async_block_till_done()
        assert _shown_lines(hub, PORT) == ["PARKING", "11 LIBRES"]
    finally:
        await hub.async_stop()


async def test_clear_is_remembered_and_unload_flushes(panels_hub: Hub, fake_clock: FakeClock,
                                                      config_dir: Path) -> None:
    await panels_hub.services.async_call("panel", "display", {"entity_id": PORT, "lines": ["A"]})
    await panels_hub.services.async_call("panel", "display", {"entity_id": TARAJAL, "lines": ["B"]})
    await panels_hub.services.async_call("panel", "clear", {"entity_id": PORT, "all": True})
    assert await async_unload(panels_hub)  # writes at once, no delay
    stored = json.loads((config_dir / STORE).read_text())["data"]["panels"]
    assert stored["P-PORT-1"] == [] and [m["pages"] for m in stored["P-TARAJAL-1"]] == [[["B"]]]


async def test_a_message_that_no_longer_fits_is_dropped(panels_hub: Hub, fake_clock: FakeClock,
                                                        config_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    await panels_hub.services.async_call("panel", "display", {"entity_id": TARAJAL, "lines": ["FRONTERA", "ABIERTA"]})
    await panels_hub.async_stop()
    smaller = panels_config()
    smaller[1]["rows"] = 1  # the border sign was replaced by a one-row sign
    hub = await _start(config_dir, fake_clock, smaller)
    try:
        assert _entity(hub, TARAJAL).messages == []
        assert "no longer fits" in caplog.text
    finally:
        await hub.async_stop()


async def test_an_unreadable_store_starts_blank(config_dir: Path, fake_clock: FakeClock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    (config_dir / STORE).parent.mkdir(parents=True, exist_ok=True)
    (config_dir / STORE).write_text(json.dumps({"version": 1, "key": "panels.messages", "data": {"panels": {
        "P-PORT-1": [{"id": "x", "priority": "nonsense", "pages": [["A"]], "page_time": 3}],
        "P-GONE": [{"id": "y", "priority": "security", "pages": [["A"]], "page_time": 3}],
    }}}))
    hub = await _start(config_dir, fake_clock)
    try:
        assert _entity(hub, PORT).messages == []
        assert "dropping a stored message" in caplog.text
        assert "P-GONE dropped: it is no longer configured" in caplog.text
    finally:
        await hub.async_stop()
