"""`hacho anpr train|evaluate|promote|rollback -c SITE`: a versioned model and its metrics written beside, the
model in use untouched; evaluated per plate type and camera; promoted and rolled back audited, refused when
the model is missing or was not evaluated as it is."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import pytest

from hacho.__main__ import main
from integrations.anpr.cli import held_back, plate_type
from integrations.anpr.learning import VERDICT_CONFIRMED, TrainingSample, TrainingSet
from integrations.anpr.privacy import MediaStore
from integrations.anpr.reader import REC_MODEL, PlateReader, find_model
from integrations.anpr.sim_camera import random_plate, render_plate


def _site_set(config_dir: Path, count: int) -> None:
    rng = random.Random(5)
    media = MediaStore(config_dir / "media" / "anpr")
    training = TrainingSet(media)
    for n in range(count):
        plate = random_plate(rng, old_share=0.0)
        crop = config_dir / f"crop{n}.jpg"
        cv2.imwrite(str(crop), render_plate(plate, width=160 + 5 * n))
        sample = TrainingSample(f"hit{n}", "tarajal_in", plate, plate, VERDICT_CONFIRMED, 1.79e9 + n, "op", "")
        training.add(sample, crop)


def test_too_few_samples_is_refused(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _site_set(config_dir, 3)  # too few, held-back ones aside
    assert main(["anpr", "train", "-c", str(config_dir)]) == 2
    assert "3 confirmed or corrected reads" in capsys.readouterr().err
    assert not (config_dir / "anpr_models").exists()


def test_train_writes_a_versioned_model_beside_and_changes_nothing_in_use(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_use = find_model(REC_MODEL)
    before = in_use.read_bytes()
    _site_set(config_dir, 24)
    assert main(["anpr", "train", "-c", str(config_dir), "--epochs", "2"]) == 0
    out = capsys.readouterr()
    assert "training [" in out.err and "left" in out.err  # progress with an estimate of the time left
    assert "the model in use is unchanged" in out.out
    models = sorted((config_dir / "anpr_models").glob("plate_rec_*.onnx"))
    assert len(models) == 1
    metrics = json.loads(models[0].with_suffix(".json").read_text(encoding="utf-8"))
    assert metrics["samples"] == 24 - sum(held_back(s) for s in TrainingSet(MediaStore(
        config_dir / "media" / "anpr")).samples()) and metrics["epochs"] == 2 and len(metrics["train_loss"]) == 2
    assert metrics["head"] == "context" and metrics["augmented_copies"] == 2 * metrics["samples"]
    assert metrics["loss_after"] < metrics["loss_before"]
    assert in_use.read_bytes() == before
    reader = PlateReader(rec_model=str(models[0]))
    match = reader._accept(reader.read_crop(render_plate("4321FGH", width=260)))
    assert match is not None and match.text == "4321FGH"


def test_evaluate_compares_on_the_held_back_samples_only(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _site_set(config_dir, 30)
    samples = TrainingSet(MediaStore(config_dir / "media" / "anpr")).samples()
    held = [s for s in samples if held_back(s)]
    assert 0 < len(held) < len(samples) // 3
    assert main(["anpr", "train", "-c", str(config_dir), "--epochs", "1"]) == 0
    model = next((config_dir / "anpr_models").glob("plate_rec_*.onnx"))
    metrics = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    assert metrics["samples"] == len(samples) - len(held)  # never trained on what evaluate measures
    capsys.readouterr()
    assert main(["anpr", "evaluate", "-c", str(config_dir), "--model", str(model)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == len(held)
    assert set(report["by_camera"]) == {"tarajal_in"}
    assert report["by_camera"]["tarajal_in"]["samples"] == len(held)
    assert set(report["by_type"]) == {"A"}  # rendered one-row plates
    assert sum(t["samples"] for t in report["by_type"].values()) == len(held)
    recorded = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))["evaluation"]
    assert recorded["candidate"] == report["candidate"] and len(recorded["sha256"]) == 64
    assert report["current"] >= 0.5 and 0.0 <= report["candidate"] <= 1.0  # rendered plates: current reads them


def test_plate_type_from_text_and_shape() -> None:
    assert plate_type("1234BCD", (40, 200, 3)) == "A"
    assert plate_type("1234BCD", (110, 130, 3)) == "B"  # two rows: nearly square
    assert plate_type("C1234BCD", (110, 130, 3)) == "C"
    assert plate_type("R1234BCD", (40, 220, 3)) == "E"


def _audit(config_dir: Path) -> list[tuple[str, str, str | None]]:
    """(action, outcome, target) of the site's audit entries, oldest first; the chain must verify."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from hub.audit import AuditEntry, verify_chain
    from hub.audit.cli import database_url
    from hub.recorder.core import create_db_engine

    engine = create_db_engine(database_url(config_dir))
    try:
        with Session(engine) as session:
            assert verify_chain(session).ok
            rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
            return [(r.action, r.outcome, r.target) for r in rows]
    finally:
        engine.dispose()


def test_promote_and_rollback_commands_audited_and_refused_without_evaluation(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _site_set(config_dir, 30)
    assert main(["anpr", "train", "-c", str(config_dir), "--epochs", "1"]) == 0
    model = next((config_dir / "anpr_models").glob("plate_rec_*.onnx"))
    relative = f"anpr_models/{model.name}"
    current = config_dir / "anpr_models" / "current.json"
    capsys.readouterr()

    assert main(["anpr", "rollback", "-c", str(config_dir)]) == 1
    assert "no promoted model to roll back from" in capsys.readouterr().err
    assert main(["anpr", "promote", "-c", str(config_dir), "--model", "anpr_models/missing.onnx"]) == 1
    assert "no such model" in capsys.readouterr().err
    assert main(["anpr", "promote", "-c", str(config_dir), "--model", relative]) == 1
    assert "never evaluated" in capsys.readouterr().err and not current.exists()

    assert main(["anpr", "evaluate", "-c", str(config_dir), "--model", relative]) == 0
    model.write_bytes(find_model(REC_MODEL).read_bytes())  # another model in its place after its evaluation
    assert main(["anpr", "promote", "-c", str(config_dir), "--model", relative]) == 1
    assert "changed since it was evaluated" in capsys.readouterr().err and not current.exists()
    assert main(["anpr", "evaluate", "-c", str(config_dir), "--model", relative]) == 0
    assert main(["anpr", "promote", "-c", str(config_dir), "--model", relative, "--reason", "better"]) == 0
    state = json.loads(current.read_text(encoding="utf-8"))
    assert state["model"] == relative and state["previous"] is None and state["by"].startswith("cli:")

    assert main(["anpr", "rollback", "-c", str(config_dir), "--reason", "worse at night"]) == 0
    state = json.loads(current.read_text(encoding="utf-8"))
    assert state["model"] is None and state["previous"] == relative
    assert _audit(config_dir) == [
        ("anpr.model_rollback", "refused", "rollback"),
        ("anpr.model_promote", "refused", "anpr_models/missing.onnx"),
        ("anpr.model_promote", "refused", relative),
        ("anpr.model_promote", "refused", relative),
        ("anpr.model_promote", "ok", relative),
        ("anpr.model_rollback", "ok", "committed model"),
    ]
