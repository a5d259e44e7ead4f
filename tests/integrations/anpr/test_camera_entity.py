"""ANPR reading a camera entity's sub stream: simulator scene -> GStreamer RTSP -> camera.* entity -> ffmpeg
decoder in the ANPR worker process -> plate reader -> hotlist hit, with the camera's recording locked around it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.audit import get_audit
from hub.core import Event, callback
from hub.recorder import get_recorder
from integrations import anpr
from integrations.anpr.config import CONFIG_SCHEMA
from integrations.camera.models import CameraLockRow
from tests.integrations.anpr.conftest import HASH_KEY
from tests.integrations.camera.conftest import start_video_site, stop_video_site, video_tools  # noqa: F401

PLATE = "1234BCD"


@pytest.fixture(scope="module")
def plate_clips(tmp_path_factory: pytest.TempPathFactory, video_tools: None) -> Path:  # noqa: F811
    return tmp_path_factory.mktemp("plate_clips")


def test_a_camera_source_is_a_camera_entity_or_a_url_never_both() -> None:
    base = {"hash_key": HASH_KEY}
    config = CONFIG_SCHEMA({**base, "cameras": [{"id": "lane", "camera": "camera.tarajal_lane1"}]})
    assert config["cameras"][0]["stream"] == "sub"
    for bad in ({"id": "lane"}, {"id": "lane", "camera": "camera.x", "source": "sim://x"},
                {"id": "lane", "camera": "tarajal_lane1"}):
        with pytest.raises(Exception, match="camera"):
            CONFIG_SCHEMA({**base, "cameras": [bad]})


async def test_a_hotlisted_plate_on_a_camera_entity_raises_a_hit_and_locks_its_recording(
        config_dir: Path, plate_clips: Path) -> None:
    site = await start_video_site(config_dir, plate_clips, streams=("tarajal_lane1",), scenes={
        "tarajal_lane1": {"scene": "plates", "plates": [PLATE], "width": 640, "height": 360,
                          "bitrate_kbps": 900}})
    hub = site.hub
    hits: list[Event] = []
    hub.bus.async_listen(anpr.EVENT_HOTLIST_HIT, callback(hits.append))
    try:
        assert await anpr.async_setup(hub, CONFIG_SCHEMA({
            "hash_key": HASH_KEY, "workers": "process",
            "lists": [{"id": "stolen", "name": "Sustraídos", "priority": 1}],
            # the burned-in name and clock are text too: the lane's view leaves them out
            "cameras": [{"id": "lane", "camera": "camera.tarajal_lane1", "fps": 5, "roi": [0, 40, 640, 270],
                         "retry_interval": 0.5}]}))
        await hub.services.async_call("anpr", "hotlist_add", {"list": "stolen", "plate": PLATE}, blocking=True)
        manager = hub.data[anpr.DATA_KEY]
        deadline = time.monotonic() + 90
        while not hits:
            lane = manager.cameras["lane"]  # CameraState is slotted: no __dict__ to show
            assert time.monotonic() < deadline, (
                f"no hit; camera: available={lane.available} error={lane.error} frames={lane.frames} "
                f"processed={lane.processed}")
            await asyncio.sleep(0.2)
        hit = hits[0].data
        assert hit["plate"] == PLATE and hit["camera"] == "lane"
        worker = manager.cameras["lane"].worker
        assert worker is not None and worker.mode == "process"
        assert worker._worker.pid is not None  # decoded and read in the worker process, not in the hub

        async def _locks() -> list[Any]:
            def _query(session: Any) -> list[Any]:
                rows = session.scalars(select(CameraLockRow)).all()
                return [(r.camera, r.reference, r.start_ts, r.end_ts, r.released_ts) for r in rows]

            return await get_recorder(hub).async_db_job(_query)

        deadline = time.monotonic() + 10
        while not (locks := await _locks()):
            assert time.monotonic() < deadline, "no evidence lock"
            await asyncio.sleep(0.1)
        camera, reference, start, end, released = locks[0]
        assert camera == "tarajal_lane1" and reference == f"anpr:{hit['hit_id']}" and released is None
        assert start < hit["frame_ts"] < end
        audit = get_audit(hub)
        assert audit is not None
        await audit.async_flush()
        assert [row["target"] for row in await audit.async_query(action="camera.lock", limit=10)] == \
            ["camera.tarajal_lane1"]
    finally:
        if anpr.DATA_KEY in hub.data:
            await anpr.async_unload(hub)
        await stop_video_site(site)
