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

from hub.audit import AuditLog, async_setup_audit
from hub.auth.tokens import create_token
from hub.core import Hub
from hub.exceptions import ServiceValidationError
from hub.http import async_setup_http
from hub.recorder import async_setup_recorder
from integrations.anpr import DATA_KEY, AnprManager, async_setup, async_unload
from integrations.anpr.learning import VERDICT_CONFIRMED, VERDICT_CORRECTED
from integrations.anpr.reader import REC_MODEL, find_model

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
    await wait_for(lambda: (s := hub.states.get("camera.anpr_tarajal_in")) is not None and s.state == "streaming",
                    20, "the camera")
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
    await wait_for(lambda: (s := hub.states.get("camera.anpr_tarajal_in")) is not None and s.state == "streaming",
                   20, "the camera")
    with pytest.raises(ServiceValidationError, match="no promoted model"):
        await hub.services.async_call("anpr", "model_rollback", {}, blocking=True)
    folder = config_dir / "anpr_models"
    folder.mkdir()
    shutil.copyfile(find_model(REC_MODEL), folder / "plate_rec_20261206T210000Z.onnx")
    (folder / "broken.onnx").write_bytes(b"not a model")
    for bad in ("../hacho.db", "anpr_models/broken.onnx", "anpr_models/missing.onnx"):
        with pytest.raises(ServiceValidationError, match="'model'"):
            await hub.services.async_call("anpr", "model_promote", {"model": bad}, blocking=True)

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
