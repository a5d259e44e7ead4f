"""Learning from the site: an accepted hit and an operator's "this plate reads X" keep the crop with its
label in the site's training set, audited, and go with the hit at its retention."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import pytest

from hacho.__main__ import main
from hub.audit import AuditLog, async_setup_audit
from hub.auth.tokens import create_token
from hub.core import Hub
from hub.exceptions import ServiceValidationError
from hub.http import async_setup_http
from hub.recorder import async_setup_recorder
from integrations.anpr import DATA_KEY, AnprManager, async_setup, async_unload
from integrations.anpr.learning import VERDICT_CONFIRMED, VERDICT_CORRECTED, evaluation_record, update_model_metrics
from integrations.anpr.reader import REC_MODEL, find_model
from integrations.anpr.training import HeadTrainer, TrainResult

from .conftest import anpr_config, collect, sim_camera, wait_for


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[tuple[Hub, AuditLog, AnprManager, str]]:
    hub = Hub(config_dir)
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{config_dir / 'hacho.db'}", "commit_interval": 0.1})
    audit = await async_setup_audit(hub, register_views=False)
    token = await hub.async_add_executor_job(create_token, hub.config_dir, "op_tarajal", None)
    http = await async_setup_http(hub, {"port": 0})
    await hub.async_start()
    conf = anpr_config(cameras=[sim_camera(source="sim://x?seed=1&rate=0&pass_seconds=1.5")],
                       tracking={"timeout": 0.4})
    assert await async_setup(hub, conf)
    await http.async_start()
    manager: AnprManager = hub.data[DATA_KEY]
    yield hub, audit, manager, f"{http.base_url}|{token}"
    await async_unload(hub)
    await http.async_stop()
    await hub.async_stop()


async def _streaming(hub: Hub) -> None:
    await wait_for(lambda: (s := hub.states.get("camera.anpr_tarajal_in")) is not None and s.state == "streaming",
                   20, "the camera")


async def _hit(hub: Hub, hits: list[Any], plate: str) -> dict[str, Any]:
    count = len(hits)
    await hub.services.async_call("anpr", "hotlist_add", {"list": "stolen", "plate": plate}, blocking=True)
    await hub.services.async_call("anpr", "simulate_vehicle", {"camera": "tarajal_in", "plate": plate},
                                  blocking=True)
    await wait_for(lambda: len(hits) > count, 10, f"a hit on {plate}")
    await wait_for(lambda: hits[count].data["evidence"]["crop"], 5, "the hit's crop")
    data: dict[str, Any] = hits[count].data
    return data


async def test_confirmed_and_corrected_reads_become_training_samples(
    site: tuple[Hub, AuditLog, AnprManager, str], config_dir: Path
) -> None:
    hub, audit, manager, api = site
    base_url, token = api.split("|")
    await _streaming(hub)
    hits = collect(hub, "anpr_hotlist_hit")
    corrected = collect(hub, "anpr_read_corrected")
    first = await _hit(hub, hits, "4321FGH")
    second = await _hit(hub, hits, "5555KLM")

    await hub.services.async_call("anpr", "hit_accept", {"hit_id": first["hit_id"]}, blocking=True)
    with pytest.raises(ServiceValidationError, match="'plate'"):
        await hub.services.async_call("anpr", "read_correct", {"hit_id": second["hit_id"], "plate": "?"},
                                      blocking=True)
    with pytest.raises(ServiceValidationError, match="'hit_id'"):
        await hub.services.async_call("anpr", "read_correct", {"hit_id": "nope", "plate": "5555KLN"}, blocking=True)
    url = f"{base_url}/api/anpr/hits/{second['hit_id']}/correction"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        async with session.post(url, json={"reason": "no plate"}) as resp:
            assert resp.status == 400
        async with session.post(url, json={"plate": "5555 kln", "reason": "N, not M"}) as resp:
            assert resp.status == 200
            response = await resp.json()
    assert response["plate"] == "5555KLN" and response["training_sample"] is True

    samples = await hub.async_add_executor_job(manager.training.samples)
    assert [(s.hit_id, s.plate, s.verdict) for s in samples] == [
        (first["hit_id"], "4321FGH", VERDICT_CONFIRMED),  # the entry's plate: the vehicle carries it
        (second["hit_id"], "5555KLN", VERDICT_CORRECTED),
    ]
    assert samples[1].by == "op_tarajal"
    for sample in samples:
        crop = cv2.imread(str(manager.media.root / sample.crop))
        assert crop is not None and crop.shape[1] > 20  # the plate's crop, as the camera saw it
    assert [e.data["plate"] for e in corrected] == ["5555KLN"]
    assert corrected[0].data["read"] == second["plate"]

    await audit.async_flush()
    entries = await audit.async_query(action="anpr.read_correct")
    assert [(e["target"], e["user_id"], e["data"]["plate"], e["data"]["reason"]) for e in entries] == [
        (second["hit_id"], "op_tarajal", "5555KLN", "N, not M")
    ]

    # the samples go with their hits at the hits' retention
    manager.retention["hits_days"] = 0
    await hub.services.async_call("anpr", "purge", {}, blocking=True)
    assert await hub.async_add_executor_job(manager.training.samples) == []
    assert not list((manager.media.root / "training").rglob("*.json"))


async def test_promote_and_rollback_switch_the_workers_model_audited(
    site: tuple[Hub, AuditLog, AnprManager, str], config_dir: Path
) -> None:
    hub, audit, manager, _api = site
    await _streaming(hub)
    with pytest.raises(ServiceValidationError, match="no promoted model"):
        await hub.services.async_call("anpr", "model_rollback", {}, blocking=True)
    folder = config_dir / "anpr_models"
    folder.mkdir()
    shutil.copyfile(find_model(REC_MODEL), folder / "plate_rec_20261206T210000Z.onnx")
    (folder / "broken.onnx").write_bytes(b"not a model")
    for bad in ("../hacho.db", "anpr_models/broken.onnx", "anpr_models/missing.onnx"):
        with pytest.raises(ServiceValidationError, match="'model'"):
            await hub.services.async_call("anpr", "model_promote", {"model": bad}, blocking=True)
    candidate = folder / "plate_rec_20261206T210000Z.onnx"
    with pytest.raises(ServiceValidationError, match="never evaluated"):
        await hub.services.async_call("anpr", "model_promote", {"model": "anpr_models/" + candidate.name},
                                      blocking=True)
    update_model_metrics(candidate, "evaluation", evaluation_record(candidate, {"samples": 10}))

    await hub.services.async_call("anpr", "model_promote",
                                  {"model": "anpr_models/plate_rec_20261206T210000Z.onnx", "reason": "evaluated"},
                                  blocking=True)
    worker = manager.camera("tarajal_in").worker
    assert worker is not None
    assert worker.spec.reader["rec_model"] == str(folder / "plate_rec_20261206T210000Z.onnx")
    current = json.loads((folder / "current.json").read_text(encoding="utf-8"))
    assert current["model"] == "anpr_models/plate_rec_20261206T210000Z.onnx" and current["previous"] is None
    hits = collect(hub, "anpr_hotlist_hit")
    await _hit(hub, hits, "4321FGH")  # the restarted workers read with the promoted model
    await async_unload(hub)  # a restart keeps the promotion, found from the config dir
    assert await async_setup(hub, anpr_config(cameras=[sim_camera(source="sim://x?seed=1&rate=0")]))
    manager = hub.data[DATA_KEY]
    worker = manager.camera("tarajal_in").worker
    assert worker is not None
    assert worker.spec.reader["rec_model"] == str(hub.path("anpr_models/plate_rec_20261206T210000Z.onnx"))

    await hub.services.async_call("anpr", "model_rollback", {"reason": "worse at night"}, blocking=True)
    worker = manager.camera("tarajal_in").worker
    assert worker is not None and worker.spec.reader["rec_model"] is None  # the committed model again
    await audit.async_flush()
    entries = await audit.async_query()
    assert [(e["action"], e["target"], e["data"]["reason"]) for e in reversed(entries)
            if e["action"].startswith("anpr.model")] == [
        ("anpr.model_promote", "anpr_models/plate_rec_20261206T210000Z.onnx", "evaluated"),
        ("anpr.model_rollback", "committed model", "worse at night"),
    ]


def _digits_swapped(base: Path, path: Path) -> Path:
    """A recogniser that reads 0-4 as 5-9 and back: every read of a plate with digits differs."""
    trainer = HeadTrainer(base)
    weight, bias = trainer.weight.copy(), trainer.bias.copy()
    for low, high in zip("01234", "56789", strict=True):
        a, b = trainer._index[low], trainer._index[high]
        weight[:, [a, b]] = weight[:, [b, a]]
        bias[[a, b]] = bias[[b, a]]
    return trainer.save(TrainResult(weight, bias, []), path, "digits swapped (test)")


async def test_shadow_reading_compares_a_candidate_on_live_traffic_and_never_hits_with_it(
    site: tuple[Hub, AuditLog, AnprManager, str], config_dir: Path
) -> None:
    hub, audit, manager, _api = site
    await _streaming(hub)
    folder = config_dir / "anpr_models"
    folder.mkdir()
    candidate = await hub.async_add_executor_job(_digits_swapped, find_model(REC_MODEL),
                                                 folder / "plate_rec_swapped.onnx")
    reports = collect(hub, "anpr_model_shadow_report")
    answer = await hub.services.async_call("anpr", "model_shadow",
                                           {"model": "anpr_models/plate_rec_swapped.onnx", "minutes": 10},
                                           blocking=True, return_response=True)
    assert answer is not None and answer["until"] - answer["started"] == pytest.approx(600)
    worker = manager.camera("tarajal_in").worker
    assert worker is not None and worker.spec.reader["shadow_model"] == str(candidate)
    assert worker.spec.reader["rec_model"] is None  # the model in use still reads for the hits
    await _streaming(hub)  # restarted with the candidate beside
    # the candidate reads 4321FGH as 9876FGH: listed too, it must never raise a hit
    await hub.services.async_call("anpr", "hotlist_add", {"list": "stolen", "plate": "9876FGH"}, blocking=True)
    hits = collect(hub, "anpr_hotlist_hit")
    reads = collect(hub, "anpr_plate_read")
    await _hit(hub, hits, "4321FGH")
    await wait_for(lambda: reads, 10, "the pass to end")
    report = await hub.services.async_call("anpr", "model_shadow", {"stop": True}, blocking=True,
                                           return_response=True)
    assert report is not None
    assert report["passes"] >= 1 and report["differ"] >= 1 and report["agree"] == 0
    assert report["by_camera"]["tarajal_in"]["passes"] == report["passes"]
    assert {e.data["plate"] for e in hits} == {"4321FGH"}  # a pass may split in two under load
    assert "9876FGH" not in json.dumps(report)  # counts only: no plate text in the report
    assert reports and reports[0].data["differ"] == report["differ"]
    metrics = json.loads(candidate.with_suffix(".json").read_text(encoding="utf-8"))
    assert metrics["shadow"]["passes"] == report["passes"]
    worker = manager.camera("tarajal_in").worker
    assert worker is not None and "shadow_model" not in worker.spec.reader
    with pytest.raises(ServiceValidationError, match="no shadow reading"):
        await hub.services.async_call("anpr", "model_shadow", {"stop": True}, blocking=True)
    await audit.async_flush()
    assert [e["target"] for e in await audit.async_query(action="anpr.model_shadow")] == [
        "anpr_models/plate_rec_swapped.onnx"]

    # the command line asks the running hub through anpr_models/, and a promotion from it is followed
    assert await hub.async_add_executor_job(main, ["anpr", "evaluate", "-c", str(config_dir), "--model",
                                                   str(candidate), "--shadow", "5"]) == 0
    await wait_for(lambda: manager.shadow is not None, 10, "the shadow run asked from the command line")
    assert manager.shadow is not None and manager.shadow.model == "anpr_models/plate_rec_swapped.onnx"
    await manager.async_stop_shadow()
    update_model_metrics(candidate, "evaluation", evaluation_record(candidate, {"samples": 10}))
    assert await hub.async_add_executor_job(main, ["anpr", "promote", "-c", str(config_dir), "--model",
                                                   "anpr_models/plate_rec_swapped.onnx"]) == 0
    await wait_for(lambda: (w := manager.camera("tarajal_in").worker) is not None
                   and w.spec.reader["rec_model"] == str(candidate), 10, "the hub to follow the promotion")
