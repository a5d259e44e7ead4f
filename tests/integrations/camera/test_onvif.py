"""ONVIF PTZ against a real SOAP device process (the simulator's ONVIF device) through onvif-zeep-async:
presets read at setup, goto_preset reaching the device, unknown presets and unreachable devices refused clearly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.core import Context
from hub.exceptions import DeviceUnavailable, ServiceValidationError
from integrations.simulator.cameras import SimulatedCameras
from integrations.simulator.onvif_device import SimulatedOnvifDevice
from tests.conftest import free_port

from .conftest import VideoSite, camera_conf, start_video_site, stop_video_site

PRESETS = {"1": "gate", "2": "queue"}


async def _site(config_dir: Path, clip_dir: Path, port: int, **onvif: Any) -> VideoSite:
    def cameras(server: SimulatedCameras) -> list[dict[str, Any]]:
        return [{**camera_conf("port_gate", server), "record": {"mode": "off"},
                 "onvif": {"host": "127.0.0.1", "port": port, **onvif}}]

    return await start_video_site(config_dir, clip_dir, streams=("port_gate",), cameras=cameras)


@pytest.fixture
async def device() -> AsyncIterator[SimulatedOnvifDevice]:
    # the camera's own credentials (camera_conf) are the ONVIF ones when the block names none
    dev = SimulatedOnvifDevice(dict(PRESETS), username="viewer", password="s3cret-pa55")
    await dev.async_start()
    yield dev
    await dev.async_stop()


async def _goto(site: VideoSite, preset: str) -> Any:
    return await site.hub.services.async_call("camera", "goto_preset",
                                              {"entity_id": "camera.port_gate", "preset": preset},
                                              context=Context(), return_response=True)


async def test_presets_read_from_the_device_and_goto_reaches_it(config_dir: Path, clip_dir: Path,
                                                                device: SimulatedOnvifDevice) -> None:
    site = await _site(config_dir, clip_dir, device.port)
    try:
        await site.wait_for(lambda: (state := site.hub.states.get("camera.port_gate")) is not None
                            and state.attributes.get("presets") == ["gate", "queue"], timeout=30, what="ONVIF presets")
        assert "GetPresets" in device.requests and device.moves == []
        response = await _goto(site, "queue")
        assert response == {"entity_id": "camera.port_gate", "id": "queue", "token": "2", "onvif": True}
        assert device.moves == [("profile_1", "2")]
        assert site.hub.states.get("camera.port_gate").attributes["preset"] == "queue"
        await _goto(site, "1")  # the device's token works too
        assert device.moves[-1] == ("profile_1", "1")
        with pytest.raises(ServiceValidationError,
                           match=r"no preset .roof. on its ONVIF device \(presets: gate, queue\)"):
            await _goto(site, "roof")
        assert len(device.moves) == 2  # nothing sent for the unknown preset
    finally:
        await stop_video_site(site)


async def test_refused_credentials_fail_the_call_clearly(config_dir: Path, clip_dir: Path,
                                                         device: SimulatedOnvifDevice) -> None:
    site = await _site(config_dir, clip_dir, device.port, username="viewer", password="wrong")
    try:
        with pytest.raises(DeviceUnavailable, match=f"camera port_gate: ONVIF device 127.0.0.1:{device.port} "
                                                    "could not be read: Sender not authorized"):
            await _goto(site, "gate")
        assert device.moves == []
    finally:
        await stop_video_site(site)


async def test_unreachable_device_fails_the_service_not_the_hub(config_dir: Path, clip_dir: Path) -> None:
    port = free_port()  # nothing listens there yet
    site = await _site(config_dir, clip_dir, port, timeout=5)  # refused at once; room for the late answer
    try:
        with pytest.raises(DeviceUnavailable, match=f"camera port_gate: ONVIF device 127.0.0.1:{port} "
                                                    "could not be read"):
            await _goto(site, "gate")
        assert site.hub.is_running
        state = site.hub.states.get("camera.port_gate")
        assert state is not None and not state.attributes.get("presets") and "preset" not in state.attributes
        # the device comes up: the next call reads its presets and moves it, no restart needed
        late = SimulatedOnvifDevice(dict(PRESETS), username="viewer", password="s3cret-pa55", port=port)
        await late.async_start()
        try:
            assert (await _goto(site, "gate"))["token"] == "1"
            assert late.moves == [("profile_1", "1")]
        finally:
            await late.async_stop()
    finally:
        await stop_video_site(site)
