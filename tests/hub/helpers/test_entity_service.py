"""Entity services: targets by entity_id or area_id, resolved to live entities of the right kind."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from hub.core import Context, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers.entity import Entity
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.entity_service import async_register_entity_service


class Lamp(Entity):
    domain = "lamp"

    def __init__(self, name: str, area: str | None = None) -> None:
        self._attr_name = name
        self._attr_area_id = area
        self.levels: list[tuple[int, Context | None]] = []

    async def async_dim(self, level: int, context: Context | None = None) -> None:
        self.levels.append((level, context))


class Meter(Entity):
    domain = "lamp"  # the right domain, the wrong kind

    def __init__(self, name: str, area: str | None = None) -> None:
        self._attr_name = name
        self._attr_area_id = area


@pytest.fixture
async def lamps(fake_hub: Hub) -> list[Lamp]:
    found = [Lamp("Port", "port"), Lamp("Quay", "port"), Lamp("Hill", "monte_hacho")]
    await async_add_entities(fake_hub, "test", [*found, Meter("Port meter", "port")])
    return found


async def test_method_called_on_ids_and_areas_with_the_fields(fake_hub: Hub, lamps: list[Lamp]) -> None:
    async_register_entity_service(fake_hub, "lamp", "dim", "async_dim",
                                  {vol.Required("level"): vol.Coerce(int)}, entity_domain="lamp")
    context = Context()
    await fake_hub.services.async_call("lamp", "dim", {"area_id": "port", "level": "40"}, context=context)
    await fake_hub.services.async_call("lamp", "dim", {"entity_id": "lamp.hill, lamp.port", "level": 7})
    assert [level for level, _ in lamps[0].levels] == [40, 7]
    assert lamps[0].levels[0][1] is context
    assert [level for level, _ in lamps[1].levels] == [40]  # the meter in the same area is passed over
    assert [level for level, _ in lamps[2].levels] == [7]


async def test_targets_are_checked(fake_hub: Hub, lamps: list[Lamp]) -> None:
    async_register_entity_service(fake_hub, "lamp", "dim", "async_dim", {vol.Required("level"): int},
                                  entity_domain="lamp")
    with pytest.raises(ServiceValidationError, match="give 'entity_id' or 'area_id'"):
        await fake_hub.services.async_call("lamp", "dim", {"level": 1})
    with pytest.raises(ServiceValidationError, match=r"'sensor\.x' is not a lamp entity id"):
        await fake_hub.services.async_call("lamp", "dim", {"entity_id": "sensor.x", "level": 1})
    with pytest.raises(ServiceValidationError, match=r"lamp\.gone: no such lamp"):
        await fake_hub.services.async_call("lamp", "dim", {"entity_id": "lamp.gone", "level": 1})
    with pytest.raises(ServiceValidationError, match=r"lamp\.port_meter is not a lamp"):
        await fake_hub.services.async_call("lamp", "dim", {"entity_id": "lamp.port_meter", "level": 1})
    with pytest.raises(ServiceValidationError, match="entity_id"):  # only services that allow it take `all`
        await fake_hub.services.async_call("lamp", "dim", {"entity_id": "all", "level": 1})
    assert all(not lamp.levels for lamp in lamps)


async def test_handler_gets_all_targets_together(fake_hub: Hub, lamps: list[Lamp]) -> None:
    seen: list[list[str]] = []

    async def handler(call: ServiceCall, entities: list[Any]) -> dict[str, Any]:
        seen.append([entity.entity_id for entity in entities])
        return {"count": len(entities)}

    async_register_entity_service(fake_hub, "lamp", "count", handler, entity_type=Lamp, default_all=True,
                                  supports_response=SupportsResponse.ONLY)
    response = await fake_hub.services.async_call("lamp", "count", {}, return_response=True)
    assert response == {"count": 3}
    await fake_hub.services.async_call("lamp", "count", {"entity_id": "lamp.quay", "area_id": ["port"]},
                                       return_response=True)
    assert seen == [["lamp.port", "lamp.quay", "lamp.hill"], ["lamp.quay", "lamp.port"]]
