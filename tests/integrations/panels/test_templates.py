"""Tests of templates in panel messages (rendered by the hub's sandbox, hub.helpers.template)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError
from integrations.panels.driver import MemoryPanelDriver

from .conftest import PORT, shown


async def display(hub: Hub, lines: list[str]) -> None:
    await hub.services.async_call("panel", "display", {"entity_id": PORT, "lines": lines},
                                  context=Context(user_id="op-17", centre="ceuta_norte"))


def pages(hub: Hub) -> object:
    state = hub.states.get(PORT)
    assert state is not None
    return state.attributes["pages"]


async def test_templates_render_with_current_states_and_follow_them(
        panels_hub: Hub, driver: Callable[[str], MemoryPanelDriver]) -> None:
    panels_hub.states.async_set("sensor.parking_revellin_free", "23")
    await display(panels_hub, ["PARKING REVELLIN",
                               "{{ states('sensor.parking_revellin_free') }} PLAZAS LIBRES"])
    assert pages(panels_hub) == [["PARKING REVELLIN", "23 PLAZAS LIBRES"]]

    panels_hub.states.async_set("sensor.parking_revellin_free", "7", context=Context(user_id="counter"))
    await panels_hub.async_block_till_done()
    assert pages(panels_hub) == [["PARKING REVELLIN", "7 PLAZAS LIBRES"]]
    assert shown(driver(PORT)).lines[1] == "7 PLAZAS LIBRES"
    state = panels_hub.states.get(PORT)
    assert state is not None and state.context.user_id == "counter"  # the change that caused the re-render

    # a value that would not fit keeps the previous text rather than showing a broken sign
    panels_hub.states.async_set("sensor.parking_revellin_free", "muchisimas")
    await panels_hub.async_block_till_done()
    assert pages(panels_hub) == [["PARKING REVELLIN", "7 PLAZAS LIBRES"]]
    sent_before = len(driver(PORT).shown)

    # once cleared, the panel stops following the sensor
    await panels_hub.services.async_call("panel", "clear", {"entity_id": PORT, "all": True})
    panels_hub.states.async_set("sensor.parking_revellin_free", "3")
    await panels_hub.async_block_till_done()
    assert pages(panels_hub) is None
    assert driver(PORT).shown[sent_before:] == [None]


async def test_is_state_and_state_attr(panels_hub: Hub) -> None:
    panels_hub.states.async_set("binary_sensor.tarajal_open", "on", {"queue_minutes": 35})
    await display(panels_hub, [
        "{% if is_state('binary_sensor.tarajal_open', 'on') %}FRONTERA ABIERTA{% else %}CERRADA{% endif %}",
        "ESPERA {{ state_attr('binary_sensor.tarajal_open', 'queue_minutes') }} MIN",
    ])
    assert pages(panels_hub) == [["FRONTERA ABIERTA", "ESPERA 35 MIN"]]


async def test_template_errors_and_oversize_renders_are_rejected(panels_hub: Hub) -> None:
    with pytest.raises(ServiceValidationError, match="page 1 line 2: template error"):
        await display(panels_hub, ["OK", "{{ states('sensor.x') "])
    with pytest.raises(ServiceValidationError, match=r"page 1 line 1: template error: .*division by zero"):
        await display(panels_hub, ["{{ 1 / 0 }}"])
    panels_hub.states.async_set("sensor.queue_tarajal", "12345678901234")
    with pytest.raises(ServiceValidationError, match="page 1 line 1: 19 characters"):
        await display(panels_hub, ["COLA {{ states('sensor.queue_tarajal') }}"])
    assert panels_hub.states.get(PORT).state == "blank"  # type: ignore[union-attr]


async def test_the_sandbox_refuses_unsafe_attributes(panels_hub: Hub) -> None:
    with pytest.raises(ServiceValidationError, match="page 1 line 1: template error"):
        await display(panels_hub, ["{{ ''.__class__.__mro__ }}"])
