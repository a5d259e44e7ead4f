"""Face bench: verification accuracy on LFW's development pairs, the false match rate at the watchlist
operating point, detection and embedding speed per core, and the cost of blurring 1080p video.

    python -m bench.face                 # default: a deterministic subsample of the pairs (a few minutes)
    python -m bench.face --pairs 1000    # every one of the 1,000 pairs (about 3x longer)

Data: ../shared/data/faces (LFW View 1 DevTest; see its README): measured only, never trained on; the
threshold this prints for the operating point is read off this set and is NOT committed anywhere (the
integration uses dlib's documented 0.6).

The pipeline measured is the one the integration runs (integrations/face/engine.py: dlib HOG detector,
5-point alignment, ResNet embedding, all CC0), the ResNet run by onnxruntime (the same .dat converted by
integrations/face/resnet_onnx.py, one thread), on the same faces in the same run:
- `onnx`: the engine's defaults: the embedding averaged with its mirrored chip's, and an image where HOG
  finds no face given the engine's fallbacks (HOG upsampled once more, then the blurring Haar cascades);
- `onnx_before`: the pipeline before those (one view, no fallback);
- `onnx_jitterN`: dlib's jitter with N samples (`--jitter`, 0 to leave out), with the fallbacks;
- `dlib`: dlib's own runtime on the pipeline before (the issue's baseline; `--no-dlib` to leave out).
`dlib_vs_onnx_before_distance_max` says how far apart the two runtimes' embeddings of the same face are. No
model with a licence that allows this use and a better accuracy ships in a registry package that we found.

- accuracy: a pair is "same" when the distance is at most 0.6 (dlib's threshold, not tuned here); a pair
  whose image has no detected face counts as wrong (`images_without_face` per pipeline).
- fmr: every different-person pair of the embedded images (not only the official ones), at the threshold
  where the false non-match rate over every same-person pair of those images is at most 5%.
- speed: CPU seconds of the measuring thread (time.thread_time), so "per core" holds on a loaded machine
  (wall times are printed too); one thread (cv2.setNumThreads(1); dlib runs on one core without BLAS;
  onnxruntime with one intra-op thread runs in the calling thread); embeddings include the 5-point
  landmarks and the chip (and the mirror's or the jitter's network runs: the figure is per face);
  `batch_onnx` compares 4 faces of one frame in one onnxruntime call with 4 calls;
  1280x720 with 4 faces from 40 to 120 px for detection; recall counts the faces found.
- blur: a 2 s 1920x1080 clip at 25 fps with faces (60-150 px, moving), recorded as the cameras record it
  (H.264, fragmented MP4) and blurred as a press export does (integrations/face/clip.py: ffmpeg decodes,
  blur.py blurs, ffmpeg encodes); CPU seconds of the blurring thread and of the ffmpeg children, extrapolated
  (x30) to a minute: an estimate, and it says so. `blur_recall_lfw` also counts the blurring detector's faces
  in the 720p scene (40-120 px) and the 1080p one (60-150 px); `blur_recall_lfw_blazeface` the same for the
  live view's BlazeFace (`detection_720p.blazeface_live`: its speed, tiled as live view runs it).

    python -m bench.face --pairs 0 --frames 0 --clip 2   # the blurring part alone
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
if not DATA.is_dir():
    DATA = Path("/work/shared/data/faces")
THRESHOLD = 0.6


def _pairs(limit: int) -> list[tuple[bool, str, str]]:
    rows = [line.split("\t") for line in (DATA / "pairs.tsv").read_text().splitlines()[1:] if line.strip()]
    pairs = [(row[0] == "1", row[1], row[2].strip()) for row in rows]
    if limit >= len(pairs):
        return pairs
    step = len(pairs) / limit  # deterministic, spread over the same and the different halves
    return [pairs[int(i * step)] for i in range(limit)]


def _rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _embed_all(engines: dict[str, Any], names: list[str]) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """Each image's face embedded by each engine; CPU seconds spent embedding, per engine. HOG runs once; an
    image where it finds nothing goes through each engine's own `detect_still` (its fallbacks, if on)."""
    found: dict[str, dict[str, np.ndarray]] = {name: {} for name in engines}
    seconds = dict.fromkeys(engines, 0.0)
    detector = next(iter(engines.values()))
    for image in names:
        rgb = _rgb(DATA / image)
        boxes = detector.detect(rgb)
        h, w = rgb.shape[:2]
        for name, engine in engines.items():
            faces = boxes or (engine.detect_still(rgb) if engine.fallback else [])
            if not faces:
                continue
            # the face nearest the centre (LFW crops are centred on the named person)
            box = min(faces, key=lambda b: abs(b[0] + b[2] / 2 - w / 2) + abs(b[1] + b[3] / 2 - h / 2))
            start = time.thread_time()
            found[name][image] = engine.embed(rgb, box)
            seconds[name] += time.thread_time() - start
    return found, seconds


