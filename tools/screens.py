"""Photograph the control room of the bundled Ceuta site for docs/screens/ (1920x1080, dark and light themes).

    python tools/screens.py                   # writes docs/screens/*.png
    python tools/screens.py --out /tmp/shots  # somewhere else

What an operator of the National Police sees on the running Ceuta site (`hacho run` on a copy of config/ceuta,
with ports of its own, so it runs beside `make run`): a stolen car at the Tarajal camera and a fire on Monte
Hacho are made through the site's own services (as the demos in docs/ceuta-site.md do), then the operator logs in
through the form and works: the alarm queue, the ANPR alarm (plate crop, overview, small map), the fire alarm
(thermal frame, bearings), the map, the devices, the camera wall, an incident with both alarms and a note, a plate
search with its purpose, and the shift log. Each page is photographed in both themes. Needs Debian's chromium
and Playwright (`make install-dev`); it takes two to three minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal

import cv2
import numpy as np

ROOT: Final = Path(__file__).resolve().parents[1]
SITE: Final = ROOT / "config" / "ceuta"
CENTRE: Final = "national_police"
USER: Final = "luis"
STOLEN: Final = "4321FGH"
PURPOSE: Final = "Diligencias 1234/2026: vehículo sustraído en Algeciras"
CHROMIUM_ARGS: Final = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        "--lang=es-ES"]  # the browser's own controls (file and date inputs) in Spanish too
_NOT_PHOTOGRAPHED: Final = frozenset({"automations"})  # checked, not in docs/screens
# What an operator should never read: an entity id, an alarm id, a snake_case identifier, a Python value.
_NOT_FOR_PEOPLE: Final = re.compile(
    r"\b(?:binary_sensor|sensor|bollard|panel|camera|geo_location|thermal_fire|anpr)\.[a-z0-9_]+\b"
    r"|\balarm_[0-9a-f]{6,}|\b[a-z]+_[a-z0-9_]+\b|\b(?:None|True|False)\b|\d{4}-\d\d-\d\dT\d\d:\d\d")
# English a Spanish screen must not show: the interface's words and what integrations name or report.
_ENGLISH: Final = re.compile(
    r"\b(?:Acknowledge|Devices|Search|Alarms|Incidents|Map|Procedure|Timeline|Details|Evidence|Log out|Shift|"
    r"Hand over|Show|Save|Note|Plate|Camera|camera|Fire|fire|vehicles|wind|humidity|pressure|temperature|"
    r"recording|scanning|connected|streaming|unknown|unavailable|Hotlist|journey|Flow|Occupancy|Speed|"
    r"Power|Energy|Voltage|Choose File|No file chosen)\b")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _copy_site(dest: Path) -> Path:
    """config/ceuta without what a running site wrote, under a site id and seed of its own."""
    shutil.copytree(SITE, dest, ignore=shutil.ignore_patterns("secrets.yaml", ".storage", "storage", "*.db*",
                                                        "media", "*.log"))
    configuration = dest / "configuration.yaml"
    suffix = secrets.token_hex(3)
    configuration.write_text(configuration.read_text(encoding="utf-8").replace(
        "  site: ceuta\n", f"  site: ceuta_screens_{suffix}\n"), encoding="utf-8")
    simulator = dest / "devices" / "simulator.yaml"
    simulator.write_text(simulator.read_text(encoding="utf-8").replace(
        "seed: 2026", "seed: 2026\nremove_on_stop: true"), encoding="utf-8")
    return dest


def _users(config_dir: Path, password: str) -> str:
    """The National Police operator who is photographed, and an admin token for the services; the token."""
    from hub.auth.tokens import create_token
    from hub.auth.users import add_user

    add_user(config_dir, "admin", role="admin", centre="local_police", password=password,
             name="Administración CCS")
    add_user(config_dir, USER, role="operator", centre=CENTRE, password=password,
             name="Luis Gómez (Policía Nacional)")
    return create_token(config_dir, "screens", user_id="admin")


class Api:
    """The running hub's REST API with the admin token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

    def request(self, path: str, data: dict[str, Any] | None = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=body, method="GET" if data is None else "POST",
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def call(self, service: str, data: dict[str, Any]) -> Any:
        return self.request(f"/api/services/{service}", data)

    def wait(self, what: str, check: Any, timeout: float) -> Any:
        """Poll `check()` until it gives something true; fail after `timeout` seconds naming `what`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found = check()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                found = None
            if found:
                return found
            time.sleep(1)
        raise SystemExit(f"tools/screens.py: {what} did not happen within {timeout:.0f} s")

    def alarm(self, alarm_type: str) -> str | None:
        alarms = self.request("/api/alarms")
        items = alarms.get("alarms", alarms) if isinstance(alarms, dict) else alarms
        for alarm in items:
            if alarm.get("type") == alarm_type:
                return str(alarm["alarm_id"])
        return None


def _small_png(path: Path) -> None:
    """Fewer colour levels and full compression: the docs stay small."""
    image = np.asarray(cv2.imread(str(path), cv2.IMREAD_COLOR), dtype=np.uint8)
    cv2.imwrite(str(path), np.asarray((image // 16) * 16 + 8, dtype=np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def not_for_people(text: str) -> list[str]:
    """What an operator should never read on a Spanish screen: ids, Python values, ISO timestamps, English."""
    return sorted(set(_NOT_FOR_PEOPLE.findall(text)) | set(_ENGLISH.findall(text)))


async def async_visit(base_url: str, password: str, api: Api, out: Path | None = None,
                      themes: tuple[Literal["dark", "light"], ...] = ("dark", "light")) -> dict[str, str]:
    """Log in as the National Police operator, open an incident and search a plate as a person would, then
    open each screen (photographed into `out` when given, per theme); the screens' text by name."""
    from playwright.async_api import async_playwright

    chromium = os.environ.get("HACHO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("tools/screens.py: chromium is not installed (make install-dev installs it)")
    anpr = api.alarm("anpr_hotlist")
    fire = api.alarm("fire")
    centre = f"{base_url}/c/{CENTRE}"
    texts: dict[str, str] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="es-ES",
                                            timezone_id="Europe/Madrid")
        page = await context.new_page()
        await page.goto(f"{base_url}/login")
        await page.fill("#username", USER)
        await page.fill("#password", password)
        await page.click("#login-submit")
        await page.wait_for_selector("body[data-live='1']", timeout=20000)
        # An incident with both alarms and a note, and a plate search with its purpose, as an operator makes them.
        await page.goto(f"{centre}/incidents")
        await page.fill("#title", "Vehículo sustraído en el Tarajal")
        await page.click("#incident-create-submit")
        await page.wait_for_selector("#incident-timeline")
        incident_url = page.url
        for alarm in (anpr, fire):
            await page.select_option("#alarm-select", alarm)
            await page.click("#incident-link-alarm button[type=submit]")
            await page.wait_for_load_state("domcontentloaded")
        await page.fill("#note-text", "Patrulla 12 sigue al vehículo por la N-352")
        await page.click("#incident-note button[type=submit]")
        await page.locator("li.incident-item[data-kind='note']").wait_for()
        screens: list[tuple[str, str | None, str | None]] = [
            ("queue", f"{centre}/", "#queue-body tr"),
            ("alarm-anpr", f"{centre}/alarms/{anpr}", "#evidence-crop img"),
            ("alarm-fire", f"{centre}/alarms/{fire}", "#evidence-thermal svg"),
            ("map", f"{centre}/map", "#map path.map-alarms"),
            ("devices", f"{centre}/devices?per_page=200", "#device-list tr"),
            ("cameras", f"{centre}/cameras", None),
            ("automations", f"{centre}/automations", None),
            ("incident", incident_url, "#incident-timeline"),
            ("plates", None, "#plate-results"),
            ("shift", f"{centre}/shift", None),
        ]
        for theme in themes:
            await page.emulate_media(color_scheme=theme)
            for name, url, ready in screens:
                if name == "plates":
                    await page.goto(f"{centre}/plates")
                    await page.fill("#plate", STOLEN)
                    await page.fill("#purpose", PURPOSE)
                    await page.click("#search-submit")
                else:
                    assert url is not None
                    await page.goto(url)
                if ready is not None:
                    await page.locator(ready).first.wait_for(timeout=30000)
                await page.wait_for_timeout(1500)  # live data, images and map tiles drawn
                texts[name] = await page.inner_text("body")
                if out is not None and name not in _NOT_PHOTOGRAPHED:
                    shot = out / f"{name}-{theme}.png"
                    await page.screenshot(path=str(shot))
                    _small_png(shot)
                    print(shot, flush=True)
        await browser.close()
    return texts


@contextmanager
def running_ceuta(password: str) -> Iterator[tuple[str, Api]]:
    """`hacho run` on a copy of config/ceuta with ports of its own, an admin token and the operator; a
    stolen car past the Tarajal camera and a fire on Monte Hacho made through its services. Yields the base
    URL and the API once both alarms are raised; stops the hub after."""
    with tempfile.TemporaryDirectory(prefix="hacho-screens-") as tmp:
        config_dir = _copy_site(Path(tmp) / "ceuta")
        token = _users(config_dir, password)
        env = dict(os.environ)
        for variable in ("HACHO_HTTP_PORT", "HACHO_SIM_MODBUS_PORT", "HACHO_SIM_AGENCY_PORT", "HACHO_SIM_RTSP_PORT"):
            env[variable] = str(_free_port())
        base_url = f"http://127.0.0.1:{env['HACHO_HTTP_PORT']}"
        with (Path(tmp) / "hub.log").open("wb") as log:
            hub = subprocess.Popen([sys.executable, "-m", "hacho", "run", "-c", str(config_dir)], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
            try:
                api = Api(base_url, token)
                api.wait("the hub's start", lambda: api.request("/api/").get("state") == "RUNNING", 180)
                api.call("anpr/hotlist_add", {"list": "stolen", "plate": STOLEN,
                                              "reason": "Sustraído en Algeciras"})
                api.call("anpr/simulate_vehicle", {"camera": "tarajal_in", "plate": STOLEN})
                api.call("thermal_fire/simulate_ignition", {"latitude": 35.8975, "longitude": -5.3050,
                                                            "spread_ms": 0.05})
                api.wait("the ANPR hotlist alarm", lambda: api.alarm("anpr_hotlist"), 60)
                api.wait("the fire alarm", lambda: api.alarm("fire"), 180)
                yield base_url, api
            finally:
                hub.send_signal(signal.SIGTERM)
                try:
                    hub.wait(60)
                except subprocess.TimeoutExpired:
                    hub.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens", help="folder for the PNG files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    with running_ceuta(password) as (base_url, api):
        texts = asyncio.run(async_visit(base_url, password, api, args.out))
    problems = {name: found for name, text in texts.items() if (found := not_for_people(text))}
    for name, found in problems.items():
        print(f"not for people on screen {name}: {', '.join(found)}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
