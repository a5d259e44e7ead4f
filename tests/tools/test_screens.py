"""The running Ceuta site's screens as its operators read them (tools/screens.py, which also takes
docs/screens): every screen of a National Police operator, with a stolen car's ANPR alarm and a fire made
through the site's own services, in Spanish, with no id, Python value, ISO timestamp or English word."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from tests.conftest import MQTT_HOST, MQTT_PORT, require_service
from tests.frontend.browser import require_chromium
from tools.screens import async_visit, not_for_people, running_ceuta


def test_the_check_finds_ids_python_values_timestamps_and_english() -> None:
    """What the check catches (so its empty answer on the site means something)."""
    assert {"camera.anpr_tarajal_in", "thermal_fire.hacho"} <= set(
        not_for_people("Origen: thermal_fire.hacho · camera.anpr_tarajal_in"))
    assert not_for_people("Valor None, 2026-12-07T02:10 · Fire 1 · 12 vehicles · unknown km/h") == [
        "2026-12-07T02:10", "Fire", "None", "unknown", "vehicles"]
    assert not_for_people("Incendio 1 · 12 vehículos · desconocido · Cámara térmica Monte Hacho") == []


@pytest.mark.timeout(600)
def test_every_screen_of_the_running_ceuta_site_reads_as_spanish() -> None:
    require_chromium()
    require_service("Mosquitto", MQTT_HOST, MQTT_PORT)
    password = secrets.token_urlsafe(18)
    with running_ceuta(password) as (base_url, api):
        texts = asyncio.run(async_visit(base_url, password, api, themes=("dark",)))
    assert set(texts) == {"queue", "alarm-anpr", "alarm-fire", "map", "devices", "cameras", "automations",
                          "incident", "plates", "shift"}
    assert "4321FGH" in texts["alarm-anpr"] and "Cámara térmica Monte Hacho - Fortaleza" in texts["alarm-fire"]
    assert {name: found for name, text in texts.items() if (found := not_for_people(text))} == {}
