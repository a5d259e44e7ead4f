"""Entity services: targets by entity_id or area_id, resolved to live entities of the right kind."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from hub.core import Context, Hub, JobType, ServiceCall, SupportsResponse, callback
from hub.exceptions import HubError, ServiceValidationError
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


class Dial(Entity):
    """A helper-like entity: its service method is a @callback that writes the state."""

    domain = "dial"

    def __init__(self, name: str, area: str | None = None) -> None:
        self._attr_name = name
        self._attr_area_id = area
        self._attr_state = 0

    @callback
    def async_set_level(self, level: int) -> None:
        self._attr_state = level
        self.async_write_state()

    async def async_slow_set(self, level: int) -> None:
        self._attr_state = level
        self.async_write_state()


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


async def test_inline_callback_method_sets_the_context_and_runs_inline(fake_hub: Hub) -> None:
    dials = [Dial("North", "port"), Dial("South")]
    await async_add_entities(fake_hub, "test", dials)
    async_register_entity_service(fake_hub, "dial", "set", "async_set_level", {vol.Required("level"): int},
                                  entity_domain="dial", allow_all=True, inline=True)
    # The automation engine calls a service in its run's own frame only when its handler is a @callback.
    assert fake_hub.services.async_get("dial", "set").job.job_type is JobType.Callback
    context = Context()
    await fake_hub.services.async_call("dial", "set", {"entity_id": "all", "level": 3}, context=context)
    for entity_id in ("dial.north", "dial.south"):
        written = fake_hub.states.get(entity_id)
        assert written is not None and written.state == "3"
        assert written.context is context  # the state says which call caused it
    await fake_hub.services.async_call("dial", "set", {"area_id": "port", "level": 5})
    assert [fake_hub.states.get(e).state for e in ("dial.north", "dial.south")] == ["5", "3"]  # type: ignore[union-attr]
    with pytest.raises(ServiceValidationError, match="give 'entity_id' or 'area_id'"):  # `all` only when named
        await fake_hub.services.async_call("dial", "set", {"level": 1})
    with pytest.raises(ServiceValidationError, match=r"dial\.gone: no such dial"):
        await fake_hub.services.async_call("dial", "set", {"entity_id": ["dial.south", "dial.gone"], "level": 9})
    assert fake_hub.states.get("dial.south").state == "3"  # type: ignore[union-attr]  # nothing touched


async def test_inline_takes_only_callback_methods(fake_hub: Hub) -> None:
    await async_add_entities(fake_hub, "test", [Dial("North")])

    async def group(call: ServiceCall, entities: list[Any]) -> None:
        """A group handler is a coroutine: it cannot run inline."""

    with pytest.raises(HubError, match="inline entity services take a @callback method name"):
        async_register_entity_service(fake_hub, "dial", "group", group, inline=True)
    async_register_entity_service(fake_hub, "dial", "slow", "async_slow_set", {vol.Required("level"): int},
                                  entity_domain="dial", inline=True)
    with pytest.raises(HubError, match=r"Dial\.async_slow_set is not a @callback"):
        await fake_hub.services.async_call("dial", "slow", {"entity_id": "dial.north", "level": 4})
    assert fake_hub.states.get("dial.north").state == "0"  # type: ignore[union-attr]
