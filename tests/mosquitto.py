"""A Mosquitto of the test's own, on its own port, that a test can stop, kill and start again."""

from __future__ import annotations

import asyncio
import getpass
import shutil
import signal
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES, free_port, port_open

__all__ = ["Broker", "mosquitto_binary"]


def mosquitto_binary() -> str:
    """The mosquitto executable; skips the test without one (fails when HACHO_REQUIRE_SERVICES=1)."""
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        if REQUIRE_SERVICES:
            pytest.fail("the mosquitto binary is not installed (HACHO_REQUIRE_SERVICES=1)")
        pytest.skip("the mosquitto binary is not installed")
    return binary


class Broker:
    """A private Mosquitto on a free port of 127.0.0.1, anonymous, configured in `directory`.

    `persistence=True` keeps sessions and queued QoS 1 messages in `directory/mosquitto-data`
    (saved every second and on SIGTERM, see `stop`); `options` are extra mosquitto.conf lines.
    """

    def __init__(self, directory: Path, binary: str, *, persistence: bool = False, options: str = "") -> None:
        self.binary = binary
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        text = f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
        if persistence:
            data = directory / "mosquitto-data"
            data.mkdir(exist_ok=True)
            text += (
                f"persistence true\npersistence_location {data}/\nautosave_interval 1\n"
                # run as root, Mosquitto would switch to its own user, which cannot write to the test's directory
                f"user {getpass.getuser()}\n"
            )
        else:
            text += "persistence false\n"
        self.config.write_text(text + options)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start it and wait (up to about 10 s) until it listens."""
        self.process = await asyncio.create_subprocess_exec(
            self.binary, "-c", str(self.config), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        for _ in range(400):
            if port_open("127.0.0.1", self.port, timeout=0.1):
                return
            if self.process.returncode is not None:
                pytest.fail(f"mosquitto exited with {self.process.returncode} on port {self.port}")
            await asyncio.sleep(0.025)
        pytest.fail(f"mosquitto did not listen on port {self.port}")

    async def stop(self) -> None:
        """SIGTERM: Mosquitto writes its persistence file (sessions, queued QoS 1 messages) and exits."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()
        self.process = None

    async def kill(self) -> None:
        """SIGKILL: the broker vanishes without a goodbye, as when its host dies."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None
