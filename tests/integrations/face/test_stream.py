"""Face detection on a camera's sub stream (the simulator's scene with a known face, served by the GStreamer RTSP
server, decoded in the face worker process): matched only while an authorisation covering that camera is active;
the match locks the camera's recording, and the lapse of an urgent authorisation releases and deletes it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from hub.audit import get_audit
from hub.const import MATCH_ALL
from hub.core import Context, Event, Hub, callback
from hub.recorder import get_recorder
from integrations import face
from integrations.camera import index
from integrations.camera.models import CameraLockRow
from integrations.face.models import FaceAuthorisation, FaceMatch, FacePerson
from integrations.simulator.scene_clips import face_reference_jpeg
from tests.integrations.camera.conftest import start_video_site, stop_video_site, video_tools  # noqa: F401

CAMERA = "plaza_reyes"
SUP1 = Context(user_id="sup1")
SUP2 = Context(user_id="sup2")



@pytest.fixture(scope="module")
def face_clips(tmp_path_factory: pytest.TempPathFactory, video_tools: None) -> Path:  # noqa: F811
    return tmp_path_factory.mktemp("face_clips")


async def _until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


async def _until_async(count: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await count():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.2)


async def _count(hub: Hub, model: Any) -> int:
    return int(await get_recorder(hub).async_db_job(
        lambda s: s.scalar(select(func.count()).select_from(model)) or 0))


async def _locks(hub: Hub) -> list[tuple[str, str, float | None]]:
    return await get_recorder(hub).async_db_job(lambda s: [
        (r.reference, r.camera, r.released_ts) for r in s.scalars(select(CameraLockRow).order_by(
            CameraLockRow.lock_id))])


async def test_the_known_face_is_matched_only_while_an_authorisation_covers_the_camera(
        config_dir: Path, face_clips: Path) -> None:
    site = await start_video_site(config_dir, face_clips, streams=(CAMERA,), scenes={
        CAMERA: {"scene": "face", "width": 640, "height": 360, "bitrate_kbps": 900}})
    hub = site.hub
    bus: list[Event] = []  # a candidate is not on the event bus, where automations could act on it
    hub.bus.async_listen(MATCH_ALL, callback(lambda e: bus.append(e) if e.event_type.startswith("face_") else None))
    try:
        assert await face.async_setup(hub, face.CONFIG_SCHEMA({
            "detection": {"cameras": [f"camera.{CAMERA}"], "fps": 2}}))
        manager = hub.data[face.DATA_KEY]

        # before: faces are detected on the sub stream, and nothing else happens
        await _until(lambda: manager.streams.get(CAMERA, {}).get("frames", 0) >= 4, 90, "frames looked at")
        assert manager.worker.pid is not None  # the face worker process decodes and detects
        assert manager.streams[CAMERA]["faces"] == 1 and manager.streams[CAMERA]["available"] is True
        assert not manager.loaded and not await manager.async_candidates(SUP2)
        assert await _count(hub, FaceMatch) == 0 and await _count(hub, FacePerson) == 0

        # during: an urgent authorisation for this camera, with the known person's photograph
        created = await manager.async_create({
            "authority": "Juzgado de Guardia de Ceuta", "reference": "DP 12/2026", "purpose": "victim_search",
            "use": "real_time", "cameras": [f"camera.{CAMERA}"], "areas": [], "hours": 4, "urgent": True}, SUP1)
        authorisation_id = created["authorisation_id"]
        reference = face_reference_jpeg()
        bgr = cv2.imdecode(np.frombuffer(reference, np.uint8), cv2.IMREAD_COLOR)
        assert bgr is not None
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        await manager.async_add_person(authorisation_id, "Persona desaparecida A", rgb, reference, SUP1)
        await _until_async(lambda: _count(hub, FaceMatch), 60, "a candidate match")
        await asyncio.sleep(2.0)  # more frames of the same face: still one candidate to verify, not one a frame
        candidates = await manager.async_candidates(SUP2)  # what the verifying operators see, side by side
        assert len(candidates) == 1
        match = candidates[0]
        assert match["camera"] == CAMERA and match["authorisation_id"] == authorisation_id
        assert match["label"] == "Persona desaparecida A" and match["reference"] and match["frame"]
        assert match["distance"] < 0.6 and not bus
        locks = await _locks(hub)
        assert (f"face:{authorisation_id}:{match['match_id']}", CAMERA, None) in locks

        # another lock on the same camera (an alarm's) must keep what it covers
        camera_manager = site.manager
        ts = float(match["ts"])
        await camera_manager.async_lock(CAMERA, ts - 3, ts - 1, "alarm:other", None)
        before = await camera_manager.async_query(CAMERA, ts - 120, ts + 120)
        segments = [s for s in before["segments"] if s["status"] == "ok"]
        assert segments, "the camera records"
        kept = [s["id"] for s in segments if s["start"] < ts - 1 and s["end"] > ts - 3]
        assert kept

        # the urgent authorisation lapses (24 h without the authority's confirmation): everything goes
        def _age(session: Any) -> None:
            row = session.get(FaceAuthorisation, authorisation_id)
            row.created_ts -= 25 * 3600

        await get_recorder(hub).async_db_job(_age)
        await manager.async_check()
        assert await _count(hub, FaceMatch) == 0 and await _count(hub, FacePerson) == 0
        assert not manager.loaded
        released = [lock for lock in await _locks(hub) if lock[0].startswith(f"face:{authorisation_id}:")]
        assert released and all(lock[2] is not None for lock in released)
        gone = [s["id"] for s in segments if s["id"] not in kept]
        assert gone

        def _present(session: Any) -> list[int]:
            return [i for i in gone + kept if index.get_segment(session, i) is not None]

        present = await get_recorder(hub).async_db_job(_present)
        assert sorted(present) == sorted(kept)  # deleted, except what the other lock keeps
        audit = get_audit(hub)
        assert audit is not None
        await audit.async_flush()
        deleted = await audit.async_query(action="face.data_deleted", limit=10)
        assert len(deleted) == 1 and deleted[0]["data"]["reason"] == "lapsed"
        assert deleted[0]["data"]["camera_locks"] == len(released)
        # every segment listed above that only the match kept is gone; the camera records on meanwhile, so one
        # closed after that listing may have gone with them
        assert deleted[0]["data"]["camera_segments"] >= len(gone)
        evidence = await audit.async_query(action="camera.evidence_deleted", limit=10)
        assert len(evidence) == 1
        assert evidence[0]["data"]["segments"] == deleted[0]["data"]["camera_segments"]
        assert len(await audit.async_query(action="camera.unlock", limit=50)) == len(released)

        # after: the face is still there, frames are still looked at, nothing is matched or stored
        seen = manager.streams[CAMERA]["frames"]
        await _until(lambda: manager.streams[CAMERA]["frames"] >= seen + 4, 60, "more frames")
        assert manager.streams[CAMERA]["faces"] == 1  # still detected, for privacy
        assert await _count(hub, FaceMatch) == 0 and not await manager.async_candidates(SUP2)
        assert not bus
    finally:
        if face.DATA_KEY in hub.data:
            await face.async_unload(hub)
        await stop_video_site(site)
