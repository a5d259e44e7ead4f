"""RestoreEntity: the last state and extra data come back after a restart; long-gone entities are forgotten."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.clock import FakeClock
from hub.core import Hub
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.restore_state import KEEP_UNLOADED_S, RestoreEntity


class Remembering(RestoreEntity):
    domain = "sensor"

    def __init__(self, name: str) -> None:
        self._attr_name = name
        self._attr_state = "initial"
        self.marker: Any = None
        self.restored: Any = None

    @property
    def extra_restore_data(self) -> Mapping[str, Any] | None:
        return {"marker": self.marker}

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        self.restored = await self.async_get_last_state()
        extra = await self.async_get_last_extra_data()
        if self.restored is not None:
            self._attr_state = self.restored.state
            self.marker = (extra or {}).get("marker")


async def _hub(config_dir: Path, clock: FakeClock) -> Hub:
    hub = Hub(config_dir, clock=clock)
    await hub.async_start()
    return hub


async def test_state_and_extra_data_survive_a_restart(config_dir: Path, fake_clock: FakeClock) -> None:
    hub = await _hub(config_dir, fake_clock)
    (entity,) = await async_add_entities(hub, "test", [Remembering("Kept")])
    assert entity.restored is None
    entity._attr_state = "changed"
    entity.marker = 42
    entity.async_write_state()
    await hub.async_stop()
    hub = await _hub(config_dir, fake_clock)
    (again,) = await async_add_entities(hub, "test", [Remembering("Kept")])
    assert again.restored is not None and again.restored.state == "changed"
    assert hub.states.get("sensor.kept").state == "changed"
    assert again.marker == 42
    await hub.async_stop()


async def test_unloaded_entities_are_forgotten_after_a_week(config_dir: Path, fake_clock: FakeClock) -> None:
    now = fake_clock.time()
    store = config_dir / ".storage" / "core.restore_state.json"
    store.parent.mkdir()
    store.write_text(json.dumps({"version": 1, "key": "core.restore_state", "data": {
        "sensor.gone": {"state": "x", "attributes": {}, "saved": now - KEEP_UNLOADED_S - 1},
        "sensor.recent": {"state": "y", "attributes": {}, "saved": now - 3600},
    }}))
    hub = await _hub(config_dir, fake_clock)
    (entity,) = await async_add_entities(hub, "test", [Remembering("Live")])
    entity.async_write_state()
    await fake_clock.async_advance(2)
    await hub.async_block_till_done()
    saved = json.loads(store.read_text())["data"]
    assert set(saved) == {"sensor.recent", "sensor.live"}
    await hub.async_stop()


async def test_an_attribute_json_cannot_hold_is_kept_as_text(config_dir: Path, fake_clock: FakeClock) -> None:
    hub = await _hub(config_dir, fake_clock)
    (entity,) = await async_add_entities(hub, "test", [Remembering("Odd")])
    entity._attr_extra_state_attributes = {"thing": object()}
    entity.marker = {1, 2}  # a set: not JSON either
    entity.async_write_state()
    await hub.async_stop()
    saved = json.loads((config_dir / ".storage" / "core.restore_state.json").read_text())["data"]["sensor.odd"]
    assert saved["attributes"]["thing"].startswith("<object object")
    assert saved["state"] == "initial"
