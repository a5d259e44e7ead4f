"""Event-mode recording keeps only what a clip request's pre/post roll covers; a full disk raises the
storage event, frees the oldest unlocked video and leaves the index matching the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from integrations.simulator.cameras import SimulatedCameras

from .conftest import camera_conf, start_video_site, stop_video_site
from .test_retention import _files_on_disk, _paths, _stop_recording


async def test_event_mode_keeps_the_clip_with_pre_and_post_roll(config_dir: Path, clip_dir: Path) -> None:
    def cameras(server: SimulatedCameras) -> list[dict[str, Any]]:
        return [camera_conf("plaza_reyes", server, mode="event", pre_roll=1, post_roll=1)]

    site = await start_video_site(config_dir, clip_dir, streams=("plaza_reyes",), cameras=cameras)
    try:
        cam = site.manager.cameras["plaza_reyes"]
        await site.wait_for(lambda: cam.segments >= 4, what="four segments")
        clip = await site.hub.services.async_call("camera", "record_clip",
                                                  {"entity_id": "camera.plaza_reyes", "duration": 2},
                                                  return_response=True)
        assert clip is not None and clip["end"] - clip["start"] == 4  # 1 s before, 2 s, 1 s after
        await site.wait_for(lambda: site.hub.clock.time() > clip["end"] + 5, what="past the clip", timeout=30)
        await _stop_recording(site)
        kept = (await site.query("plaza_reyes"))["segments"]
        recent = site.hub.clock.time() - 1 - 3  # not decided yet: within the pre-roll of now (+ a segment)
        decided = [s for s in kept if s["end"] < recent]
        assert decided, "the clip's segments are kept"
        for segment in decided:
            assert segment["start"] < clip["end"] and segment["end"] > clip["start"], segment
        assert cam.segments > len(kept)  # others were recorded and dropped
        assert _files_on_disk(site) == await _paths(site)
    finally:
        await stop_video_site(site)


async def test_a_full_disk_raises_the_event_and_frees_unlocked_video(config_dir: Path, clip_dir: Path) -> None:
    site = await start_video_site(config_dir, clip_dir, streams=("port_gate",), retention_interval=3600)
    try:
        cam = site.manager.cameras["port_gate"]
        await site.wait_for(lambda: cam.segments >= 3, what="three segments")
        first = (await site.query("port_gate"))["segments"][0]
        await site.manager.async_lock("port_gate", first["start"], first["end"] - 0.01, "alarm:7", None)
        site.manager.config["min_free_bytes"] = 1 << 62  # no disk has that much free: "full"
        count = cam.segments
        await site.wait_for(lambda: cam.segments >= count + 1 and site.of("camera_storage_full"),
                            what="storage full")
        await _stop_recording(site)
        await site.manager.retention.async_run()
        left = (await site.query("port_gate"))["segments"]
        assert [s["id"] for s in left] == [first["id"]]  # only the evidence survives
        assert len(site.of("camera_storage_full")) == 1  # once, not per segment
        assert _files_on_disk(site) == await _paths(site)
    finally:
        await stop_video_site(site)
