"""`hacho anpr train -c SITE`: fine-tune the recogniser's head (the output layer with a context path, or the
output layer alone) on the site's confirmed and corrected reads (context_head.py, training.py), writing a new
versioned model and its metrics beside the old one. The model in use is never replaced here: the site
switches to the new file itself.
`hacho anpr evaluate -c SITE --model NEW`: the candidate against the model in use on the held-back
seventh of the set (never trained on), per plate type and per camera; the result is kept beside the model
(a promotion needs it). `--shadow MINUTES` asks the running hub to read live traffic with the candidate
beside the model in use for that long (counted and reported beside the model, never used for hits).
`hacho anpr promote -c SITE --model NEW` / `hacho anpr rollback -c SITE`: switch the site's recogniser
(anpr_models/current.json; a running hub follows within seconds), audited in the site's audit log."""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path
from typing import Any

from .learning import (
    MODELS_SUBDIR,
    SHADOW_FILE,
    ModelRefused,
    PromotedModel,
    TrainingSample,
    TrainingSet,
    candidate_model,
    evaluation_record,
    model_metrics,
    update_model_metrics,
)
from .privacy import MediaStore

__all__ = ["add_anpr_cli", "held_back", "plate_type", "run_anpr_command"]

DEFAULT_CONFIG_DIR = "config/ceuta"
MIN_SAMPLES = 20
HOLD_BACK = 7  # one sample in seven is held back for `evaluate`
TWO_ROW_ASPECT = 1.7  # a crop narrower than this (width / height) is a two-row plate (reader.split_rows)


