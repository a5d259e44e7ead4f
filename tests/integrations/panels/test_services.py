"""Tests of panel.display and panel.clear through the service registry, states and the memory driver."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub.clock import FakeClock
from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError
from integrations.panels.driver import MemoryPanelDriver

from .conftest import PORT, TARAJAL, shown

OPERATOR = Context(user_id="op-17", centre="ceuta_norte")

DriverOf = Callable[[str], MemoryPanelDriver]


async def display(hub: Hub, context: Context = OPERATOR, **data: object) -> dict[str, object]:
    response = await hub.services.async_call("panel", "display", data, context=context, return_response=True)
    assert response is not None
    return response


async def test_display_shows_message_and_records_who(panels_hub: Hub, driver: DriverOf,
                                                     fake_clock: FakeClock) -> None:
    response = await display(panels_hub, entity_id=PORT,
                             pages=[["ACCESO PUERTO", "CERRADO"], "DESVIO\nAV. ESPAÑA"],
                             priority="traffic", duration=600, page_time=4)
    state = panels_hub.states.get(PORT)
    assert state is not None
    assert state.state == "displaying"
    attrs = state.attributes
    assert attrs["pages"] == [["ACCESO PUERTO", "CERRADO"], ["DESVIO", "AV. ESPAÑA"]]
    assert attrs["priority"] == "traffic"
    assert attrs["page_time"] == 4.0
    assert attrs["user_id"] == "op-17"
    assert attrs["centre"] == "ceuta_norte"
    assert attrs["message_id"] == response["message_id"]
    assert attrs["expires"] == fake_clock.now().replace(minute=10).isoformat()
    assert attrs["status"] == "working"
    assert (attrs["rows"], attrs["chars_per_row"], attrs["max_pages"]) == (3, 18, 3)
    assert attrs["pictograms"] == ["danger", "fog", "roadworks"]
    assert state.context.user_id == "op-17" and state.context.centre == "ceuta_norte"
    sent = shown(driver(PORT))
    assert sent.id == response["message_id"]
    assert sent.lines == ["ACCESO PUERTO", "CERRADO", "DESVIO", "AV. ESPAÑA"]


async def test_oversize_message_is_rejected_naming_page_and_line(panels_hub: Hub, driver: DriverOf) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await display(panels_hub, entity_id=PORT, lines=["CALLE REAL", "RETENCIONES HASTA PLAZA"])
    assert str(err.value) == "page 1 line 2: 23 characters, panel P-PORT-1 shows 18 per row"
    with pytest.raises(ServiceValidationError,
                       match="page 1 line 1: character 'ñ' not supported by panel P-PORT-1"):
        await display(panels_hub, entity_id=PORT, lines=["AÑO ñ"])
    with pytest.raises(ServiceValidationError, match="4 pages, panel P-PORT-1 shows at most 3"):
        await display(panels_hub, entity_id=PORT, pages=["A", "B", "C", "D"])
    with pytest.raises(ServiceValidationError, match="page 1: 4 lines, panel P-PORT-1 has 3 rows"):
        await display(panels_hub, entity_id=PORT, pages=[["A", "B", "C", "D"]])
    with pytest.raises(ServiceValidationError, match="pictogram 'snow' not supported by panel P-PORT-1"):
        await display(panels_hub, entity_id=PORT, lines=["NIEVE"], pictogram="snow")
    state = panels_hub.states.get(PORT)
    assert state is not None and state.state == "blank"
    assert driver(PORT).shown == []


async def test_multi_panel_display_is_all_or_nothing(panels_hub: Hub, driver: DriverOf) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await display(panels_hub, entity_id=[PORT, TARAJAL], lines=["FRONTERA CERRADA"])
    assert "page 1 line 1: 16 characters, panel P-TARAJAL-1 shows 12 per row" in str(err.value)
    assert driver(PORT).shown == [] and driver(TARAJAL).shown == []
    response = await display(panels_hub, entity_id=f"{PORT}, {TARAJAL}", lines=["FRONTERA", "CERRADA"])
    assert response["entity_ids"] == [PORT, TARAJAL]
    for entity_id in (PORT, TARAJAL):
        state = panels_hub.states.get(entity_id)
        assert state is not None and state.attributes["message_id"] == response["message_id"]


async def test_higher_priority_preempts_and_lower_returns_after_expiry(
        panels_hub: Hub, driver: DriverOf, fake_clock: FakeClock) -> None:
    info = await display(panels_hub, entity_id=PORT, lines=["BIENVENIDOS", "A CEUTA"])
    emergency = await display(panels_hub, Context(user_id="chief", centre="ceuta_sur"), entity_id=PORT,
                              lines=["EVACUACION", "SIGA INDICACIONES"], priority="emergency", duration=300)
    state = panels_hub.states.get(PORT)
    assert state is not None
    assert state.attributes["message_id"] == emergency["message_id"]
    assert state.attributes["centre"] == "ceuta_sur"
    assert state.attributes["queued"] == [
        {"message_id": info["message_id"], "priority": "information", "expires": None}
    ]
    # a lower-priority message set meanwhile waits behind the emergency
    traffic = await display(panels_hub, entity_id=PORT, lines=["RETENCIONES"], priority="traffic",
                            duration=600)
    assert shown(driver(PORT)).id == emergency["message_id"]

    await fake_clock.async_advance(299)
    state = panels_hub.states.get(PORT)
    assert state is not None and state.attributes["message_id"] == emergency["message_id"]

    await fake_clock.async_advance(1)
    await panels_hub.async_block_till_done()
    state = panels_hub.states.get(PORT)
    assert state is not None
    assert state.attributes["message_id"] == traffic["message_id"]
    assert state.attributes["user_id"] == "op-17"
    assert shown(driver(PORT)).lines == ["RETENCIONES"]
    assert state.context.parent_id is not None  # the state write was caused by the expired message

    await fake_clock.async_advance(300)
    await panels_hub.async_block_till_done()
    state = panels_hub.states.get(PORT)
    assert state is not None and state.attributes["message_id"] == info["message_id"]
    assert [m.id if m else None for m in driver(PORT).shown] == [
        info["message_id"], emergency["message_id"], traffic["message_id"], info["message_id"]
    ]


async def test_lower_message_that_expired_while_preempted_does_not_return(
        panels_hub: Hub, driver: DriverOf, fake_clock: FakeClock) -> None:
    await display(panels_hub, entity_id=PORT, lines=["OBRAS"], priority="traffic", duration=60)
    await display(panels_hub, entity_id=PORT, lines=["ALERTA"], priority="security", duration=120)
    await fake_clock.async_advance(120)
    await panels_hub.async_block_till_done()
    state = panels_hub.states.get(PORT)
    assert state is not None and state.state == "blank" and state.attributes["pages"] is None
    assert driver(PORT).current is None


async def test_clear_by_priority_all_and_message_id(panels_hub: Hub, driver: DriverOf) -> None:
    info = await display(panels_hub, entity_id=PORT, lines=["INFO"])
    await display(panels_hub, entity_id=PORT, lines=["TRAFICO"], priority="traffic")
    security = await display(panels_hub, entity_id=PORT, lines=["SEGURIDAD"], priority="security")

    cleared = await panels_hub.services.async_call(
        "panel", "clear", {"entity_id": PORT, "priority": "traffic"}, context=OPERATOR, return_response=True
    )
    assert cleared is not None and len(cleared["cleared"][PORT]) == 1
    state = panels_hub.states.get(PORT)
    assert state is not None and state.attributes["message_id"] == security["message_id"]
    assert shown(driver(PORT)).id == security["message_id"]

    clear_ctx = Context(user_id="op-2", centre="ceuta_sur")
    await panels_hub.services.async_call("panel", "clear", {"entity_id": PORT, "priority": "security"},
                                         context=clear_ctx)
    state = panels_hub.states.get(PORT)
    assert state is not None and state.attributes["message_id"] == info["message_id"]
    assert state.context.user_id == "op-2"

    await panels_hub.services.async_call("panel", "clear", {"entity_id": PORT, "message_id": "nope"})
    assert panels_hub.states.get(PORT).state == "displaying"  # type: ignore[union-attr]
    await display(panels_hub, entity_id=PORT, lines=["URGENTE"], priority="emergency")
    await panels_hub.services.async_call("panel", "clear", {"entity_id": PORT, "all": True})
    state = panels_hub.states.get(PORT)
    assert state is not None and state.state == "blank" and state.attributes["queued"] == []
    assert driver(PORT).current is None

    with pytest.raises(ServiceValidationError, match="say what to clear"):
        await panels_hub.services.async_call("panel", "clear", {"entity_id": PORT})


async def test_service_data_errors_name_the_key(panels_hub: Hub) -> None:
    with pytest.raises(ServiceValidationError, match="priority"):
        await display(panels_hub, entity_id=PORT, lines=["A"], priority="urgent")
    with pytest.raises(ServiceValidationError, match="'pages' or 'lines'"):
        await display(panels_hub, entity_id=PORT)
    with pytest.raises(ServiceValidationError, match="not a panel entity id"):
        await display(panels_hub, entity_id="sensor.x", lines=["A"])
    with pytest.raises(ServiceValidationError, match=r"panel\.nowhere: no such panel"):
        await display(panels_hub, entity_id="panel.nowhere", lines=["A"])
    with pytest.raises(ServiceValidationError, match="already past"):
        await display(panels_hub, entity_id=PORT, lines=["A"], expires="2020-01-01T00:00:00+00:00")
    with pytest.raises(ServiceValidationError, match="duration"):
        await display(panels_hub, entity_id=PORT, lines=["A"], duration=-5)


async def test_expires_and_duration_formats(panels_hub: Hub, fake_clock: FakeClock) -> None:
    await display(panels_hub, entity_id=PORT, lines=["A"], duration="00:30:00")
    assert panels_hub.states.get(PORT).attributes["expires"] == "2026-01-01T12:30:00+00:00"  # type: ignore[union-attr]
    await display(panels_hub, entity_id=PORT, lines=["B"], expires="2026-01-01T13:00:00")
    assert panels_hub.states.get(PORT).attributes["expires"] == "2026-01-01T13:00:00+00:00"  # type: ignore[union-attr]
    await fake_clock.async_advance(3600)
    await panels_hub.async_block_till_done()
    assert panels_hub.states.get(PORT).state == "blank"  # type: ignore[union-attr]
