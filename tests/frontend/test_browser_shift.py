"""A whole shift in a real Chromium, from the screens alone, in Spanish: an operator logs in, takes an ANPR
hotlist hit (plate crop, overview, small map, the SOP's next step) and acknowledges it with one click, opens a
fire (thermal frame, bearings), finds the alarms on the map, looks a bollard up by name, opens an incident for
an alarm with a note, searches a plate with a purpose, writes the shift log and hands over; the next operator
sees the hand-over summary and acknowledges it. Every page is checked for English UI words, Python values,
raw ISO timestamps and internal ids shown as text. The world is set up through the services, as devices do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest
import pytest_asyncio

from hub.auth import passwords
from integrations.anpr import DATA_KEY as ANPR_DATA_KEY
from integrations.thermal_fire.imaging import thumbnail

from . import test_browser
from .browser import require_chromium, screenshot
from .site import BOLLARD_LOCAL, LOCAL, PANEL_LOCAL, Site, async_start_site
from .test_browser_daily import write_log_and_hand_over
from .test_legible import raw_values
from .test_plates import ANPR, PURPOSE, async_stop_anpr_site, audit_rows, store_reads

pytestmark = pytest.mark.asyncio(loop_scope="module")

browser = test_browser.browser
cheap_hashes = test_browser.cheap_hashes
open_screen = test_browser.open_screen

# Words of the English interface that must not show on a Spanish screen (whole words).
ENGLISH: Final = ("Acknowledge", "Devices", "Search", "Alarms", "Incidents", "Map", "Procedure", "Timeline",
                  "Details", "Evidence", "Log out", "Shift", "Hand over", "Show", "Save", "Note", "Plate")
_ENGLISH = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH) + r")\b")
_INTERNAL_ID = re.compile(r"\balarm_[0-9a-f]{6,}|\b(?:binary_sensor|sensor|bollard|panel|camera|geo_location)"
                          r"\.[a-z0-9_]+\b")


# The Ceuta site's alarm types as its operators read them: Spanish names and procedures.
SHIFT_ALARMS: Final = {"types": [
    {"id": "fire", "name": "Incendio visto por una torre térmica", "severity": "critical", "shared": True, "sop": [
        {"id": "confirm", "title": "Confirmar en la imagen térmica", "type": "checklist"},
        {"id": "warn", "title": "Avisar a los conductores en el panel del puerto", "type": "service",
         "service": "panel.display", "data": {"entity_id": PANEL_LOCAL, "lines": ["INCENDIO", "PRECAUCION"]}},
        {"id": "report", "title": "Avisar a los bomberos", "type": "note"},
    ]},
    {"id": "anpr_hit", "name": "Matrícula en lista de búsqueda", "severity": "major", "sop": [
        {"id": "verify", "title": "Comparar la lectura con el recorte de la matrícula", "type": "checklist"},
        {"id": "dispatch", "title": "Enviar una patrulla", "type": "note"},
    ]},
]}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    require_chromium()
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    config_dir: Path = tmp_path_factory.mktemp("shift")
    running = await async_start_site(config_dir, extra_sections={
        "anpr": ANPR, "incident": {}, "shift_log": {}, "alarm": SHIFT_ALARMS})
    yield running
    await async_stop_anpr_site(running)
    passwords.configure_hasher()


async def _legible(page: Any, where: str, *, allowed: tuple[str, ...] = ()) -> str:
    """The page's visible text, asserted Spanish and free of raw values and ids; `allowed`: data shown as
    entered (an alarm type's configured name, say), left out of the English check."""
    await page.wait_for_load_state("domcontentloaded")
    assert await page.get_attribute("html", "lang") == "es", where
    text = await page.inner_text("body")
    checked = text
    for phrase in allowed:
        checked = checked.replace(phrase, "")
    assert _ENGLISH.findall(checked) == [], (where, _ENGLISH.findall(checked))
    assert raw_values(text) == [], where
    assert _INTERNAL_ID.findall(text) == [], (where, _INTERNAL_ID.findall(text))
    return text


async def test_the_checks_find_english_words_and_ids() -> None:
    """The page checks catch what they should (so their empty answers mean something)."""
    assert _ENGLISH.findall("Alarmas · Acknowledge · Search plates · Mapa") == ["Acknowledge", "Search"]
    assert _INTERNAL_ID.findall("alarm_3f2a9c01 en binary_sensor.b05_intrusion, B-05 Calle Real") == [
        "alarm_3f2a9c01", "binary_sensor.b05_intrusion"]


async def _raise(site: Site, **data: Any) -> str:
    raised: Any = await site.hub.services.async_call("alarm", "raise", data, return_response=True)
    return str(raised["alarm_id"])


async def _image_loaded(page: Any, selector: str) -> None:
    image = page.locator(selector)
    await image.wait_for()
    await page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=await image.element_handle())