def add_anpr_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add `anpr train|evaluate|promote|rollback` to a CLI's subparsers (args carry `func`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser("anpr", help="ANPR models: learn from the site")
    actions = parser.add_subparsers(dest="anpr_action", required=True)
    train = actions.add_parser("train", help="fine-tune the recogniser on the site's confirmed reads")
    train.add_argument("-c", "--config", default=DEFAULT_CONFIG_DIR,
                       help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    train.add_argument("--epochs", type=int, default=8)
    train.add_argument("--model", default=None, help="the model to start from (default: the one in use)")
    train.add_argument("--head", choices=("context", "linear"), default="context",
                       help="what is trained: the output layer with a context path over neighbouring frames "
                            "(default), or the output layer alone")
    train.add_argument("--augment", type=int, default=2,
                       help="shifted, scaled, relit or blurred copies of each crop trained on (context head)")
    evaluate = actions.add_parser("evaluate", help="compare a candidate model with the one in use on the "
                                  "held-back part of the site's set, per plate type and camera")
    evaluate.add_argument("--model", required=True, help="the candidate model (from `anpr train`)")
    evaluate.add_argument("--shadow", type=float, default=None, metavar="MINUTES",
                          help="also have the running hub read live traffic with the candidate beside the model "
                               "in use for MINUTES (compared and reported beside the model, never used for hits)")
    promote = actions.add_parser("promote", help="read with an evaluated model from anpr_models/ (audited)")
    promote.add_argument("--model", required=True, help="the model to switch to (evaluated with `anpr evaluate`)")
    rollback = actions.add_parser("rollback", help="go back to the model in use before the last promotion "
                                  "(audited)")
    for sub in (evaluate, promote, rollback):
        sub.add_argument("-c", "--config", default=DEFAULT_CONFIG_DIR,
                         help=f"config directory (default {DEFAULT_CONFIG_DIR})")
    for sub in (promote, rollback):
        sub.add_argument("--reason", default=None, help="why (kept in the audit entry)")
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


def plate_type(plate: str, crop_shape: tuple[int, ...]) -> str:
    """The plate's type as the UC3M-LP set names them, from its text and shape: A one-row (D, the blue
    taxi plate, is told from A only by colour and counts as A here), B two-row (motorcycle), C moped
    (C prefix, yellow), E trailer (R prefix, red)."""
    h, w = crop_shape[:2]
    if len(plate) == 8 and plate[0] == "C" and plate[1:5].isdigit():
        return "C"
    if len(plate) == 8 and plate[0] == "R" and plate[1:5].isdigit():
        return "E"
    return "B" if w / max(h, 1) < TWO_ROW_ASPECT else "A"


def _progress(what: str, done: int, total: int, started: float) -> None:
    elapsed = time.monotonic() - started
    left = elapsed / done * (total - done) if done else 0.0
    bar = "#" * (20 * done // max(total, 1))
    print(f"\r{what} [{bar:<20}] {done}/{total}, about {left:.0f} s left", end="", file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


def run_anpr_command(args: argparse.Namespace) -> int:
    """Run `anpr train|evaluate|promote|rollback`. Exit codes: 0 done, 1 refused (a model missing or not
    evaluated, nothing to roll back to), 2 cannot (too few samples, no model, audit log not writable)."""
    config_dir = Path(args.config)
    if args.anpr_action in ("promote", "rollback"):
        return _switch(args, config_dir)
    root, configured = _site(config_dir)
    samples = TrainingSet(MediaStore(root)).samples()
    if args.anpr_action == "evaluate":
        return _evaluate(args, config_dir, root, configured, [s for s in samples if held_back(s)])
    return _train(args, config_dir, root, configured, [s for s in samples if not held_back(s)])


def _in_use(config_dir: Path, configured: str | None) -> str | None:
    """The recogniser the site reads with: the configured one, else the promoted one (None: committed)."""
    if configured:
        return configured
    current = PromotedModel(config_dir / MODELS_SUBDIR).current()
    model = current.get("model") if current else None
    return str(config_dir / model) if model else None


def _evaluate(args: argparse.Namespace, config_dir: Path, root: Path, configured: str | None,
              samples: list[TrainingSample]) -> int:
    import cv2

    from .reader import REC_MODEL, PlateReader, ReaderError, find_model

    candidate = Path(args.model) if Path(args.model).is_file() or Path(args.model).is_absolute() \
        else config_dir / args.model
    if args.shadow is not None and _request_shadow(config_dir, args.model, args.shadow) != 0:
        return 1
    if not samples:
        print("Error: no held-back samples in the site's set yet", file=sys.stderr)
        return 0 if args.shadow is not None else 2  # the shadow reading was asked for all the same
    try:
        readers = {"current": PlateReader(rec_model=str(find_model(REC_MODEL, _in_use(config_dir, configured)))),
                   "candidate": PlateReader(rec_model=str(candidate))}
    except ReaderError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    groups: dict[str, dict[str, list[int]]] = {"by_type": {}, "by_camera": {}}  # key -> [current, candidate, n]
    for sample in samples:
        image = cv2.imread(str(root / sample.crop))
        if image is None:
            continue
        good = []
        for reader in readers.values():
            match, _recognition = reader.read_plate(image)
            good.append(int(match is not None and match.text == sample.plate))
        for group, key in (("by_type", plate_type(sample.plate, image.shape)), ("by_camera", sample.camera)):
            tally = groups[group].setdefault(key, [0, 0, 0])
            tally[0] += good[0]
            tally[1] += good[1]
            tally[2] += 1
    total = sum(t[2] for t in groups["by_camera"].values())
    report: dict[str, Any] = {"samples": total}
    for index, name in enumerate(readers):
        report[name] = round(sum(t[index] for t in groups["by_camera"].values()) / max(total, 1), 4)
    for group, tallies in groups.items():
        report[group] = {key: {"samples": t[2], "current": round(t[0] / t[2], 4), "candidate": round(t[1] / t[2], 4)}
                         for key, t in sorted(tallies.items())}
    shadow = model_metrics(candidate).get("shadow")
    if shadow:
        report["shadow"] = shadow  # the last shadow reading of live traffic, kept by the hub
    if total and (config_dir / MODELS_SUBDIR).resolve() in candidate.resolve().parents:  # only trained models
        update_model_metrics(candidate, "evaluation", evaluation_record(candidate, {
            k: v for k, v in report.items() if k != "shadow"}))
    print(json.dumps(report, indent=2))
    return 0


def _request_shadow(config_dir: Path, given: str, minutes: float) -> int:
    """Ask the running hub (through anpr_models/shadow.json) to shadow-read with the candidate."""
    from hub.audit.offline import cli_actor

    try:
        model = candidate_model(config_dir, given, evaluated=False)
    except ModelRefused as err:
        print(f"Error: no shadow reading: {err}", file=sys.stderr)
        return 1
    if not 0 < minutes <= 7 * 24 * 60:
        print("Error: --shadow takes minutes, more than 0 and at most a week", file=sys.stderr)
        return 1
    request = {"model": model, "minutes": minutes, "requested": round(time.time(), 3), "by": cli_actor()}
    path = config_dir / MODELS_SUBDIR / SHADOW_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(request), encoding="utf-8")
    tmp.replace(path)
    print(f"asked the running hub to read live traffic with {model} beside the model in use for {minutes:g} min; "
          f"its counts go to {Path(model).with_suffix('.json').name} (section shadow) and this command shows them",
          file=sys.stderr)
    return 0


def _switch(args: argparse.Namespace, config_dir: Path) -> int:
    """`anpr promote` / `anpr rollback`: record the switch in anpr_models/current.json, audited first (no
    audit entry, no switch); every refusal is audited too."""
    from hub.audit.offline import audit_cli_change, cli_actor

    models = PromotedModel(config_dir / MODELS_SUBDIR)
    action = f"anpr.model_{args.anpr_action}"
    current = models.current()
    in_force = current.get("model") if current else None
    try:
        if args.anpr_action == "promote":
            model: str | None = candidate_model(config_dir, args.model)
            previous = in_force
        else:
            if not in_force:
                raise ModelRefused("no promoted model to roll back from: the committed model is in use")
            model, previous = (current or {}).get("previous"), in_force
    except ModelRefused as err:
        problem = audit_cli_change(config_dir, action, target=str(getattr(args, "model", None) or "rollback"),
                                   outcome="refused", data={"reason": str(err)})
        print(f"Error: {err}", file=sys.stderr)
        if problem is not None:
            print(f"Error: the refusal could not be audited: {problem}", file=sys.stderr)
        return 1
    problem = audit_cli_change(config_dir, action, target=model or "committed model",
                               data={"previous": previous, "reason": args.reason})
    if problem is not None:
        print(f"Error: not switched, the audit log cannot be written: {problem}", file=sys.stderr)
        return 2
    models.write(model, previous, time.time(), cli_actor())
    print(f"the site now reads with {model or 'the committed model'} (before: {previous or 'the committed model'});"
          f" a running hub restarts its camera workers within seconds")
    return 0


def _train(args: argparse.Namespace, config_dir: Path, root: Path, configured: str | None,
           samples: list[TrainingSample]) -> int:
    import cv2
    import numpy as np

    from .context_head import ContextTrainer, augment_crop
    from .reader import REC_MODEL, ReaderError, find_model
    from .training import TrainResult

    if len(samples) < MIN_SAMPLES:
        print(f"Error: {len(samples)} confirmed or corrected reads under {root}; at least {MIN_SAMPLES} needed",
              file=sys.stderr)
        return 2
    try:
        base = find_model(REC_MODEL, args.model or configured)
    except ReaderError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    trainer = ContextTrainer(base)
    rng = np.random.default_rng(18)
    copies = args.augment if args.head == "context" else 0
    features: list[np.ndarray] = []
    texts: list[str] = []
    extra: list[tuple[int, np.ndarray]] = []
    started = time.monotonic()
    for done, sample in enumerate(samples, 1):
        image = cv2.imread(str(root / sample.crop))
        if image is not None:
            extra += [(len(features), trainer.features(augment_crop(image, rng))) for _ in range(copies)]
            features.append(trainer.features(image))
            texts.append(sample.plate)
        _progress("features", done, len(samples), started)
    started = time.monotonic()

    def progress(epoch: int, total: int, _loss: float) -> None:
        _progress("training", epoch, total, started)

    result: TrainResult
    if args.head == "context":
        result = trainer.train_context(features, texts, epochs=args.epochs, extra=extra, progress=progress)
        before, after = trainer.head_loss(features, texts, trainer.initial), trainer.head_loss(features, texts, result)
    else:
        result = trainer.train(features, texts, epochs=args.epochs, progress=progress)
        before = trainer.loss(features, texts, trainer.weight, trainer.bias)
        after = trainer.loss(features, texts, result.weight, result.bias)
    folder = config_dir / MODELS_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    version = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = trainer.save(result, folder / f"plate_rec_{version}.onnx", f"{len(features)} site crops, from {base.name}")
    metrics = {"version": version, "base_model": str(base), "samples": len(features), "epochs": args.epochs,
               "head": args.head, "augmented_copies": len(extra),
               "train_loss": [round(x, 4) for x in result.losses],
               "loss_before": round(before, 4), "loss_after": round(after, 4)}
    path.with_suffix(".json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    print(f"wrote {path} (metrics beside it); the model in use is unchanged: compare it with "
          f"`hacho anpr evaluate`, switch to it with `hacho anpr promote`")
    return 0
