"""Fixtures for the panels integration: two signs on the memory driver, set up on a FakeClock hub."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.core import Hub
from hub.helpers.entity_platform import get_entity
from integrations.panels import CONFIG_SCHEMA, async_setup
from integrations.panels.driver import MemoryPanelDriver
from integrations.panels.entity import PanelEntity
from integrations.panels.message import PanelMessage

PORT = "panel.p_port_1"
TARAJAL = "panel.p_tarajal_1"


def panels_config() -> list[dict[str, Any]]:
    """A port sign (3 x 18, 3 pages, pictograms) and a small border sign (2 x 12, 1 page)."""
    return [
        {
            "id": "P-PORT-1",
            "name": "Puerto acceso norte",
            "area": "port",
            "location": {"lat": 35.8894, "lon": -5.3166},
            "driver": "memory",
            "rows": 3,
            "chars_per_row": 18,
            "max_pages": 3,
            "pictograms": ["roadworks", "fog", "danger"],
            "colour": "amber",
        },
        {
            "id": "P-TARAJAL-1",
            "name": "Frontera Tarajal",
            "area": "tarajal",
            "location": {"lat": 35.8728, "lon": -5.3433},
            "driver": "memory",
            "rows": 2,
            "chars_per_row": 12,
            "max_pages": 1,
        },
    ]


def shown(drv: MemoryPanelDriver) -> PanelMessage:
    """What the sign shows now; fails when it is blank."""
    assert drv.current is not None, "the sign is blank"
    return drv.current


@pytest.fixture
async def panels_hub(fake_hub: Hub) -> Hub:
    """A FakeClock hub with the two panels set up."""
    config = CONFIG_SCHEMA({"panels": panels_config(), "datex2": {"national_identifier": "CEUTA-CCS"}})
    assert await async_setup(fake_hub, config)
    await fake_hub.async_block_till_done()
    return fake_hub


@pytest.fixture
def panel(panels_hub: Hub) -> Callable[[str], PanelEntity]:
    """The PanelEntity behind an entity id."""

    def _get(entity_id: str) -> PanelEntity:
        entity = get_entity(panels_hub, entity_id)
        assert isinstance(entity, PanelEntity)
        return entity

    return _get


@pytest.fixture
def driver(panel: Callable[[str], PanelEntity]) -> Callable[[str], MemoryPanelDriver]:
    """The memory driver of a panel (what the sign was sent)."""

    def _get(entity_id: str) -> MemoryPanelDriver:
        drv = panel(entity_id).driver
        assert isinstance(drv, MemoryPanelDriver)
        return drv

    return _get
