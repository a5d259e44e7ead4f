"""The map in a real Chromium: configured raster-tile and WMS base layers served by a stub on the loopback
(the map requests their tiles and shows them), the offline base map of Ceuta, one overlay per kind in the
layer control, a marker for an alarm, and popups readable in the dark and the light theme."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from hub.auth import passwords
from hub.core import Context
from integrations.alarm.manager import get_manager

from .browser import launched_chromium, login, require_chromium, screenshot
from .site import LOCAL, Site, async_start_site, async_stop_site

pytestmark = pytest.mark.asyncio(loop_scope="module")

TILE_COLOUR = (200, 30, 160)  # a colour nothing else on the map has
WMS_COLOUR = (30, 200, 60)


def _png(colour: tuple[int, int, int], size: int = 256) -> bytes:
    """A plain PNG of one colour (no imaging library needed)."""
    row = b"\x00" + bytes(colour) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)))
    out.write(chunk(b"IDAT", raw))
    out.write(chunk(b"IEND", b""))
    return out.getvalue()


class TileStub:
    """An XYZ tile server and a WMS on 127.0.0.1 that count what they were asked for."""

    def __init__(self) -> None:
        self.tiles: list[tuple[int, int, int]] = []
        self.wms: list[dict[str, str]] = []
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def tile(self, request: web.Request) -> web.Response:
        z, x, y = (int(request.match_info[k]) for k in ("z", "x", "y"))
        self.tiles.append((z, x, y))
        return web.Response(body=_png(TILE_COLOUR), content_type="image/png")

    async def get_map(self, request: web.Request) -> web.Response:
        query = {k.upper(): v for k, v in request.query.items()}
        self.wms.append(query)
        if query.get("REQUEST") != "GetMap":
            return web.Response(status=400, text="only GetMap")
        size = int(query.get("WIDTH", "256"))
        return web.Response(body=_png(WMS_COLOUR, size), content_type="image/png")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/tiles/{z}/{x}/{y}.png", self.tile)
        app.router.add_get("/wms", self.get_map)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    """Overrides the package fixture: the module's site set the cheap hasher for its whole life."""
    yield


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stub() -> AsyncIterator[TileStub]:
    server = TileStub()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def map_site(tmp_path_factory: pytest.TempPathFactory, stub: TileStub) -> AsyncIterator[Site]:
    require_chromium()
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    config_dir: Path = tmp_path_factory.mktemp("map")
    layers = [
        {"name": "Teselas de prueba", "type": "tile", "url": f"{stub.base}/tiles/{{z}}/{{x}}/{{y}}.png",
         "attribution": "Teselas del stub"},
        {"name": "WMS de prueba", "type": "wms", "url": f"{stub.base}/wms", "layers": "base,calles",
         "attribution": "WMS del stub"},
        {"name": "Ceuta (sin conexión)", "type": "offline"},
    ]
    running = await async_start_site(config_dir, frontend_config={"map": {"layers": layers}})
    yield running
    await async_stop_site(running)
    passwords.configure_hasher()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(map_site: Site) -> AsyncIterator[Any]:
    async with launched_chromium() as instance:
        yield instance


