"""Tests of the panel entity's device side: status reports, comm failure and retry, removal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from hub.clock import FakeClock
from hub.core import Hub
from integrations.panels import async_unload
from integrations.panels import entity as entity_module
from integrations.panels.const import RETRY_INTERVAL
from integrations.panels.driver import MemoryPanelDriver, PanelStatusUpdate

from .conftest import PORT, TARAJAL, shown

DriverOf = Callable[[str], MemoryPanelDriver]


def attrs(hub: Hub, entity_id: str) -> dict[str, object]:
    state = hub.states.get(entity_id)
    assert state is not None
    return dict(state.attributes)


async def test_capabilities_and_location_in_attributes(panels_hub: Hub) -> None:
    state = panels_hub.states.get(TARAJAL)
    assert state is not None and state.state == "blank"
    a = state.attributes
    assert a["friendly_name"] == "Frontera Tarajal"
    assert a["panel_id"] == "P-TARAJAL-1"
    assert a["area_id"] == "tarajal"
    assert (a["latitude"], a["longitude"]) == (35.8728, -5.3433)
    assert (a["rows"], a["chars_per_row"], a["max_pages"]) == (2, 12, 1)
    assert (a["brightness_min"], a["brightness_max"], a["colour"]) == (0, 100, "amber")
    assert "Ñ" in a["charset"] and "ñ" not in a["charset"]
    assert a["status"] == "working" and a["pixel_errors"] == 0 and a["driver"] == "memory"


async def test_comm_failure_keeps_the_message_and_retries(panels_hub: Hub, driver: DriverOf,
                                                          fake_clock: FakeClock) -> None:
    driver(PORT).fail = True
    await panels_hub.services.async_call("panel", "display", {"entity_id": PORT, "lines": ["NIEBLA"]})
    a = attrs(panels_hub, PORT)
    assert a["status"] == "comm_failure"
    assert a["pages"] == [["NIEBLA"]]  # the hub still knows what the sign should show
    assert driver(PORT).shown == []

    await fake_clock.async_advance(RETRY_INTERVAL)
    await panels_hub.async_block_till_done()
    assert attrs(panels_hub, PORT)["status"] == "comm_failure"

    driver(PORT).fail = False
    await fake_clock.async_advance(RETRY_INTERVAL)
    await panels_hub.async_block_till_done()
    assert attrs(panels_hub, PORT)["status"] == "working"
    assert shown(driver(PORT)).lines == ["NIEBLA"]


async def test_sign_reporting_working_triggers_an_immediate_resend(panels_hub: Hub, driver: DriverOf) -> None:
    driver(PORT).fail = True
    await panels_hub.services.async_call("panel", "display", {"entity_id": PORT, "lines": ["OBRAS"]})
    driver(PORT).fail = False
    driver(PORT).report(PanelStatusUpdate(status="working"))
    await panels_hub.async_block_till_done()
    assert attrs(panels_hub, PORT)["status"] == "working"
    assert shown(driver(PORT)).lines == ["OBRAS"]


async def test_a_sign_that_hangs_is_a_comm_failure(panels_hub: Hub, driver: DriverOf,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    hang = asyncio.Event()

    async def never_answers(message: object) -> None:
        await hang.wait()

    monkeypatch.setattr(entity_module, "SEND_TIMEOUT", 0.01)
    monkeypatch.setattr(driver(PORT), "async_show", never_answers)
    await panels_hub.services.async_call("panel", "display", {"entity_id": PORT, "lines": ["A"]})
    assert attrs(panels_hub, PORT)["status"] == "comm_failure"


async def test_pixel_errors_and_brightness_reports(panels_hub: Hub, driver: DriverOf) -> None:
    driver(TARAJAL).report(PanelStatusUpdate(pixel_errors=12, brightness=70))
    a = attrs(panels_hub, TARAJAL)
    assert (a["status"], a["pixel_errors"], a["brightness"]) == ("pixel_errors", 12, 70)
    driver(TARAJAL).report(PanelStatusUpdate(status="comm_failure"))
    assert attrs(panels_hub, TARAJAL)["status"] == "comm_failure"
    driver(TARAJAL).report(PanelStatusUpdate(status="working", pixel_errors=0))
    assert attrs(panels_hub, TARAJAL)["status"] == "working"


async def test_unload_removes_panels_services_and_timers(panels_hub: Hub, driver: DriverOf,
                                                         fake_clock: FakeClock) -> None:
    port_driver = driver(PORT)
    await panels_hub.services.async_call(
        "panel", "display", {"entity_id": PORT, "lines": ["A"], "duration": 60}
    )
    assert fake_clock.pending >= 1
    assert await async_unload(panels_hub)
    assert panels_hub.states.get(PORT) is None and panels_hub.states.get(TARAJAL) is None
    assert not panels_hub.services.has_service("panel", "display")
    assert not panels_hub.services.has_service("panel", "clear")
    assert fake_clock.pending == 0
    assert port_driver.started is False
