"""Identification only under an active authorisation; urgent ones lapse and take their data with them;
non-matches leave nothing; two distinct operators verify a match; the report holds no personal data."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pytest

from hub.core import Context
from hub.exceptions import ServiceValidationError, Unauthorized
from integrations.face.const import EVENT_MATCH_VERIFIED, URGENT_HOURS

from .conftest import FACES, OP1, OP2, SOUGHT, STRANGER, SUP1, SUP2, FaceSite, frame_with, read_bgr


async def _identify(site: FaceSite, frame: str, camera: str = "cam_port", **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await site.call("identify", {"camera": camera, "image": frame, **extra}, OP1)
    return answer


async def _count(site: FaceSite, table: str) -> int:
    from sqlalchemy import text

    from hub.recorder import get_recorder

    result: int = await get_recorder(site.hub).async_db_job(
        lambda session: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    return result


async def test_no_identification_without_an_active_authorisation(site: FaceSite) -> None:
    frame = frame_with(site.config_dir, "frame.jpg", SOUGHT[1])
    with pytest.raises(Unauthorized):  # nothing entered at all
        await _identify(site, frame)
    authorisation_id = await site.authorisation(confirm=False)  # entered, watchlist made, not confirmed
    with pytest.raises(Unauthorized):
        await _identify(site, frame)
    with pytest.raises(Unauthorized):  # the person who entered it cannot confirm it
        await site.call("authorisation_confirm", {"authorisation_id": authorisation_id}, SUP1)
    assert site.manager.loads_sent == 0 and site.manager.loaded == set()  # the worker never got the watchlist
    # the worker refuses too, whatever the hub asks, while it has no watchlist
    worker = site.manager.worker
    assert worker is not None
    refused = await site.manager.async_request("frame:x", {
        "kind": "identify", "frame_id": "x", "authorisation_id": authorisation_id, "camera": "cam_port",
        "image": np.zeros((100, 100, 3), dtype=np.uint8)})
    assert refused["type"] == "refused"

    await site.call("authorisation_confirm", {"authorisation_id": authorisation_id}, SUP2)
    assert site.manager.loaded == {authorisation_id}
    answer = await _identify(site, frame)
    assert answer["faces"] == 1 and len(answer["candidates"]) == 1
    with pytest.raises(Unauthorized):  # another camera
        await _identify(site, frame, camera="cam_market")
    with pytest.raises(Unauthorized):  # past recordings need an authorisation for retrospective use
        await _identify(site, frame, recorded=True)

    await site.clock.async_advance(8 * 3600 + 1)  # past its end: unloaded, refused
    await site.call("check_authorisations", {}, SUP1)
    assert site.manager.loaded == set()
    with pytest.raises(Unauthorized):
        await _identify(site, frame)
    refusals = await site.audit("face.identify_refused")
    assert len(refusals) == 5 and all(entry["outcome"] == "denied" for entry in refusals)


async def test_an_operator_cannot_enter_an_authorisation(site: FaceSite) -> None:
    with pytest.raises(Unauthorized):
        await site.call("authorisation_create", {"authority": "Juzgado nº 1", "reference": "x",
                                                 "purpose": "victim_search", "cameras": ["cam_port"], "hours": 2},
                        OP1)
    with pytest.raises(ServiceValidationError):  # not one of the three purposes of art. 5(1)(h)
        await site.call("authorisation_create", {"authority": "Juzgado nº 1", "reference": "x",
                                                 "purpose": "crowd_analytics", "cameras": ["cam_port"], "hours": 2})
    with pytest.raises(ServiceValidationError):  # hours, not months
        await site.call("authorisation_create", {"authority": "Juzgado nº 1", "reference": "x",
                                                 "purpose": "victim_search", "cameras": ["cam_port"], "hours": 24 * 30})


async def test_urgent_authorisation_lapsing_purges_its_data(site: FaceSite) -> None:
    authorisation_id = await site.authorisation(urgent=True)
    frame = frame_with(site.config_dir, "frame.jpg", SOUGHT[1])
    answer = await _identify(site, frame)  # active at once
    assert len(answer["candidates"]) == 1
    folder = site.config_dir / "face" / authorisation_id
    assert await _count(site, "face_matches") == 1 and await _count(site, "face_clip_locks") == 1
    assert await _count(site, "face_persons") == 1 and any(folder.iterdir())

    await site.clock.async_advance(URGENT_HOURS * 3600 + 1)  # no authority's confirmation came
    await site.call("check_authorisations", {}, SUP1)
    for table in ("face_matches", "face_clip_locks", "face_persons"):
        assert await _count(site, table) == 0, table
    assert not folder.exists()
    deleted = await site.audit("face.data_deleted")
    assert len(deleted) == 1 and deleted[0]["target"] == authorisation_id
    assert deleted[0]["data"]["reason"] == "lapsed" and deleted[0]["data"]["matches"] == 1
    with pytest.raises(Unauthorized):
        await _identify(site, frame)


async def test_authority_refusal_purges_and_confirmation_keeps(site: FaceSite) -> None:
    refused = await site.authorisation(urgent=True)
    await _identify(site, frame_with(site.config_dir, "frame.jpg", SOUGHT[1]))
    answer = await site.call("authorisation_refuse", {"authorisation_id": refused}, SUP2)
    assert answer["deleted"]["matches"] == 1 and await _count(site, "face_matches") == 0

    kept = await site.authorisation(urgent=True)
    with pytest.raises(Unauthorized):  # the one who entered it cannot record the authority's confirmation
        await site.call("authorisation_authority_confirm", {"authorisation_id": kept}, SUP1)
    await site.call("authorisation_authority_confirm", {"authorisation_id": kept}, SUP2)
    await site.clock.async_advance(URGENT_HOURS * 3600 + 1)  # past 24 h, but the authority confirmed it
    await site.call("check_authorisations", {}, SUP1)
    assert await _count(site, "face_persons") == 1  # confirmed: not purged


async def test_non_matches_leave_nothing_behind(site: FaceSite, caplog: pytest.LogCaptureFixture) -> None:
    import cv2

    from integrations.face.engine import FaceEngine

    caplog.set_level(logging.DEBUG)
    await site.authorisation()
    frame = frame_with(site.config_dir, "stranger.jpg", STRANGER)
    answer = await _identify(site, frame)
    assert answer["faces"] == 1 and answer["candidates"] == []
    assert set(answer) == {"authorisation_id", "faces", "candidates"}
    assert await _count(site, "face_matches") == 0
    await site.hub.async_block_till_done()
    from hub.recorder import get_recorder

    await get_recorder(site.hub).async_flush()
    # the stranger's embedding, computed here the way the worker does: nowhere in the database, logs or events
    rgb = cv2.cvtColor(read_bgr(site.config_dir / frame), cv2.COLOR_BGR2RGB)
    engine = FaceEngine()
    embedding = engine.embed(rgb, engine.detect(rgb)[0])
    database = (site.config_dir / "hacho.db").read_bytes()
    assert embedding.tobytes()[:64] not in database
    assert embedding.astype(np.float64).tobytes()[:64] not in database
    for value in embedding[:4]:
        text = f"{value:.5f}"
        assert text not in caplog.text
        assert text.encode() not in database
    assert "Aaron_Tippin" not in caplog.text and b"Aaron_Tippin" not in database
    events = await site.audit("face.identify")
    assert events[-1]["data"]["candidates"] == 0 and "embedding" not in json.dumps(events[-1])


async def test_a_match_needs_two_distinct_operators(site: FaceSite) -> None:
    await site.authorisation()
    answer = await _identify(site, frame_with(site.config_dir, "frame.jpg", STRANGER, SOUGHT[1]))
    assert answer["faces"] == 2 and len(answer["candidates"]) == 1
    match_id = answer["candidates"][0]
    told: list[Any] = []
    site.hub.bus.async_listen(EVENT_MATCH_VERIFIED, told.append)
    listed = await site.call("match_candidates", {}, OP1)
    candidate = listed["candidates"][0]
    assert candidate["reference"] and candidate["frame"]  # side by side: reference image and frame crop

    with pytest.raises(Unauthorized):  # an automation (no person) cannot verify
        await site.hub.services.async_call("face", "match_verify", {"match_id": match_id}, context=Context(),
                                           return_response=True)
    first = await site.call("match_verify", {"match_id": match_id}, OP1)
    assert first["status"] == "candidate"
    with pytest.raises(Unauthorized):  # the same operator twice is not two operators
        await site.call("match_verify", {"match_id": match_id}, OP1)
    await site.hub.async_block_till_done()
    assert told == []  # nobody told yet
    second = await site.call("match_verify", {"match_id": match_id}, OP2)
    assert second["status"] == "verified" and second["first_by"] == "op1" and second["second_by"] == "op2"
    await site.hub.async_block_till_done()
    assert len(told) == 1 and told[0].data["match_id"] == match_id
    assert "embedding" not in told[0].data and "label" not in told[0].data


async def test_yearly_report_has_no_personal_data(site: FaceSite) -> None:
    from datetime import UTC, datetime

    await site.authorisation()
    answer = await _identify(site, frame_with(site.config_dir, "frame.jpg", SOUGHT[1]))
    await site.call("match_reject", {"match_id": answer["candidates"][0]}, OP1)
    year = datetime.fromtimestamp(site.clock.time(), UTC).year
    report = await site.call("report", {"year": year})
    assert report["authorisations"] == 1 and report["by_purpose"]["suspect_localisation"] == 1
    assert report["candidate_matches"] == 1 and report["matches_rejected"] == 1 and report["persons_sought"] == 1
    text = json.dumps(report)
    for personal in ("Juzgado", "DP 77", "Suspect A", "cam_port", "sup1", "sup2", "op1", "Abdullah"):
        assert personal not in text
    assert FACES.name not in text


async def test_face_report_command_prints_counts_only(site: FaceSite, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from hacho.__main__ import main
    from hub.recorder import get_recorder

    await site.authorisation()
    await get_recorder(site.hub).async_flush()
    year = datetime.fromtimestamp(site.clock.time(), UTC).year
    code = await site.hub.async_add_executor_job(main, ["face", "report", "--year", str(year), "-c",
                                                        str(site.config_dir)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["authorisations"] == 1 and report["by_status"]["confirmed"] == 1
    assert "Juzgado" not in json.dumps(report) and "Suspect A" not in json.dumps(report)


async def test_past_recordings_only_under_a_retrospective_authorisation(site: FaceSite) -> None:
    frame = frame_with(site.config_dir, "recorded.jpg", SOUGHT[1])
    await site.authorisation(use="retrospective", cameras=("cam_archive",))
    answer = await _identify(site, frame, camera="cam_archive", recorded=True)
    assert len(answer["candidates"]) == 1
    with pytest.raises(Unauthorized):  # another camera's recordings are not covered
        await _identify(site, frame, camera="cam_port", recorded=True)


async def test_a_clip_is_matched_only_while_authorised(site: FaceSite) -> None:
    import cv2

    stranger = read_bgr(site.config_dir / frame_with(site.config_dir, "a.jpg", STRANGER))
    sought = read_bgr(site.config_dir / frame_with(site.config_dir, "b.jpg", SOUGHT[1]))
    writer = cv2.VideoWriter(str(site.config_dir / "clip.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 4, (1280, 720))
    for image in (stranger,) * 4 + (sought,) * 4:  # two seconds: a passer-by, then the person sought
        writer.write(image)
    writer.release()
    clip = {"camera": "cam_port", "image": "clip.avi", "every": 1.0}
    with pytest.raises(Unauthorized):
        await site.call("identify", clip, OP1)
    authorisation_id = await site.authorisation()
    answer = await site.call("identify", clip, OP1)
    assert answer["frames"] == 2 and answer["faces"] == 2 and len(answer["candidates"]) == 1
    await site.call("authorisation_refuse", {"authorisation_id": authorisation_id}, SUP2)
    with pytest.raises(Unauthorized):
        await site.call("identify", clip, OP1)
    assert await _count(site, "face_matches") == 0


async def test_a_restarted_worker_gets_back_only_active_watchlists(site: FaceSite) -> None:
    import asyncio
    import os
    import signal

    authorisation_id = await site.authorisation()
    await site.authorisation(confirm=False, cameras=("cam_market",))  # pending: never loaded
    manager = site.manager
    assert manager.loaded == {authorisation_id}
    worker = manager.worker
    assert worker is not None and worker.pid is not None
    old_pid = worker.pid
    os.kill(old_pid, signal.SIGKILL)
    async with asyncio.timeout(60):
        await manager.async_wait_loaded(set())  # the hub saw it die
        await manager.async_wait_loaded({authorisation_id})  # and gave the new one the active watchlist only
    assert worker.pid not in (None, old_pid)
    answer = await _identify(site, frame_with(site.config_dir, "frame.jpg", SOUGHT[1]))
    assert len(answer["candidates"]) == 1
    assert worker.counters.restarts == 1


async def test_non_matches_leave_nothing_in_automation_traces(site: FaceSite) -> None:
    import asyncio

    import cv2

    import automations
    from automations.trace import get_trace_store
    from hub.core import Event, callback
    from integrations.face.engine import FaceEngine

    await site.authorisation()
    frame = frame_with(site.config_dir, "stranger.jpg", STRANGER)
    await automations.async_setup(site.hub, {"automations": [{
        "id": "look", "triggers": {"trigger": "event", "event_type": "frame_in"},
        "actions": [{"action": "face.identify", "data": {"camera": "cam_port", "image": frame},
                     "response_variable": "answer"},
                    {"event": "looked", "event_data": {"faces": "{{ answer.faces }}"}}]}]})
    await site.hub.async_block_till_done()
    looked: list[Any] = []
    done = asyncio.Event()

    @callback
    def _looked(event: Event) -> None:
        looked.append(event.data["faces"])
        done.set()

    site.hub.bus.async_listen("looked", _looked)
    site.hub.bus.async_fire("frame_in", {}, context=OP1)  # the run acts for the operator who fired it
    async with asyncio.timeout(60):
        await done.wait()
    assert looked in ([1], ["1"])  # the run identified the stranger's face...
    text = json.dumps(get_trace_store(site.hub).traces("automation.look")[0], default=str)
    assert "cam_port" in text  # (the trace holds the call)
    rgb = cv2.cvtColor(read_bgr(site.config_dir / frame), cv2.COLOR_BGR2RGB)
    engine = FaceEngine()
    embedding = engine.embed(rgb, engine.detect(rgb)[0])
    for value in embedding[:8]:  # ...and its trace holds nothing of the face
        assert f"{value:.5f}" not in text and f"{value:.4f}" not in text
    assert "embedding" not in text
