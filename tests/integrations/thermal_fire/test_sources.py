"""Frame sources: NPY/TIFF sequences and the HTTP snapshot driver behind the same interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from hub.core import Hub
from hub.exceptions import DeviceUnavailable
from integrations.thermal_fire import CONFIG_SCHEMA
from integrations.thermal_fire.imaging import write_tiff
from integrations.thermal_fire.source import FileSequenceSource, Frame, SnapshotSource, create_source

from ...conftest import free_port


def pixels(frame: Frame) -> np.ndarray[Any, Any]:
    """A real camera's frame carries its pixels (only simulated ones carry a render request)."""
    assert isinstance(frame.data, np.ndarray)
    return frame.data


def tower(camera: dict[str, Any]) -> dict[str, Any]:
    config = CONFIG_SCHEMA(
        {
            "towers": [
                {
                    "id": "t1",
                    "lat": 35.9,
                    "lon": -5.3,
                    "camera": {"width": 16, "height": 16, **camera},
                    "presets": [{"name": "north", "pan": 0, "tilt": -2}, {"name": "south", "pan": 180, "tilt": -2}],
                }
            ]
        }
    )
    return config["towers"][0]


async def test_file_sequence_per_preset_with_units(hub: Hub, tmp_path: Path) -> None:
    for i in range(2):
        np.save(tmp_path / f"north_{i}.npy", np.full((16, 16), 20.0 + i, dtype=np.float32))
    write_tiff(tmp_path / "south_0.tif", np.full((16, 16), 29315, dtype=np.uint16))
    source = create_source(hub, tower({"source": "files", "path": str(tmp_path), "units": "celsius"}))
    assert isinstance(source, FileSequenceSource)
    await source.async_start()
    first = await source.async_grab(100.0)
    second = await source.async_grab(101.0)
    third = await source.async_grab(102.0)  # loops back to the first file
    assert pixels(first)[0, 0] == pytest.approx(293.15) and pixels(second)[0, 0] == pytest.approx(294.15)
    assert pixels(third)[0, 0] == pytest.approx(293.15) and first.preset == 0 and first.pan == 0.0
    centi = create_source(
        hub, tower({"source": "files", "path": str(tmp_path), "units": "centikelvin", "pattern": "south_*"})
    )
    await centi.async_start()
    await centi.async_goto(1)
    frame = await centi.async_grab(103.0)
    assert pixels(frame).dtype == np.float32 and pixels(frame)[0, 0] == pytest.approx(293.15)


async def test_file_sequence_errors_name_the_problem(hub: Hub, tmp_path: Path) -> None:
    source = create_source(hub, tower({"source": "files", "path": str(tmp_path)}))
    with pytest.raises(DeviceUnavailable, match="no frames in"):
        await source.async_start()
    np.save(tmp_path / "north_0.npy", np.zeros((3, 3), dtype=np.float32))
    await source.async_start()
    with pytest.raises(DeviceUnavailable, match=r"frame is \(3, 3\), camera t1 expects \(16, 16\)"):
        await source.async_grab(1.0)


async def test_snapshot_source_moves_the_head_and_reads_radiometric_tiff(hub: Hub, tmp_path: Path) -> None:
    moves: list[str] = []
    write_tiff(tmp_path / "s.tif", np.full((16, 16), 301.5, dtype=np.float32))
    tiff = (tmp_path / "s.tif").read_bytes()

    async def ptz(request: web.Request) -> web.Response:
        moves.append(request.query["preset"])
        return web.Response(text="ok")

    async def snapshot(request: web.Request) -> web.Response:
        if request.query.get("preset") == "south":
            return web.Response(status=503)
        return web.Response(body=tiff, content_type="image/tiff")

    app = web.Application()
    app.router.add_get("/ptz", ptz)
    app.router.add_get("/snap", snapshot)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        source = create_source(
            hub,
            tower(
                {
                    "source": "snapshot",
                    "url": base + "/snap?preset={preset}",
                    "ptz_url": base + "/ptz?preset={preset}&pan={pan}",
                }
            ),
        )
        assert isinstance(source, SnapshotSource)
        await source.async_start()
        await source.async_goto(0)
        got = await source.async_grab(5.0)
        assert pixels(got)[0, 0] == pytest.approx(301.5) and moves == ["north"]
        await source.async_goto(1)
        with pytest.raises(DeviceUnavailable, match="HTTP 503"):
            await source.async_grab(6.0)
        await source.async_stop()
    finally:
        await runner.cleanup()
