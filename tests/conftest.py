"""Shared fixtures: a running hub (real or fake clock) and the real services (Mosquitto, PostgreSQL)."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.clock import FakeClock
from hub.core import Hub

REQUIRE_SERVICES = os.environ.get("HACHO_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("HACHO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MQTT_HOST = os.environ.get("HACHO_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("HACHO_TEST_MQTT_PORT", "1883"))


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip the test when a service is absent, or fail when HACHO_REQUIRE_SERVICES=1."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (HACHO_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """An empty config dir."""
    path = tmp_path / "config"
    path.mkdir()
    return path


@pytest.fixture
async def hub(config_dir: Path) -> AsyncIterator[Hub]:
    """A started hub on the system clock, stopped after the test."""
    instance = Hub(config_dir)
    await instance.async_start()
    yield instance
    if not instance.is_stopping:
        await instance.async_stop()


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that only moves when the test advances it."""
    return FakeClock()


@pytest.fixture
async def fake_hub(config_dir: Path, fake_clock: FakeClock) -> AsyncIterator[Hub]:
    """A started hub on a FakeClock."""
    instance = Hub(config_dir, clock=fake_clock)
    await instance.async_start()
    yield instance
    if not instance.is_stopping:
        await instance.async_stop()


@pytest.fixture
def postgres_url() -> str:
    """URL of the test PostgreSQL database (skips/fails when absent)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    """Host and port of the shared Mosquitto (skips/fails when absent)."""
    require_service("Mosquitto", MQTT_HOST, MQTT_PORT)
    return MQTT_HOST, MQTT_PORT
