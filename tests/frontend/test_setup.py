"""Setting the frontend up: configuration, order against the HTTP server, the Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    csp = build_csp("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.tile.openstreetmap.org;" in csp
    assert "script-src 'self';" in csp and "openstreetmap" not in csp.split("img-src")[0]
    assert "unsafe-inline" not in build_csp(None)
