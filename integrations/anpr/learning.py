"""The site's own training set: reads that operators confirmed (an accepted hit: the vehicle carries the
listed plate) or corrected ("this plate reads X"), each with its crop, kept under the hits' retention.

Only hit crops are taken (a read that matched no list keeps no crop unless the site opts in, and its
plate is only a keyed hash: it cannot be labelled). Samples live beside the evidence:
`<media_dir>/training/<camera>/<day>/<hit_id>.jpg` with `<hit_id>.json` holding the label. Blocking file
I/O: call from an executor.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .privacy import MediaStore

__all__ = ["TRAINING_KIND", "VERDICT_CONFIRMED", "VERDICT_CORRECTED", "TrainingSample", "TrainingSet"]

TRAINING_KIND = "training"
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
