"""ANPR bench: plate reading accuracy on real photographs, frames/s per core, capture-to-hit latency.

    python -m bench.anpr                      # everything (about 5 minutes on one core)
    python -m bench.anpr --only crops --limit 300
    python -m bench.anpr --only speed,latency
    python -m bench.anpr --only detect --limit 200 --photo-detectors morph   # default: the cameras' (yolo)
    python -m bench.anpr --only crops --types BCE     # two-row and coloured plates only
    python -m bench.anpr --only track --track-vehicles 30   # multi-frame evidence (simulated lane; --photo-detectors)

Evaluation data (../shared/data/plates/, see its README; measured only, never trained on, never copied):

- crops: `uc3m-ocr-train`, 2,056 real Spanish plate crops with two characters masked each. A crop counts
  when the read gives every visible character in order at the unmasked positions: each masked
  position may be read as one character or none, nothing else may be added or left out. Target 95%.
- photos: `openalpr-eu`, 108 photos of European cars; a plate counts when the reader finds it and reads
  it exactly (the whole photo goes through detection, as a camera frame would). Target 90%.
- detect: `uc3m-lp-train` (1,580 Spanish street photos, 320x240, YOLO plate boxes; `--limit` spreads the
  photos evenly) and `openalpr-eu`: per plate width (<20, 20-40, 40-80, >80 px) the share of plates among
  the detector's candidates and the share read (a confident plate-shaped read overlapping the plate,
  IoU >= 0.3), and the precision of the reads. `--upscale off` measures without the enlarged pass.
- track: the simulator's lane at small frame widths (plates 25-55 px), frames made camera-like (blur,
  noise, JPEG); the share of vehicles whose pass (the tracker's vote over its frames) reads exactly,
  against the read of the single most confident frame (the baseline, in the same run).
- speed: frames/s on one core (one thread) at 1280x720 with one plate in view (simulated camera), for
  the camera detector settings. Target 10.
- latency: capture of a frame to `anpr_hotlist_hit` on the bus, through the hub, a worker process and the
  hotlist, for planted stolen plates on a simulated camera. Target p95 under 200 ms.

Figures are printed with the failures grouped by cause; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._lib import percentile

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "plates"
TARGETS = {"crops": 0.95, "photos": 0.90, "fps_per_core": 10.0, "latency_p95_ms": 200.0}


def _mask_pattern(label: str) -> re.Pattern[str]:
    return re.compile("".join("[A-Z0-9]?" if c == "-" else re.escape(c) for c in label))


def _crop_cause(read: str, label: str) -> str:
    visible = label.replace("-", "")
    if not read:
        return "nothing read"
    if len(read) > len(label):
        return "extra characters (band, border, screws)"
    if len(read) < len(visible):
        return "characters missed"
    return "characters misread"


def bench_crops(
    limit: int | None,
    variants: int,
    rec_model: str | None = None,
    types: str | None = None,
    crop_width: int | None = None,
    files: list[str] | None = None,
) -> dict[str, Any]:
    """Share of uc3m crops whose visible characters are all read in order (of the plate `types` given,
    A-E, else all; shrunk to `crop_width` px first, as a distant plate would be, when given)."""
    import cv2

    from integrations.anpr.formats import correct, normalize
    from integrations.anpr.reader import PlateReader

    files = files if files is not None else sorted(glob.glob(str(DATA / "uc3m-ocr-train" / "*.jpg")))
    if types:
        files = [f for f in files if os.path.basename(f)[6] in types]
    if limit:
        files = files[:: max(1, len(files) // limit)][:limit]
    reader = PlateReader(detectors=("morph",), variants=variants, rec_model=rec_model)
    ok = 0
    causes: Counter[str] = Counter()
    by_type: dict[str, list[int]] = {}
    examples: dict[str, list[str]] = {}
    started = time.perf_counter()
    for path in files:
        name = os.path.basename(path)
        kind, label = name[6:8], name[9:-4]
        image = cv2.imread(path)
        read = ""
        if image is not None and crop_width and image.shape[1] > crop_width:
            height = max(4, round(image.shape[0] * crop_width / image.shape[1]))
            image = cv2.resize(image, (crop_width, height), interpolation=cv2.INTER_AREA)
        if image is not None:
            recognition = reader.read_crop(image)
            fitted = correct(recognition.text, recognition.confidences)  # as the camera pipeline does
            read = fitted.text if fitted is not None else normalize(recognition.text)
        good = _mask_pattern(label).fullmatch(read) is not None
        ok += good
        by_type.setdefault(kind, [0, 0])[0] += good
        by_type[kind][1] += 1
        if not good:
            cause = _crop_cause(read, label)
            causes[cause] += 1
            if len(examples.setdefault(cause, [])) < 4:
                examples[cause].append(f"{label}->{read or '∅'}")
    seconds = time.perf_counter() - started
    n = len(files)
    return {
        "n": n,
        "accuracy": round(ok / n, 4) if n else None,
        "ms_per_crop": round(seconds / max(n, 1) * 1000, 1),
        "failures": dict(causes.most_common()),
        "examples": examples,
        "by_type": {k: round(v[0] / v[1], 4) for k, v in sorted(by_type.items())},
    }


def bench_learn(sizes: tuple[int, ...], test_n: int, seed: int = 18, epochs: int = 8,
                heads: tuple[str, ...] = ("linear", "context+aug"), augment: int = 2) -> dict[str, Any]:
    """Learning from confirmed reads, measured: `uc3m-ocr-train` split once with a fixed seed; `test_n`
    crops (all types) held out; each head (`linear`: the output layer alone; `context`: the context head
    of `context_head.py`; `context+aug`: the same with `augment` augmented copies of each crop) trained on
    the first 100/300/1,000 of the other one-row crops as if operators had confirmed them (label = the
    visible characters), and every model scored on the held-out crops like `--only crops`. The weights go
    to a temporary folder and are deleted (the data's licence allows this measurement only)."""
    import random

    import cv2
    import numpy as np

    from integrations.anpr.context_head import ContextTrainer, augment_crop
    from integrations.anpr.reader import REC_MODEL, find_model

    files = sorted(glob.glob(str(DATA / "uc3m-ocr-train" / "*.jpg")))
    random.Random(seed).shuffle(files)
    test, pool = sorted(files[:test_n]), [f for f in files[test_n:] if os.path.basename(f)[6] in "AD"]
    trainer = ContextTrainer(find_model(REC_MODEL), seed=seed)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    features: list[np.ndarray] = []
    texts: list[str] = []
    extra: list[tuple[int, np.ndarray]] = []
    for path in pool[: max(sizes)]:
        image = cv2.imread(path)
        if image is not None:
            if any(h.endswith("+aug") for h in heads):
                extra += [(len(features), trainer.features(augment_crop(image, rng))) for _ in range(augment)]
            features.append(trainer.features(image))
            texts.append(os.path.basename(path)[9:-4].replace("-", ""))
    extract_s = time.perf_counter() - started
    base = bench_crops(None, 1, None, None, None, test)
    result: dict[str, Any] = {"seed": seed, "test_crops": len(test), "epochs": epochs, "augment": augment,
                              "features_s": round(extract_s, 1),
                              "base": {"accuracy": base["accuracy"], "by_type": base["by_type"]}}
    with tempfile.TemporaryDirectory() as folder:
        for head in heads:
            for size in sizes:
                started = time.perf_counter()
                if head == "linear":
                    trained: Any = trainer.train(features[:size], texts[:size], epochs=epochs, seed=seed)
                else:
                    copies = [(i, x) for i, x in extra if i < size] if head.endswith("+aug") else []
                    trained = trainer.train_context(features[:size], texts[:size], epochs=epochs, seed=seed,
                                                    extra=copies)
                train_s = time.perf_counter() - started
                model = trainer.save(trained, Path(folder) / f"plate_rec_{size}.onnx", f"bench {size} crops")
                scored = bench_crops(None, 1, str(model), None, None, test)
                result[f"{head}_{size}"] = {"accuracy": scored["accuracy"], "by_type": scored["by_type"],
                                            "train_s": round(train_s, 1),
                                            "loss_first_last": [round(trained.losses[0], 3),
                                                                round(trained.losses[-1], 3)]}
                print(f"learn {head} {size}: {result[f'{head}_{size}']}", file=sys.stderr, flush=True)
    return result


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    x1, y1, x2, y2 = max(ax, bx), max(ay, by), min(ax + aw, bx + bw), min(ay + ah, by + bh)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / float(aw * ah + bw * bh - inter or 1)


def _glyphs(text: str) -> str:
    """Text with O/0 and I/1 merged: several European plate fonts draw them alike, and the dataset's
    labels use the letter where the plate has the digit (Slovak RK-099AN labelled RKO99AN)."""
    return text.replace("O", "0").replace("I", "1")


def bench_photos(limit: int | None, detectors: tuple[str, ...], rec_model: str | None = None) -> dict[str, Any]:
    """Share of openalpr-eu plates found and read exactly from the whole photo."""
    import cv2

    from integrations.anpr.formats import normalize
    from integrations.anpr.reader import PlateReader

    files = sorted(glob.glob(str(DATA / "openalpr-eu" / "*.jpg")))[: limit or None]
    reader = PlateReader(detectors=detectors, variants=1, max_candidates=8, rec_model=rec_model)
    ok = glyph_ok = 0
    causes: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    started = time.perf_counter()
    for path in files:
        fields = Path(path).with_suffix(".txt").read_text(encoding="utf-8").strip().split("\t")
        box = (int(fields[1]), int(fields[2]), int(fields[3]), int(fields[4]))
        truth = normalize(fields[5])
        image = cv2.imread(path)
        observations = reader.read(image) if image is not None else []
        texts = [o.text for o in observations]
        if truth in texts:
            ok += 1
            glyph_ok += 1
            continue
        if _glyphs(truth) in {_glyphs(t) for t in texts}:
            glyph_ok += 1
        near = [o for o in observations if _iou(o.box, box) > 0.2]
        candidates = [b for b, _s, _h in reader.detector.detect(image, 8)] if image is not None else []
        if near:
            cause, got = "misread", near[0].text
        elif any(_iou(b, box) > 0.2 for b in candidates):
            cause, got = "found, read rejected (too unsure or no plate format)", ""
        else:
            cause, got = "not found", ""
        causes[cause] += 1
        if len(examples.setdefault(cause, [])) < 5:
            examples[cause].append(f"{Path(path).name}:{truth}->{got or '∅'}")
    seconds = time.perf_counter() - started
    n = len(files)
    return {
        "n": n,
        "accuracy": round(ok / n, 4) if n else None,
        "accuracy_o0_i1_alike": round(glyph_ok / n, 4) if n else None,
        "detectors": list(detectors),
        "s_per_photo": round(seconds / max(n, 1), 3),
        "failures": dict(causes.most_common()),
        "examples": examples,
    }


WIDTH_BINS = ((0, 20, "<20"), (20, 40, "20-40"), (40, 80, "40-80"), (80, 100000, ">80"))
MATCH_IOU = 0.3  # a small plate's box moves by a pixel or two: IoU 0.3 is already the same plate


def _bin(width: float) -> str:
    return next(name for lo, hi, name in WIDTH_BINS if lo <= width < hi)


def _truth_boxes(path: Path, image_shape: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """Plate boxes (x, y, w, h) of a photo: YOLO fractions (uc3m-lp-train) or the openalpr-eu line."""
    text = path.with_suffix(".txt").read_text(encoding="utf-8").strip()
    if "\t" in text:
        fields = text.split("\t")
        return [(int(fields[1]), int(fields[2]), int(fields[3]), int(fields[4]))]
    h, w = image_shape[:2]
    boxes = []
    for line in text.splitlines():
        _cls, cx, cy, bw, bh = (float(v) for v in line.split()[:5])
        boxes.append((round((cx - bw / 2) * w), round((cy - bh / 2) * h), round(bw * w), round(bh * h)))
    return boxes


def _detect_set(name: str, limit: int | None) -> list[str]:
    files = sorted(glob.glob(str(DATA / name / "*.jpg")))
    if limit and limit < len(files):
        files = files[:: len(files) // limit][:limit]  # spread over the set, the same every run
    return files


def bench_detect(limit: int | None, detectors: tuple[str, ...], upscale: bool | None = None) -> dict[str, Any]:
    """Recall and precision by plate width on uc3m-lp-train and openalpr-eu.

    `candidates`: the plate is among the detector's candidates (what the reader gets to try);
    `recall`: the reader returns a read (confident, plate-shaped) whose box overlaps the plate;
    `precision`: the reads whose box overlaps a plate, of all reads returned."""
    import cv2

    from integrations.anpr.reader import PlateReader

    options: dict[str, Any] = {} if upscale is None else {"upscale": upscale}
    reader = PlateReader(detectors=detectors, variants=1, max_candidates=8, **options)
    result: dict[str, Any] = {"detectors": list(detectors), "match_iou": MATCH_IOU}
    for name in ("uc3m-lp-train", "openalpr-eu"):
        files = _detect_set(name, limit)
        plates: Counter[str] = Counter()
        found: Counter[str] = Counter()
        read: Counter[str] = Counter()
        reads = true_reads = 0
        started = time.perf_counter()
        for path in files:
            image = cv2.imread(path)
            if image is None:
                continue
            truth = _truth_boxes(Path(path), image.shape)
            candidates = [b for b, _s, _h in reader.detector.detect(image, 8)]
            observations = reader.read(image)
            reads += len(observations)
            true_reads += sum(any(_iou(o.box, t) >= MATCH_IOU for t in truth) for o in observations)
            for box in truth:
                key = _bin(box[2])
                plates[key] += 1
                found[key] += any(_iou(c, box) >= MATCH_IOU for c in candidates)
                read[key] += any(_iou(o.box, box) >= MATCH_IOU for o in observations)
        seconds = time.perf_counter() - started
        bins = [b for _lo, _hi, b in WIDTH_BINS if plates[b]]
        total = sum(plates.values())
        result[name] = {
            "photos": len(files),
            "plates": total,
            "plates_by_width": {b: plates[b] for b in bins},
            "candidates_by_width": {b: round(found[b] / plates[b], 3) for b in bins},
            "recall_by_width": {b: round(read[b] / plates[b], 3) for b in bins},
            "recall": round(sum(read.values()) / max(total, 1), 3),
            "precision": round(true_reads / reads, 3) if reads else None,
            "reads": reads,
            "s_per_photo": round(seconds / max(len(files), 1), 3),
        }
    return result


def _camera_like(image: Any, rng: Any) -> Any:
    """A rendered frame made to look like a camera's: slight blur, sensor noise, JPEG at quality 60."""
    import cv2
    import numpy as np

    image = cv2.GaussianBlur(image, (3, 3), 0.8)
    noisy = image.astype(np.int16) + rng.normal(0, 6, image.shape).astype(np.int16)
    _ok, data = cv2.imencode(".jpg", np.clip(noisy, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 60])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def bench_track(vehicles: int, widths: tuple[int, ...], fps: float = 8.0, seed: int = 18,
                detectors: tuple[str, ...] = ("morph",)) -> dict[str, Any]:
    """Multi-frame evidence on video: the simulator's lane (one vehicle at a time, approaching, its plate
    growing over the pass; frames blurred, noised and JPEG-compressed) at small frame widths, so that the
    plates are 25-55 px wide. Every frame is read as a camera worker reads it, and the reads go through the
    tracker as the manager feeds it. Per vehicle: `pass_read` is the vote of the vehicle's longest track
    (what the hub reports and matches), against `best_frame_read`, the read of its single most confident
    frame (no multi-frame evidence) and `frames_read` (the share of frames read right, alone); `tracks`
    per vehicle counts passes the tracker made of it (1 is ideal; more are cut-up passes or misdetections)."""
    import random

    import numpy as np

    from integrations.anpr.formats import correct
    from integrations.anpr.reader import PlateReader
    from integrations.anpr.sim_camera import SimCamera, random_plate
    from integrations.anpr.tracking import PlateTracker, TrackObservation

    reader = PlateReader(detectors=detectors, variants=1, threads=1)
    result: dict[str, Any] = {"vehicles": vehicles, "fps": fps, "detectors": list(detectors)}
    for width in widths:
        rng, noise = random.Random(seed), np.random.default_rng(seed)
        camera = SimCamera(seed=seed, rate=0, lanes=2, width=width, height=width * 9 // 16, pass_seconds=3.0)
        t = 0.0
        counts: Counter[str] = Counter()
        plate_widths: list[int] = []
        started = time.perf_counter()
        for _ in range(vehicles):
            plate = random_plate(rng, old_share=0.0)
            camera.plant(plate)
            tracker = PlateTracker("bench", timeout=1.0)
            observations: list[TrackObservation] = []
            seen = False
            while True:
                frame, truth = camera.frame(t)
                t += 1.0 / fps
                if not truth:
                    if seen:
                        break
                    continue
                seen = True
                counts["frames"] += 1
                plate_widths.append(truth[0][1][2])
                frame_obs = []
                for read in reader.read(_camera_like(frame, noise)):
                    confs = read.char_confidences if len(read.char_confidences) == len(read.text) \
                        else tuple([read.confidence] * len(read.text))
                    frame_obs.append(TrackObservation(t, read.text, tuple(confs), read.box))
                    counts["frames_read"] += read.text == plate
                tracker.update(frame_obs)
                observations.extend(frame_obs)
            tracks = tracker.close_all()
            counts["tracks"] += len(tracks)
            if tracks:
                counts["pass_read"] += max(tracks, key=lambda tr: len(tr.observations)).voted()[0] == plate
            if observations:
                clearest = max(observations, key=lambda o: o.mean_confidence)
                fitted = correct(clearest.text, clearest.confidences)
                counts["best_frame_read"] += (fitted.text if fitted else clearest.text) == plate
        plate_widths.sort()
        result[f"width_{width}"] = {
            "plate_px": [plate_widths[0], plate_widths[len(plate_widths) // 2], plate_widths[-1]],
            "pass_read": round(counts["pass_read"] / vehicles, 3),
            "best_frame_read": round(counts["best_frame_read"] / vehicles, 3),
            "frames_read": round(counts["frames_read"] / max(counts["frames"], 1), 3),
            "tracks_per_vehicle": round(counts["tracks"] / vehicles, 2),
            "s": round(time.perf_counter() - started, 1),
        }
    return result


def bench_speed(seconds: float, detectors: tuple[str, ...], rec_model: str | None = None) -> dict[str, Any]:
    """Frames/s on one thread at 1280x720 with one plate in view."""
    from integrations.anpr.reader import PlateReader
    from integrations.anpr.sim_camera import SimCamera

    camera = SimCamera(seed=11, rate=0, lanes=2, pass_seconds=4.0)
    frames: list[Any] = []
    t = 0.0
    while len(frames) < 40:
        if not camera.vehicles:
            camera.plant(f"{len(frames) % 10}{len(frames) % 7}{len(frames) % 5}3BCD")
        frame, truth = camera.frame(t)
        if len(truth) == 1:
            frames.append(frame)
        t += 0.1
    reader = PlateReader(detectors=detectors, variants=1, threads=1, rec_model=rec_model)
    reader.read(frames[0])
    times = []
    read = 0
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        frame = frames[i % len(frames)]
        start = time.perf_counter()
        read += bool(reader.read(frame))
        times.append(time.perf_counter() - start)
        i += 1
    times.sort()
    mean = sum(times) / len(times)
    return {
        "detectors": list(detectors),
        "frames": len(times),
        "fps_per_core": round(1.0 / mean, 1),
        "p50_ms": round(percentile(times, 50) * 1000, 1),
        "p95_ms": round(percentile(times, 95) * 1000, 1),
        "frames_with_a_read": round(read / len(times), 3),
    }


async def _latency(plants: int) -> dict[str, Any]:
    from hub.core import Event, Hub, callback
    from integrations.anpr import CONFIG_SCHEMA, async_setup, async_unload
    from integrations.anpr.config import DEFAULT_DETECTORS

    with tempfile.TemporaryDirectory() as config_dir:
        hub = Hub(config_dir)
        await hub.async_start()
        conf = CONFIG_SCHEMA(
            {
                "hash_key": "bench-key-0123456789",
                "workers": "process",
                "cameras": [
                    {
                        "id": "bench",
                        "source": "sim://bench?seed=5&rate=0&pass_seconds=1.5",
                        "fps": 10,
                        "detectors": list(DEFAULT_DETECTORS),
                    }
                ],
                "lists": [{"id": "stolen"}],
                "tracking": {"timeout": 0.4},
            }
        )
        await async_setup(hub, conf)
        latencies: list[float] = []
        plant_to_hit: list[float] = []
        planted_at: dict[str, float] = {}

        @callback
        def _on_hit(event: Event) -> None:
            now = time.time()
            latencies.append(now - event.data["frame_ts"])
            if event.data["plate"] in planted_at:
                plant_to_hit.append(now - planted_at.pop(event.data["plate"]))

        hub.bus.async_listen("anpr_hotlist_hit", _on_hit)
        deadline = time.monotonic() + 60
        while (state := hub.states.get("camera.anpr_bench")) is None or state.state != "streaming":
            if time.monotonic() > deadline:
                raise RuntimeError("the simulated camera did not start")
            await asyncio.sleep(0.1)
        for n in range(plants):
            plate = f"{1000 + n * 37 % 9000:04d}" + "BCDFGHJKLMNPRSTVWXYZ"[n % 20] + "KM"
            await hub.services.async_call("anpr", "hotlist_add", {"list": "stolen", "plate": plate})
            planted_at[plate] = time.time()
            await hub.services.async_call("anpr", "simulate_vehicle", {"camera": "bench", "plate": plate})
            await asyncio.sleep(2.2)
        await asyncio.sleep(1.0)
        await async_unload(hub)
        await hub.async_stop()
    latencies.sort()
    plant_to_hit.sort()
    return {
        "plants": plants,
        "hits": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "plant_to_hit_p95_ms": round(percentile(plant_to_hit, 95) * 1000, 1) if plant_to_hit else None,
    }


def _print_section(title: str, result: dict[str, Any]) -> None:
    print(f"\n== {title}")
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"  {key}:")
            for k, v in value.items():
                print(f"    {k}: {v}")
        else:
            print(f"  {key}: {value}")


def main() -> None:
    from integrations.anpr.config import DEFAULT_DETECTORS

    parser = argparse.ArgumentParser(description="ANPR accuracy and speed")
    parser.add_argument("--only", default="crops,photos,speed,latency")
    parser.add_argument("--limit", type=int, default=None, help="at most this many crops/photos")
    parser.add_argument("--variants", type=int, default=1, help="crop variants voted per read")
    parser.add_argument("--speed-seconds", type=float, default=15.0)
    parser.add_argument("--speed-detectors", default=f"{','.join(DEFAULT_DETECTORS)};morph",
                        help="speed: the detector sets timed, separated by ; (e.g. morph;yolo;yolo,morph)")
    parser.add_argument("--plants", type=int, default=20)
    parser.add_argument("--rec-model", default=None, help="another recogniser ONNX (default: the committed one)")
    parser.add_argument(
        "--photo-detectors", default=",".join(DEFAULT_DETECTORS),
        help="detectors for photos, detect and track (morph, haar, text, yolo; default: the cameras' default)"
    )
    parser.add_argument("--track-vehicles", type=int, default=30, help="track: vehicles per frame width")
    parser.add_argument("--track-widths", default="400,480", help="track: simulated frame widths (px)")
    parser.add_argument("--learn-sizes", default="100,300,1000", help="learn: training set sizes")
    parser.add_argument("--learn-test", type=int, default=400, help="learn: held-out crops")
    parser.add_argument("--learn-heads", default="linear,context+aug",
                        help="learn: heads to train (linear, context, context+aug)")
    parser.add_argument("--learn-augment", type=int, default=2, help="learn: augmented copies per crop")
    parser.add_argument("--learn-seed", type=int, default=18, help="learn: seed of the split and the training")
    parser.add_argument("--crop-width", type=int, default=None, help="crops: shrink each to this width first")
    parser.add_argument("--types", default=None, help="crops: only these plate types (e.g. BCE, two-row)")
    parser.add_argument(
        "--upscale", choices=("auto", "on", "off"), default="auto", help="detect: the reader's small-frame upscaling"
    )
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    result: dict[str, Any] = {"targets": TARGETS}
    if {"crops", "photos", "detect", "learn"} & wanted and not DATA.is_dir():
        print(f"evaluation data not found at {DATA}: skipping crops, photos, detect and learn", file=sys.stderr)
        result["skipped"] = sorted({"crops", "photos", "detect", "learn"} & wanted)
        wanted -= {"crops", "photos", "detect", "learn"}
    if "crops" in wanted:
        result["crops"] = bench_crops(args.limit, args.variants, args.rec_model, args.types, args.crop_width)
        _print_section("uc3m-ocr-train crops: visible characters all read, in order", result["crops"])
    if "photos" in wanted:
        result["photos"] = bench_photos(args.limit, tuple(args.photo_detectors.split(",")), args.rec_model)
        _print_section("openalpr-eu photos: found and read exactly", result["photos"])
    if "detect" in wanted:
        upscale = {"auto": None, "on": True, "off": False}[args.upscale]
        result["detect"] = bench_detect(args.limit, tuple(args.photo_detectors.split(",")), upscale)
        _print_section("detection by plate width (recall, precision)", result["detect"])
    if "learn" in wanted:
        sizes = tuple(int(n) for n in args.learn_sizes.split(","))
        heads = tuple(args.learn_heads.split(","))
        result["learn"] = bench_learn(sizes, args.learn_test, args.learn_seed, heads=heads,
                                      augment=args.learn_augment)
        _print_section("learning from confirmed crops (uc3m-ocr-train split, weights discarded)", result["learn"])
    if "track" in wanted:
        widths = tuple(int(w) for w in args.track_widths.split(","))
        result["track"] = bench_track(args.track_vehicles, widths, detectors=tuple(args.photo_detectors.split(",")))
        _print_section("multi-frame evidence: simulated lane, small plates, camera-like frames", result["track"])
    if "speed" in wanted:
        result["speed"] = [bench_speed(args.speed_seconds, tuple(chosen.split(",")), args.rec_model)
                           for chosen in args.speed_detectors.split(";")]
        for item in result["speed"]:
            _print_section(f"speed at 1280x720, one plate, one core ({'+'.join(item['detectors'])})", item)
    if "latency" in wanted:
        result["latency"] = asyncio.run(_latency(args.plants))
        _print_section("latency: frame capture -> anpr_hotlist_hit", result["latency"])
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