async def test_a_whole_shift_from_the_screens(open_screen: Any, live_site: Site) -> None:
    site = live_site
    # The world: an ANPR hit on the stolen list (crop and frame on disk) and a thermal tower's fire.
    await store_reads(site)
    await site.hub.services.async_call("anpr", "hotlist_add", {
        "list": "stolen", "plate": "4321FGH", "reason": "Sustraído en Algeciras", "source": "DGP"})
    hit = await _raise(site, type="anpr_hit", title="Vehículo sustraído en Calle Real", area_id="calle_real",
                       latitude=35.8881, longitude=-5.3136, data={"hit_id": "hit1", "plate": "4321FGH"})
    frame = np.full((120, 160), 290.0)
    frame[60:64, 80:84] = 700.0
    fire = await _raise(site, type="fire", title="Humo en el Centro", area_id="centro",
                        latitude=35.8886, longitude=-5.3170,
                        data={"snapshot": thumbnail(frame, (81.5, 61.5)), "temperature_c": 426.9,
                              "bearings": [{"tower": "hacho_north", "bearing_deg": 131.5},
                                           {"tower": "tarajal_mast", "bearing_deg": 64.0}]})

    # Log in: Spanish by default, the queue with both alarms.
    op = await open_screen("op_local", width=1920, height=1080)
    page = op.page
    assert page.url == f"{site.base_url}/c/{LOCAL}/"
    await page.wait_for_selector("body[data-live='1']", timeout=5000)
    await page.locator("#queue-body tr", has_text="Vehículo sustraído en Calle Real").wait_for()
    text = await _legible(page, "queue")
    assert "Alarmas" in text and "Humo en el Centro" in text

    # The ANPR alarm: plate crop, overview, read and list entry, a small map with a marker, the next step.
    await page.locator("#queue-body tr", has_text="Vehículo sustraído en Calle Real").locator("a").first.click()
    await page.wait_for_url(f"**/alarms/{hit}")
    await _image_loaded(page, "#evidence-crop img")
    await _image_loaded(page, "#evidence-frame img")
    assert "4321FGH" in await page.inner_text("#evidence-read")
    assert "Sustraído en Algeciras" in await page.inner_text("#evidence-entry")
    assert await page.locator("#evidence-map svg #evidence-marker").is_visible()
    await page.locator("#alarm-details dt").first.wait_for()
    next_step = page.locator("#alarm-next-step")
    await next_step.wait_for()
    text = await _legible(page, "anpr alarm")
    await screenshot(page, "shift-anpr-alarm")
    assert "Calle Real" in await page.inner_text("#alarm-details")
    assert "Comparar la lectura con el recorte de la matrícula" in await next_step.inner_text()
    # one click acknowledges it
    await page.click("#btn-acknowledge")
    await page.wait_for_selector("#alarm-state.state-acknowledged")
    await _legible(page, "anpr alarm acknowledged")
    # the hit is reviewed on its evidence: a corrected read (the site's training set) and a confirmed hit
    await page.fill("#hit-plate", "4321 FGH")
    await page.fill("#hit-reason", "Comprobada con la imagen de contexto")
    await page.click("#hit-correct")
    await page.locator("#toasts .flash", has_text="Lectura corregida").wait_for()
    await page.click("#hit-accept")
    await page.locator("#hit-status strong", has_text="aceptado").wait_for()
    manager = site.hub.data[ANPR_DATA_KEY]
    reviewed = await manager.hit_log.async_get("hit1")
    assert (reviewed.status, reviewed.reviewed_by) == ("accepted", "op_local")
    assert [(r.user_id, r.target) for r in await audit_rows(site, "anpr.read_correct")] == [("op_local", "hit1")]
    await _legible(page, "anpr alarm reviewed")

    # The fire: the thermal frame with its hotspot, the towers' bearings, the located point.
    await page.goto(f"{site.base_url}/c/{LOCAL}/alarms/{fire}")
    await page.locator("#evidence-thermal svg").wait_for()
    assert await page.locator("#evidence-hotspot").count() == 1
    fire_text = await page.inner_text("#evidence-fire")
    assert "131,5°" in fire_text and "64°" in fire_text and "426,9\u00a0°C" in fire_text  # Spanish numbers
    assert "35.88860, -5.31700" in fire_text
    await page.locator("#alarm-details dt").first.wait_for()
    text = await _legible(page, "fire alarm", allowed=("hacho_north", "tarajal_mast"))
    assert "Centro" in await page.inner_text("#alarm-details")
    await screenshot(page, "shift-fire-alarm")

    # The map: both alarms' markers, each popup leading to its alarm.
    await page.click("nav a[href$='/map']")
    await page.wait_for_selector("#map path.map-alarms", timeout=20000)
    assert await page.locator("#map path.map-alarms").count() >= 2
    await _legible(page, "map")
    await screenshot(page, "shift-map")

    # The devices: a bollard found by its name.
    await page.click("nav a[href$='/devices']")
    await page.fill("#q", "Calle Real north")
    await page.click("#filter-submit")
    await page.wait_for_load_state("domcontentloaded")
    rows = page.locator("#device-list tr[data-entity-id]")
    await rows.first.wait_for()
    assert [await r.get_attribute("data-entity-id") for r in await rows.all()] == [BOLLARD_LOCAL]
    assert "Calle Real north" in await _legible(page, "devices")

    # An incident for the ANPR alarm, with a note.
    await page.click("nav a[href$='/incidents']")
    await _legible(page, "incidents")
    await page.fill("#title", "Vehículo sustraído visto en Calle Real")
    await page.click("#incident-create-submit")
    await page.wait_for_selector("#incident-timeline")
    await page.select_option("#alarm-select", hit)
    await page.click("#incident-link-alarm button[type=submit]")
    await page.locator("li.incident-item[data-kind='alarm']").wait_for()
    await page.fill("#note-text", "Patrulla 12 localiza el vehículo")
    await page.click("#incident-note button[type=submit]")
    await page.locator("li.incident-item[data-kind='note']").wait_for()
    text = await _legible(page, "incident")
    assert "Vehículo sustraído en Calle Real" in text and "Patrulla 12 localiza el vehículo" in text

    # A plate search, with its purpose.
    await page.click("nav a[href$='/plates']")
    await _legible(page, "plates form")
    await page.fill("#plate", "4321 FGH")
    await page.fill("#purpose", PURPOSE)
    await page.click("#search-submit")
    await page.wait_for_selector("#plate-results")
    assert await page.locator("tr.plate-read").count() >= 1
    await _legible(page, "plate results", allowed=(PURPOSE,))
    assert [(r.user_id, r.target) for r in await audit_rows(site, "plate_search")] == [("op_local", "plate:4321FGH")]

    # The shift log and the hand-over.
    await write_log_and_hand_over(page, "Sin novedad en el puerto", "Atención al incendio del Centro")
    await _legible(page, "shift handed over")

    # The next operator: the summary of open alarms and incidents, acknowledged.
    incoming = await open_screen("op_local2", width=1920, height=1080)
    page2 = incoming.page
    await page2.click("nav a[href$='/shift']")
    await page2.locator("#handover-pending").wait_for()
    alarms_text = await page2.inner_text("#handover-alarms")
    assert "Humo en el Centro" in alarms_text and "Vehículo sustraído en Calle Real" in alarms_text
    assert "Vehículo sustraído visto en Calle Real" in await page2.inner_text("#handover-incidents")
    assert "Atención al incendio del Centro" in await _legible(page2, "hand-over summary")
    await screenshot(page2, "shift-handover-summary")
    await page2.click("#handover-ack-submit")
    await page2.locator("li.shift-entry[data-kind='acknowledged']").wait_for()
    assert await page2.locator("#handover-pending").count() == 0
    await _legible(page2, "hand-over acknowledged")
    assert op.csp_violations() == [] and incoming.csp_violations() == []
