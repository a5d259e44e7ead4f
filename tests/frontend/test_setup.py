"""Setting the frontend up: configuration, order against the HTTP server, the Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import voluptuous as vol

from frontend import CONFIG_SCHEMA, async_setup_frontend, get_frontend
from frontend.app import build_csp
from hub.core import Hub
from hub.exceptions import ConfigError, HubError
from hub.http import async_setup_http


def test_config_defaults_and_idempotence() -> None:
    conf = CONFIG_SCHEMA(None)
    assert conf["session"] == {"idle_timeout": 1800.0, "absolute_timeout": 43200.0}
    assert conf["secure_cookie"] is None
    full = CONFIG_SCHEMA({"title": "CCS Ceuta", "tile_url": "https://{s}.tile.example.org/{z}/{x}/{y}.png",
                          "secure_cookie": True, "session": {"idle_timeout": 600}})
    assert CONFIG_SCHEMA(full) == full  # the bootstrap may validate it before setup does again
    # the older tile_url is the first map layer, in front of the offline default
    assert [layer["type"] for layer in full["map"]["layers"]] == ["tile", "offline"]
    assert [layer["type"] for layer in conf["map"]["layers"]] == ["offline"]


def test_map_layers_of_each_type_with_their_defaults() -> None:
    conf = CONFIG_SCHEMA({"map": {"layers": [
        {"name": "IGN Base", "type": "wms", "url": "https://www.ign.es/wms-inspire/ign-base",
         "layers": "IGNBaseTodo", "attribution": "© IGN"},
        {"name": "PNOA", "type": "tile", "url": "https://tms-pnoa-ma.idee.es/1.0.0/pnoa-ma/{z}/{x}/{-y}.jpeg"},
        {"name": "Sin conexión", "type": "offline"},
    ]}})
    wms, tile, offline = conf["map"]["layers"]
    assert wms == {"name": "IGN Base", "type": "wms", "url": "https://www.ign.es/wms-inspire/ign-base",
                   "layers": "IGNBaseTodo", "styles": "", "format": "image/png", "transparent": False,
                   "version": "1.3.0", "attribution": "© IGN", "max_zoom": 19}
    assert tile["max_zoom"] == 19 and offline["type"] == "offline"
    assert CONFIG_SCHEMA(conf) == conf
    csp = build_csp(conf["map"]["layers"])
    assert "img-src 'self' data: blob: https://tms-pnoa-ma.idee.es https://www.ign.es;" in csp


@pytest.mark.parametrize(("bad", "message"), [
    ({"name": "x", "type": "wms", "url": "https://wms.example"}, "layers"),
    ({"name": "x", "type": "tile", "url": "https://tiles.example/map.png"}, "needs"),
    ({"name": "x", "type": "wmts", "url": "https://tiles.example/{z}/{x}/{y}.png"}, "layer type"),
    ({"name": "x", "type": "wms", "url": "ftp://wms.example", "layers": "a"}, "http"),
])
def test_map_layer_errors(bad: dict[str, object], message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        CONFIG_SCHEMA({"map": {"layers": [bad]}})


def test_map_layer_names_are_unique() -> None:
    with pytest.raises(vol.Invalid, match="duplicate layer name"):
        CONFIG_SCHEMA({"map": {"layers": [{"name": "a", "type": "offline"}, {"name": "a", "type": "offline"}]}})


@pytest.mark.parametrize("bad", [
    {"tile_url": "ftp://tiles/{z}/{x}/{y}.png"},
    {"tile_url": "https://tiles.example.org/map.png"},
    {"session": {"idle_timeout": 5}},
    {"colour": "red"},
])
def test_config_errors(bad: dict[str, object]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - voluptuous raises Invalid or MultipleInvalid
        CONFIG_SCHEMA(bad)


async def test_setup_order_and_errors(hub: Hub, config_dir: Path) -> None:
    with pytest.raises(HubError, match="http component is not set up"):
        await async_setup_frontend(hub, {})
    http = await async_setup_http(hub, {"port": 0})
    with pytest.raises(ConfigError, match="tile_url"):
        await async_setup_frontend(hub, {"tile_url": "nope"})
    frontend = await async_setup_frontend(hub, {"title": "CCS"})
    assert get_frontend(hub) is frontend and frontend.title == "CCS"
    with pytest.raises(HubError, match="already set up"):
        await async_setup_frontend(hub, {})
    await http.async_start()
    await http.async_stop()


def test_csp_allows_the_tile_server_for_images_only() -> None:
    csp = build_csp([{"url": "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"}, {"type": "offline"}])
    assert "img-src 'self' data: blob: https://*.tile.openstreetmap.org;" in csp
    assert "script-src 'self';" in csp and "openstreetmap" not in csp.split("img-src")[0]
    assert "unsafe-inline" not in build_csp()
