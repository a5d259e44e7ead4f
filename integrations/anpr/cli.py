"""`hacho anpr train -c SITE`: fine-tune the recogniser's output layer on the site's confirmed and
corrected reads (integrations/anpr/training.py), writing a new versioned model and its metrics beside the
old one. The model in use is never replaced here: the site switches to the new file itself.
`hacho anpr evaluate -c SITE --model NEW`: the candidate against the model in use on the held-back
seventh of the set (never trained on), per camera."""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from .learning import MODELS_SUBDIR, TrainingSample, TrainingSet
from .privacy import MediaStore

__all__ = ["add_anpr_cli", "held_back", "run_anpr_command"]

DEFAULT_CONFIG_DIR = "config/ceuta"
MIN_SAMPLES = 20
HOLD_BACK = 7  # one sample in seven is held back for `evaluate`


def add_anpr_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add `anpr train` and `anpr evaluate` to a CLI's subparsers (args carry `func`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("anpr", help="ANPR models: learn from the site")
    actions = parser.add_subparsers(dest="anpr_action", required=True)
    train = actions.add_parser("train", help="fine-tune the recogniser on the site's confirmed reads")
    train.add_argument("-c", "--config", default=DEFAULT_CONFIG_DIR,
                       help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    train.add_argument("--epochs", type=int, default=8)
    train.add_argument("--model", default=None, help="the model to start from (default: the one in use)")
    evaluate = actions.add_parser("evaluate", help="compare a candidate model with the one in use on the "
                                  "held-back part of the site's set, per camera")
    evaluate.add_argument("-c", "--config", default=DEFAULT_CONFIG_DIR,
                          help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    evaluate.add_argument("--model", required=True, help="the candidate model (from `anpr train`)")
    parser.set_defaults(func=run_anpr_command)
    return parser


def _site(config_dir: Path) -> tuple[Path, str | None]:
    """The site's media folder and its configured recogniser, from configuration.yaml when present."""
    from hub.config.core import CONFIG_FILE, load_configuration

    from .const import MEDIA_SUBDIR

    media, rec_model = MEDIA_SUBDIR, None
    if (config_dir / CONFIG_FILE).is_file():
        anpr = load_configuration(config_dir).get("anpr") or {}
        if isinstance(anpr, dict):
            media = anpr.get("media_dir", media)
            rec_model = (anpr.get("reader") or {}).get("rec_model")
    root = Path(media) if Path(media).is_absolute() else config_dir / media
    return root, rec_model


def held_back(sample: TrainingSample) -> bool:
    """Whether a sample is kept for `evaluate` and never trained on: a fixed seventh, by hit id."""
    return zlib.crc32(sample.hit_id.encode()) % HOLD_BACK == 0


def _progress(what: str, done: int, total: int, started: float) -> None:
    elapsed = time.monotonic() - started
    left = elapsed / done * (total - done) if done else 0.0
    bar = "#" * (20 * done // max(total, 1))
    print(f"\r{what} [{bar:<20}] {done}/{total}, about {left:.0f} s left", end="", file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


def run_anpr_command(args: argparse.Namespace) -> int:
    """Run `anpr train` or `anpr evaluate`. Exit codes: 0 done, 2 cannot (too few samples, no model)."""
    config_dir = Path(args.config)
    root, configured = _site(config_dir)
    samples = TrainingSet(MediaStore(root)).samples()
    if args.anpr_action == "evaluate":
        return _evaluate(root, configured, args.model, [s for s in samples if held_back(s)])
    return _train(args, config_dir, root, configured, [s for s in samples if not held_back(s)])


def _evaluate(root: Path, configured: str | None, candidate: str, samples: list[TrainingSample]) -> int:
    import cv2

    from .reader import REC_MODEL, PlateReader, ReaderError, find_model

    if not samples:
        print("Error: no held-back samples in the site's set yet", file=sys.stderr)
        return 2
    try:
        readers = {"current": PlateReader(rec_model=str(find_model(REC_MODEL, configured))),
                   "candidate": PlateReader(rec_model=candidate)}
    except ReaderError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    right: dict[str, dict[str, int]] = {name: defaultdict(int) for name in readers}
    seen: dict[str, int] = defaultdict(int)
    for sample in samples:
        image = cv2.imread(str(root / sample.crop))
        if image is None:
            continue
        seen[sample.camera] += 1
        for name, reader in readers.items():
            match = reader._accept(reader.read_crop(image))
            right[name][sample.camera] += match is not None and match.text == sample.plate
    total = sum(seen.values())
    report: dict[str, Any] = {"samples": total, "by_camera": {
        camera: {name: round(right[name][camera] / n, 4) for name in readers} for camera, n in sorted(seen.items())}}
    for name in readers:
        report[name] = round(sum(right[name].values()) / max(total, 1), 4)
    print(json.dumps(report, indent=2))
    return 0


def _train(args: argparse.Namespace, config_dir: Path, root: Path, configured: str | None,
           samples: list[TrainingSample]) -> int:
    import cv2

    from .reader import REC_MODEL, ReaderError, find_model
    from .training import HeadTrainer

    if len(samples) < MIN_SAMPLES:
        print(f"Error: {len(samples)} confirmed or corrected reads under {root}; at least {MIN_SAMPLES} needed",
              file=sys.stderr)
        return 2
    try:
        base = find_model(REC_MODEL, args.model or configured)
    except ReaderError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    trainer = HeadTrainer(base)
    features, texts = [], []
    started = time.monotonic()
    for done, sample in enumerate(samples, 1):
        image = cv2.imread(str(root / sample.crop))
        if image is not None:
            features.append(trainer.features(image))
            texts.append(sample.plate)
        _progress("features", done, len(samples), started)
    started = time.monotonic()
    result = trainer.train(features, texts, epochs=args.epochs,
                           progress=lambda epoch, total, _loss: _progress("training", epoch, total, started))
    folder = config_dir / MODELS_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    version = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = trainer.save(result, folder / f"plate_rec_{version}.onnx", f"{len(features)} site crops, from {base.name}")
    metrics = {"version": version, "base_model": str(base), "samples": len(features), "epochs": args.epochs,
               "train_loss": [round(x, 4) for x in result.losses],
               "loss_before": round(trainer.loss(features, texts, trainer.weight, trainer.bias), 4),
               "loss_after": round(trainer.loss(features, texts, result.weight, result.bias), 4)}
    path.with_suffix(".json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    print(f"wrote {path} (metrics beside it); the model in use is unchanged: compare it with "
          f"`hacho anpr evaluate`, switch to it with the anpr.model_promote service")
    return 0