@pytest_asyncio.fixture(loop_scope="module")
async def map_page(browser: Any, map_site: Site) -> AsyncIterator[Any]:
    """A logged-in operator's map page (dark theme); no script error or CSP refusal at the end."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(f"uncaught: {err}"))
    await login(page, map_site.base_url, "op_local")
    await page.goto(f"{map_site.base_url}/c/{LOCAL}/map")
    await page.wait_for_selector("#map[data-features][data-renderer=leaflet]")
    yield page
    await context.close()
    assert not [e for e in errors if "Content Security Policy" in e or e.startswith(("Refused to", "uncaught"))], errors


async def _loaded_tiles(page: Any, source: str) -> list[dict[str, Any]]:
    """The tile images of the map from `source` that loaded, with their size and whether they are in view."""
    return list(await page.eval_on_selector_all("#map img.leaflet-tile", """(imgs, source) => imgs
        .filter((img) => img.src.startsWith(source) && img.complete && img.naturalWidth > 0)
        .map((img) => { const r = img.getBoundingClientRect(); const m = document.getElementById("map")
                          .getBoundingClientRect();
                        return { src: img.src, width: img.naturalWidth,
                                 visible: r.right > m.left && r.left < m.right && r.bottom > m.top && r.top < m.bottom
                                          && getComputedStyle(img).visibility !== "hidden" }; })""", source))


async def _pixel(page: Any, expected: tuple[int, int, int]) -> list[int]:
    """The colour near the bottom of the map, from a screenshot of it (what a person sees), once it is
    `expected` or after a few seconds (tiles fade in)."""
    from PIL import Image

    colour: list[int] = []
    for _ in range(20):
        shot = await page.locator("#map").screenshot()
        image = Image.open(io.BytesIO(shot)).convert("RGB")
        colour = list(image.getpixel((image.width // 2, image.height - 40)))  # away from markers and controls
        if colour == list(expected):
            break
        await page.wait_for_timeout(250)
    return colour


async def test_tile_and_wms_layers_are_requested_and_shown(map_page: Any, stub: TileStub, map_site: Site) -> None:
    page = map_page
    assert await page.get_attribute("#map", "data-base") == "Teselas de prueba"
    await page.wait_for_function("""(src) => [...document.querySelectorAll('#map img.leaflet-tile-loaded')]
        .some((img) => img.src.startsWith(src))""", arg=f"{stub.base}/tiles/", timeout=20000)
    assert stub.tiles, "the map asked the tile server for nothing"
    assert all(12 <= z <= 19 for z, _x, _y in stub.tiles)
    tiles = await _loaded_tiles(page, f"{stub.base}/tiles/")
    assert tiles and all(t["width"] == 256 for t in tiles) and any(t["visible"] for t in tiles)
    assert await _pixel(page, TILE_COLOUR) == list(TILE_COLOUR)
    assert "Teselas del stub" in await page.inner_text(".leaflet-control-attribution")
    await screenshot(page, "map-tiles")

    # the layer control switches to the WMS: GetMap requests with the configured layers, images shown
    await page.get_by_label("WMS de prueba").check()
    await page.wait_for_function("""(src) => [...document.querySelectorAll('#map img.leaflet-tile-loaded')]
        .some((img) => img.src.startsWith(src))""", arg=f"{stub.base}/wms", timeout=20000)
    getmaps = [q for q in stub.wms if q.get("REQUEST") == "GetMap"]
    assert getmaps and all(q["LAYERS"] == "base,calles" and q["SERVICE"] == "WMS" for q in getmaps)
    assert {q.get("CRS") for q in getmaps} == {"EPSG:3857"}
    assert any(t["visible"] for t in await _loaded_tiles(page, f"{stub.base}/wms"))
    assert await _pixel(page, WMS_COLOUR) == list(WMS_COLOUR)
    assert await page.get_attribute("#map", "data-base") == "WMS de prueba"

    # and to the offline base map: Ceuta's coastline drawn, no request leaves the hub
    before = len(stub.tiles) + len(stub.wms)
    await page.get_by_label("Ceuta (sin conexión)").check()
    await page.wait_for_selector("#map path.basemap-land")
    assert await page.locator("#map path.basemap-neighbour").count() >= 1
    await page.mouse.wheel(0, -300)  # zooming in asks no tile server
    await page.wait_for_timeout(500)
    assert len(stub.tiles) + len(stub.wms) == before
    await screenshot(page, "map-offline")


async def test_overlays_markers_and_popups_readable_in_both_themes(map_page: Any, map_site: Site) -> None:
    page = map_page
    manager = get_manager(map_site.hub)
    alarm = manager.async_raise("intrusion", context=Context(), title="Intrusión en Calle Real (mapa)",
                                entities=["bollard.b_07"])
    # the overlays of the layer control, in Spanish
    overlays = await page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [o.strip() for o in overlays] == ["Zonas", "Dispositivos", "Cámaras", "Paneles", "Alarmas",
                                             "Incendios y rumbos"]
    # the alarm's marker arrives with the refresh; its popup links to the alarm
    await page.wait_for_function("(n) => Number(document.getElementById('map').dataset.features) > n",
                                 arg=int(await page.get_attribute("#map", "data-features") or 0), timeout=20000)
    assert await page.locator("#map path.map-areas, #map path.map-area").count() >= 5
    marker = page.locator("#map path.map-alarms").first
    await marker.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    await popup.wait_for()
    assert await popup.locator(f"a[href='/c/{LOCAL}/alarms/{alarm.id}']").count() == 1
    for scheme in ("dark", "light"):
        await page.emulate_media(color_scheme=scheme)
        colours = await page.eval_on_selector(".leaflet-popup-content-wrapper", """(node) => {
            const style = getComputedStyle(node); return [style.color, style.backgroundColor]; }""")
        assert _contrast(*colours) >= 4.5, (scheme, colours)
        # the theme's own panel colour, not Leaflet's white popup on the dark screen
        assert (_luminance(colours[1]) < 0.05) if scheme == "dark" else (_luminance(colours[1]) > 0.8), colours
        await screenshot(page, f"map-popup-{scheme}")
    await page.emulate_media(color_scheme="dark")
    # hiding the alarms overlay removes its markers
    await page.get_by_label("Alarmas").uncheck()
    assert await page.locator("#map path.map-alarms").count() == 0


async def test_a_located_fire_shows_its_towers_bearings(map_page: Any, map_site: Site) -> None:
    page = map_page
    map_site.hub.states.async_set("geo_location.fire_test", "1.4", {
        "friendly_name": "Incendio en García Aldave", "latitude": 35.8910, "longitude": -5.3490,
        "status": "confirmed", "bearings": {"hacho": 265.2, "tarajal": 330.0}})
    await page.wait_for_selector("#map path.map-bearing", timeout=20000)
    assert await page.locator("#map path.map-bearing").count() == 2
    await page.get_by_label("Alarmas").uncheck()  # nothing on top of the fire
    await page.locator("#map path.map-fires").first.click()
    text = await page.inner_text(".leaflet-popup-content")
    assert "Incendio en García Aldave" in text
    assert "torre hacho: rumbo 265°" in text and "torre tarajal: rumbo 330°" in text
    await page.get_by_label("Incendios y rumbos").uncheck()
    assert await page.locator("#map path.map-bearing").count() == 0


def _luminance(css: str) -> float:
    parts = [float(p) for p in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
    linear = [(c / 255) / 12.92 if c / 255 <= 0.03928 else (((c / 255) + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two CSS rgb() colours."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)