def _scores(pairs: list[tuple[bool, str, str]], embeddings: dict[str, np.ndarray]) -> dict[str, Any]:
    """Accuracy on the pairs, and the false match rate at the watchlist operating point."""
    correct = 0
    for same, a, b in pairs:
        if a in embeddings and b in embeddings:
            close = float(np.linalg.norm(embeddings[a] - embeddings[b])) <= THRESHOLD
            correct += int(close == same)
    keys = sorted(embeddings)
    people = np.array([k.split("/")[1] for k in keys])
    matrix = np.stack([embeddings[k] for k in keys]).astype(np.float64)
    squared = (matrix ** 2).sum(1)
    dist = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * matrix @ matrix.T, 0))
    upper = np.triu(np.ones_like(dist, dtype=bool), 1)
    same_mask = (people[:, None] == people[None, :]) & upper
    diff_mask = (people[:, None] != people[None, :]) & upper
    genuine, impostor = np.sort(dist[same_mask]), np.sort(dist[diff_mask])
    operating = float(genuine[int(np.ceil(0.95 * len(genuine))) - 1]) if len(genuine) else THRESHOLD
    false_matches = int(np.searchsorted(impostor, operating, side="right"))
    return {
        "accuracy": round(correct / len(pairs), 4), "threshold": THRESHOLD,
        "fmr_pairs_genuine": len(genuine), "fmr_pairs_impostor": len(impostor),
        "operating_threshold_read_off_this_set": round(operating, 4),
        "fnmr_at_operating": round(float(np.mean(genuine > operating)), 4) if len(genuine) else None,
        "false_matches_at_operating": false_matches,
        "fmr_at_operating": round(false_matches / max(1, len(impostor)), 6),
        "fmr_at_0_6": round(float(np.mean(impostor <= THRESHOLD)), 6),
        "fnmr_at_0_6": round(float(np.mean(genuine > THRESHOLD)), 4) if len(genuine) else None,
    }


def verification(engines: dict[str, Any], limit: int) -> dict[str, Any]:
    """Per engine: accuracy, false match rate and embeddings per second per core; and how far apart the
    engines' embeddings of the same faces are."""
    pairs = _pairs(limit)
    names = sorted({p[1] for p in pairs} | {p[2] for p in pairs})
    embeddings, seconds = _embed_all(engines, names)
    out: dict[str, Any] = {"pairs": len(pairs), "pairs_subsampled": len(pairs) < 1000, "images": len(names)}
    for name, engine in engines.items():
        out[name] = {"mirror": engine.mirror, "jitter": engine.jitter, "fallback": engine.fallback,
                     "images_without_face": len(names) - len(embeddings[name]), **_scores(pairs, embeddings[name]),
                     "embeddings_per_s_per_core": round(len(embeddings[name]) / seconds[name], 2)
                     if seconds[name] else None}
    if "dlib" in engines and "onnx_before" in engines:  # the same faces, the same pipeline, two runtimes
        first, second = embeddings["onnx_before"], embeddings["dlib"]
        gaps = np.array([np.linalg.norm(second[k] - first[k]) for k in first if k in second])
        out["dlib_vs_onnx_before_distance_max"] = float(f"{gaps.max():.3g}") if len(gaps) else None
    return out


def batch_speed(engine: Any, faces: int, repeats: int) -> dict[str, Any]:
    """Embeddings per second per core when one frame's faces go to onnxruntime in one call, and one by one."""
    rgb = _rgb(sorted((DATA / "images").glob("*/*.jpg"))[0])
    box = engine.detect(rgb)[0]
    image = np.concatenate([rgb] * faces, axis=1)  # the same face `faces` times in one frame
    boxes = [(box[0] + i * rgb.shape[1], box[1], box[2], box[3]) for i in range(faces)]
    engine.embed_many(image, boxes)
    out: dict[str, Any] = {"faces_per_frame": faces}
    for name, run in (("batched", lambda: engine.embed_many(image, boxes)),
                      ("one_by_one", lambda: [engine.embed(image, b) for b in boxes])):
        start = time.thread_time()
        for _ in range(repeats):
            run()
        out[f"{name}_embeddings_per_s_per_core"] = round(faces * repeats / (time.thread_time() - start), 1)
    return out


