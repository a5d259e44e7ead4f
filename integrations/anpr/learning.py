"""The site's own training set: reads that operators confirmed (an accepted hit: the vehicle carries the
listed plate) or corrected ("this plate reads X"), each with its crop, kept under the hits' retention.

Only hit crops are taken (a read that matched no list keeps no crop unless the site opts in, and its
plate is only a keyed hash: it cannot be labelled). Samples live beside the evidence:
`<media_dir>/training/<camera>/<day>/<hit_id>.jpg` with `<hit_id>.json` holding the label. Blocking file
I/O: call from an executor.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .privacy import MediaStore

__all__ = [
    "MODELS_SUBDIR",
    "SHADOW_FILE",
    "TRAINING_KIND",
    "VERDICT_CONFIRMED",
    "VERDICT_CORRECTED",
    "ModelRefused",
    "PromotedModel",
    "TrainingSample",
    "TrainingSet",
    "candidate_model",
    "evaluation_record",
    "file_digest",
    "model_metrics",
    "update_model_metrics",
]

TRAINING_KIND = "training"
MODELS_SUBDIR = "anpr_models"  # in the config dir: trained models, and which one is promoted
CURRENT_FILE = "current.json"
SHADOW_FILE = "shadow.json"  # a request to the running hub: read live traffic with a candidate beside
VERDICT_CONFIRMED = "confirmed"
VERDICT_CORRECTED = "corrected"


@dataclass(frozen=True, slots=True)
class TrainingSample:
    """One labelled crop: what the plate reads, what the reader had read, who said so and how."""

    hit_id: str
    camera: str
    plate: str
    read: str
    verdict: str
    ts: float  # the hit's time: the sample is purged with the hit
    by: str | None
    crop: str  # path of the crop, relative to the media root


class TrainingSet:
    """Labelled crops of one site under the media root (a second label for a hit replaces the first)."""

    def __init__(self, media: MediaStore) -> None:
        self.media = media

    def add(self, sample: TrainingSample, crop_source: Path) -> TrainingSample:
        """Copy the hit's crop into the set and write its label; returns the sample as stored."""
        path = self.media.save(TRAINING_KIND, sample.camera, sample.hit_id, crop_source.read_bytes(), sample.ts)
        os.utime(path, (sample.ts, sample.ts))  # purged with its hit, by the hit's time
        stored = TrainingSample(**{**asdict(sample), "crop": str(path.relative_to(self.media.root))})
        label = path.with_suffix(".json")
        tmp = label.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(stored), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, label)
        return stored

    def samples(self) -> list[TrainingSample]:
        """Every sample whose crop and label are both still there, oldest first."""
        base = self.media.root / TRAINING_KIND
        out = []
        for label in sorted(base.rglob("*.json")) if base.is_dir() else []:
            if not label.with_suffix(".jpg").is_file():
                continue
            try:
                out.append(TrainingSample(**json.loads(label.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue  # a label cut short by a crash is skipped, not fatal
        return sorted(out, key=lambda s: s.ts)


class PromotedModel:
    """Which trained recogniser the site promoted (`<config>/anpr_models/current.json`), with the one
    before it for a rollback. Blocking file I/O."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def current(self) -> dict[str, Any] | None:
        """The promotion in force: `model`, `previous`, `ts`, `by`; None when none (the committed model)."""
        path = self.folder / CURRENT_FILE
        if not path.is_file():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def write(self, model: str | None, previous: str | None, ts: float, by: str | None) -> dict[str, Any]:
        """Record a switch (model None: back to the committed one)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"model": model, "previous": previous, "ts": ts, "by": by}
        tmp = self.folder / f"{CURRENT_FILE}.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.folder / CURRENT_FILE)
        return data


class ModelRefused(ValueError):
    """A model that cannot be promoted or shadowed, and why (for the operator)."""


def file_digest(path: Path) -> str:
    """SHA-256 of a file: an evaluation counts only for the bytes it evaluated."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_metrics(model: Path) -> dict[str, Any]:
    """The metrics beside a trained model (`<model>.json`: training, `evaluation`, `shadow`); {} if none."""
    path = model.with_suffix(".json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update_model_metrics(model: Path, key: str, value: dict[str, Any]) -> None:
    """Set one section of a model's metrics file (atomically)."""
    data = model_metrics(model)
    data[key] = value
    path = model.with_suffix(".json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def candidate_model(config_dir: Path, given: str, *, evaluated: bool = True) -> str:
    """Check a model for promotion or shadow reading; returns its path relative to the config dir.

    Refused (ModelRefused, with the reason) unless it is an .onnx file under `<config>/anpr_models/`, loads
    as a plate recogniser and, with `evaluated`, was measured by `hacho anpr evaluate` in its present form
    (the evaluation in its metrics file names the file's SHA-256). `given` is relative to the config dir,
    else to the working directory, or absolute. Blocking (reads and loads the model)."""
    from .reader import ReaderError, Recognizer

    base = config_dir.resolve()
    folder = (base / MODELS_SUBDIR).resolve()
    raw = Path(given)
    path = (raw if raw.is_absolute() or (raw.exists() and not (base / raw).exists()) else base / raw).resolve()
    if folder not in path.parents or path.suffix != ".onnx":
        raise ModelRefused(f"{given!r} is not a model file in {folder} (trained models are written there)")
    if not path.is_file():
        raise ModelRefused(f"{given!r}: no such model in {MODELS_SUBDIR}/")
    try:
        Recognizer(path)
    except ReaderError as err:
        raise ModelRefused(f"{given!r} is not a plate recogniser: {err}") from None
    relative = str(path.relative_to(base))
    if evaluated:
        evaluation = model_metrics(path).get("evaluation") or {}
        if not evaluation:
            raise ModelRefused(f"{relative} was never evaluated: run `hacho anpr evaluate -c {config_dir} "
                               f"--model {relative}` first")
        if evaluation.get("sha256") != file_digest(path):
            raise ModelRefused(f"{relative} changed since it was evaluated: evaluate it again")
    return relative


def evaluation_record(model: Path, report: dict[str, Any]) -> dict[str, Any]:
    """What `evaluate` keeps beside the model: its report, when, and the bytes it measured."""
    return {**report, "ts": round(time.time(), 3), "sha256": file_digest(model)}
