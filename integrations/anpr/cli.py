"""`hacho anpr train -c SITE`: fine-tune the recogniser's output layer on the site's confirmed and
corrected reads (integrations/anpr/training.py), writing a new versioned model and its metrics beside the
old one. The model in use is never replaced here: the site switches to the new file itself."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_anpr_cli", "run_anpr_command"]

DEFAULT_CONFIG_DIR = "config/ceuta"
MODELS_SUBDIR = "anpr_models"
MIN_SAMPLES = 20


def add_anpr_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add `anpr train` to a CLI's subparsers (args carry `func`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("anpr", help="ANPR models: learn from the site")
    actions = parser.add_subparsers(dest="anpr_action", required=True)
    train = actions.add_parser("train", help="fine-tune the recogniser on the site's confirmed reads")
    train.add_argument("-c", "--config", default=DEFAULT_CONFIG_DIR,
                       help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    train.add_argument("--epochs", type=int, default=8)
    train.add_argument("--model", default=None, help="the model to start from (default: the one in use)")
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


def _progress(what: str, done: int, total: int, started: float) -> None:
    elapsed = time.monotonic() - started
    left = elapsed / done * (total - done) if done else 0.0
    bar = "#" * (20 * done // max(total, 1))
    print(f"\r{what} [{bar:<20}] {done}/{total}, about {left:.0f} s left", end="", file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


def run_anpr_command(args: argparse.Namespace) -> int:
    """Run `anpr train`. Exit codes: 0 written, 2 cannot (too few samples, no model)."""
    import cv2

    from .learning import TrainingSet
    from .privacy import MediaStore
    from .reader import REC_MODEL, ReaderError, find_model
    from .training import HeadTrainer

    config_dir = Path(args.config)
    root, configured = _site(config_dir)
    samples = TrainingSet(MediaStore(root)).samples()
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
    print(f"wrote {path} (metrics beside it); the model in use is unchanged: "
          f"set anpr: reader: rec_model to this file to use it")
    return 0