def _scene(sizes: tuple[int, ...], width: int, height: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A grey frame with LFW photos pasted so that their faces are about `sizes` pixels wide; the face boxes."""
    canvas = np.full((height, width, 3), 110, dtype=np.uint8)
    people = sorted(p for p in (DATA / "images").iterdir())[:len(sizes)]
    boxes, x = [], 40
    for person, size in zip(people, sizes, strict=True):
        image = np.ascontiguousarray(_rgb(sorted(person.iterdir())[0])[:, :, ::-1])
        scale = size / 110  # LFW's deep-funneled crops hold a face about 110 px wide in 250
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        y = height // 3
        canvas[y:y + image.shape[0], x:x + image.shape[1]] = image
        centre = (x + image.shape[1] // 2, y + image.shape[0] // 2)
        boxes.append((centre[0] - size // 2, centre[1] - size // 2, size, size))
        x += image.shape[1] + 40
    return canvas, boxes


def _recall(found: list[tuple[int, int, int, int]], truth: list[tuple[int, int, int, int]]) -> int:
    hits = 0
    for tx, ty, tw, th in truth:
        cx, cy = tx + tw / 2, ty + th / 2
        hits += any(x <= cx <= x + w and y <= cy <= y + h for x, y, w, h in found)
    return hits


def detection_speed(engine: Any, frames: int) -> dict[str, Any]:
    """Faces/s and frames/s per core at 720p, dlib HOG (identification), Haar (export blurring) and BlazeFace (live
    blurring: tiled as live view runs it, and the whole frame in one input for comparison)."""
    from integrations.face.blazeface import BlazeFace
    from integrations.face.blur import FaceBlurrer

    bgr, truth = _scene((40, 60, 90, 120), 1280, 720)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    blurrer = FaceBlurrer(plates=False)  # as exports run it (960 px wide)
    tiled, whole = BlazeFace(), BlazeFace(zoom=0)
    out: dict[str, Any] = {"frame": "1280x720", "face_sizes_px": [40, 60, 90, 120],
                           "blazeface_tiles": len(tiled.tiles(1280, 720)[1])}
    for name, detect in (("dlib_hog_upsample1", lambda: engine.detect(rgb, 1)),
                         ("dlib_hog_upsample0", lambda: engine.detect(rgb, 0)),
                         ("haar_blur", lambda: blurrer.faces(bgr)),
                         ("blazeface_live", lambda: tiled.faces(bgr)),
                         ("blazeface_whole_frame", lambda: whole.faces(bgr))):
        found = detect()
        start, wall = time.thread_time(), time.perf_counter()
        for _ in range(frames):
            detect()
        seconds = (time.thread_time() - start) / frames
        out[name + "_wall_ms"] = round((time.perf_counter() - wall) / frames * 1000, 1)
        out[name] = {"ms_per_frame": round(seconds * 1000, 1), "frames_per_s_per_core": round(1 / seconds, 2),
                     "faces_per_s_per_core": round(len(truth) / seconds, 1),
                     "recall": f"{_recall(found, truth)}/{len(truth)}"}
    return out


def blur_recall(detector: str = "haar") -> dict[str, Any]:
    """Share of LFW photos (every 10th, 250x250, one named face each) in which a blurring detector finds a
    face; and the faces it finds in the 720p and 1080p scenes."""
    from integrations.face.blur import FaceBlurrer

    blurrer = FaceBlurrer(plates=False, detector=detector)
    paths = sorted((DATA / "images").glob("*/*.jpg"))[::10]
    found = 0
    for path in paths:
        found += bool(blurrer.faces(_rgb(path)[:, :, ::-1].copy()))
    out: dict[str, Any] = {"images": len(paths), "with_a_face_found": found, "recall": round(found / len(paths), 4)}
    for name, sizes, width, height in (("scene_720p", (40, 60, 90, 120), 1280, 720),
                                       ("scene_1080p", (60, 90, 120, 150), 1920, 1080)):
        bgr, truth = _scene(sizes, width, height)
        out[name] = f"{_recall(blurrer.faces(bgr), truth)}/{len(truth)}"
    return out


def blur_cost(seconds: float) -> dict[str, Any]:
    """CPU seconds to blur a minute of 1080p as a press export does (estimated from a short clip): a recorded
    segment (H.264, fragmented MP4, as the camera integration records) through integrations/face/clip.py, i.e.
    ffmpeg decoding, blur_frames (detection on every other frame, faces and plates), ffmpeg encoding."""
    import resource

    from integrations.face.blur import FaceBlurrer
    from integrations.face.clip import blur_video_bytes

    bgr, _truth = _scene((60, 90, 120, 150), 1920, 1080)
    frames = int(25 * seconds)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.mp4"
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
                        "-s", "1920x1080", "-r", "25", "-i", "-", "-c:v", "libx264", "-preset", "veryfast",
                        "-pix_fmt", "yuv420p", "-g", "25", "-movflags", "frag_keyframe+empty_moov+default_base_moof",
                        "-f", "mp4", str(source)],  # the faces move a little
                       input=b"".join(np.roll(bgr, i * 4, axis=1).tobytes() for i in range(frames)),
                       check=True, timeout=600)
        data = source.read_bytes()
    blurrer = FaceBlurrer()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, wall = time.thread_time(), time.perf_counter()
    _blurred, result = blur_video_bytes(data, blurrer)
    elapsed = time.thread_time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ffmpeg_s = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return {"clip_s": seconds, "frames": result.frames, "fps": 25, "blur_cpu_s": round(elapsed, 2),
            "ffmpeg_cpu_s": round(ffmpeg_s, 2), "wall_s": round(time.perf_counter() - wall, 2),
            "estimated_blur_s_per_minute_1080p": round(elapsed * 60 / seconds, 1),
            "estimated_ffmpeg_s_per_minute_1080p": round(ffmpeg_s * 60 / seconds, 1),
            "estimated_s_per_minute_1080p": round((elapsed + ffmpeg_s) * 60 / seconds, 1), "estimate": True,
            "faces_blurred": result.faces, "plates_blurred": result.plates}


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def measure_models(result: dict[str, Any], pairs: int, frames: int, jitter: int, no_dlib: bool) -> None:
    """The identification part: verification and embedding speed (`pairs` > 0), detection speed (`frames` > 0)."""
    from integrations.face.engine import FaceEngine

    with tempfile.TemporaryDirectory() as cache:  # the conversion is timed here too, not taken from a cache
        first_use = time.perf_counter()
        engine = FaceEngine(upsample=1, embedder="onnx", cache_dir=Path(cache))
        engine.embed(_rgb(sorted((DATA / "images").glob("*/*.jpg"))[0]), (60, 60, 130, 130))
        convert_s = time.perf_counter() - first_use
        if engine.embedder != "onnx":
            raise SystemExit("the onnxruntime embedder fell back to dlib's: see the warning above")
        result["model"] = ("dlib 20.0.1 HOG + 5-point + ResNet (CC0); the ResNet in onnxruntime "
                           f"{_version('onnxruntime')} (converted from the same .dat) and in dlib (the baseline)")
        result["first_use_with_conversion_s"] = round(convert_s, 2)
        if pairs > 0:
            # the engine's defaults (mirror average, detection fallbacks), the pipeline before them (one view, no
            # fallback), dlib's jitter, and dlib's own runtime on the pipeline before (the baseline)
            engines: dict[str, Any] = {"onnx": engine, "onnx_before": FaceEngine(
                upsample=1, embedder="onnx", cache_dir=Path(cache), mirror=False, fallback=False)}
            if jitter > 1:
                engines[f"onnx_jitter{jitter}"] = FaceEngine(upsample=1, jitter=jitter, embedder="onnx",
                                                             cache_dir=Path(cache))
            if not no_dlib:
                engines["dlib"] = FaceEngine(upsample=1, embedder="dlib", mirror=False, fallback=False)
            result["verification"] = verification(engines, pairs)
            print(f"verification: {result['verification']}", file=sys.stderr)
            result["batch_onnx"] = batch_speed(engine, 4, max(5, frames * 4))
            print(f"batch: {result['batch_onnx']}", file=sys.stderr)
        if frames > 0:
            result["detection_720p"] = detection_speed(engine, frames)
            print(f"detection: {result['detection_720p']}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=400, help="pairs to use (1000 = all; default 400; 0: none)")
    parser.add_argument("--frames", type=int, default=5, help="720p frames timed per detector (0: no detection part)")
    parser.add_argument("--clip", type=float, default=2.0, help="seconds of 1080p clip to blur (0: no blur part)")
    parser.add_argument("--jitter", type=int, default=10,
                        help="also measure dlib's jitter with this many samples (0: not measured)")
    parser.add_argument("--no-dlib", action="store_true", help="leave out dlib's runtime (the slow baseline)")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"no measurement set at {DATA}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    result: dict[str, Any] = {"bench": "face", "threads": 1}
    if args.pairs > 0 or args.frames > 0:
        measure_models(result, args.pairs, args.frames, args.jitter, args.no_dlib)
    if args.clip > 0:
        result["blur_recall_lfw"] = blur_recall()
        result["blur_recall_lfw_blazeface"] = blur_recall("blazeface")
        result["blur_1080p"] = blur_cost(args.clip)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["load_average"] = [round(v, 1) for v in os.getloadavg()]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
