"""Plate reading on CPU: candidate regions (Haar cascade, morphology, PP-OCR text detector) and PP-OCR
recognition restricted to plate characters, with per-character confidence. Runs in worker processes."""

from __future__ import annotations

import importlib.util
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .formats import TO_CONSONANT, TO_DIGIT, FormatMatch, correct, normalize
from .refine_box import Box, morph_boxes, refine_box

__all__ = [
    "Box",
    "PlateDetector",
    "PlateObservation",
    "PlateReader",
    "ReaderError",
    "Recognition",
    "Recognizer",
    "detection_scales",
    "find_model",
    "join_rows",
]

_LOGGER = logging.getLogger(__name__)

PLATE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MODEL_DIR = Path(__file__).parent / "models"
REC_MODEL = "plate_rec.onnx"  # PP-OCRv6 small recogniser cut down to plate characters (tools/anpr/export_rec.py)
DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"
RAPIDOCR_REC = "ch_PP-OCRv4_rec_infer.onnx"
REC_HEIGHT = 48
REC_WIDTH = 320


class ReaderError(Exception):
    """The reader cannot start (a model is missing or broken)."""


def find_model(name: str, override: str | Path | None = None, *, folder: Path = MODEL_DIR,
               wheel: tuple[str, str] = ("rapidocr_onnxruntime", "models"), hint: str = "") -> Path:
    """Where a model file is: an explicit path, the package's models/ (`folder`), or an installed wheel's
    folder (package, sub-folder: the package is found, never imported); `hint` ends the error."""
    if override:
        path = Path(override)
        if not path.is_file():
            raise ReaderError(f"ANPR model {path} does not exist{hint}")
        return path
    candidates = [folder / name]
    spec = importlib.util.find_spec(wheel[0])
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(Path(location) / wheel[1] / name)
    for path in candidates:
        if path.is_file():
            return path
    raise ReaderError(f"ANPR model {name} not found in {', '.join(str(c.parent) for c in candidates)}{hint}")


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # A worker reads small crops one at a time: onnxruntime's arena and memory-pattern planner keep tens of
    # MiB per session that such a worker never reuses; without them a read allocates what it needs and frees
    # it (the same numbers: only where the buffers live changes).
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own untyped errors
        raise ReaderError(f"Cannot load ANPR model {path}: {err}") from err


@dataclass(frozen=True, slots=True)
class Recognition:
    """Text read from one crop, with a confidence per character and each character's x (0..1)."""

    text: str
    confidences: tuple[float, ...]
    positions: tuple[float, ...] = ()

    @property
    def confidence(self) -> float:
        """The weakest character's confidence (0 for an empty read)."""
        return min(self.confidences) if self.confidences else 0.0

    @property
    def mean_confidence(self) -> float:
        return float(np.mean(self.confidences)) if self.confidences else 0.0


class Recognizer:
    """PP-OCR text recogniser (CTC over blank + characters + space; 3x48xW BGR input scaled to [-1, 1]),
    decoding only plate characters (digits and A-Z)."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        self._session = _session(model_path, threads)
        self._input = self._session.get_inputs()[0].name
        meta = self._session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise ReaderError(f"{model_path} has no character list in its metadata")
        chars = ["<blank>", *meta["character"].splitlines(), " "]
        keep = [i for i, c in enumerate(chars) if len(c) == 1 and c in PLATE_CHARS]
        self._columns = np.array([0, *keep], dtype=np.int64)
        self._chars = [""] + [chars[i] for i in keep]
        # A model already cut to the plate alphabet needs no column selection.
        self._full = len(keep) + 1 == len(chars) - 1 and len(chars) - 1 <= 40

    def _prepare(self, crop: np.ndarray) -> np.ndarray:
        h, w = crop.shape[:2]
        new_w = max(8, min(REC_WIDTH, int(np.ceil(REC_HEIGHT * w / max(h, 1)))))
        resized = cv2.resize(crop, (new_w, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
        if resized.ndim == 2:
            resized = cv2.cvtColor(resized, cv2.COLOR_GRAY2BGR)
        out = np.zeros((3, REC_HEIGHT, REC_WIDTH), np.float32)
        out[:, :, :new_w] = (resized.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)
        return out

    def recognize_batch(self, crops: Sequence[np.ndarray]) -> list[Recognition]:
        """Read every crop (one model call)."""
        if not crops:
            return []
        batch = np.stack([self._prepare(c) for c in crops])
        probs = self._session.run(None, {self._input: batch})[0]
        widths = [min(REC_WIDTH, int(np.ceil(REC_HEIGHT * c.shape[1] / max(c.shape[0], 1)))) for c in crops]
        return [self._decode(p, w / REC_WIDTH) for p, w in zip(probs, widths, strict=True)]

    def _decode(self, probs: np.ndarray, used: float) -> Recognition:
        if not self._full:
            probs = probs[:, self._columns]
        steps = probs.shape[0]
        index = probs.argmax(axis=1)
        best = probs.max(axis=1)
        text, confs, positions = [], [], []
        previous = 0
        for t in range(steps):
            i = int(index[t])
            if i != 0 and i != previous:
                text.append(self._chars[i])
                confs.append(float(best[t]))
                positions.append(min(1.0, (t + 0.5) / steps / max(used, 1e-3)))
            elif i != 0 and i == previous and confs:
                confs[-1] = max(confs[-1], float(best[t]))
            previous = i
        return Recognition("".join(text), tuple(confs), tuple(positions))


def _stretch(gray: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(gray, (2, 98))
    if hi - lo < 10:
        return gray
    return np.clip((gray.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)


BAND_START = 0.1  # the EU band may start this far into a crop: the crop's margin holds what is around the plate


def band_width(crop: np.ndarray, search: float = 0.2) -> int:
    """Pixel columns up to the end of the blue EU band at the left of a plate crop, 0 when none is seen.
    PP-OCRv6 reads the band's white country letter (the `E` of Spain) as a character when it is legible."""
    if crop.ndim != 3:
        return 0
    w = crop.shape[1]
    hsv = cv2.cvtColor(crop[:, : max(1, int(w * search))], cv2.COLOR_BGR2HSV)
    blue = (hsv[..., 0] >= 95) & (hsv[..., 0] <= 135) & (hsv[..., 1] >= 90) & (hsv[..., 2] >= 40)
    columns = blue.mean(axis=0) >= 0.4
    if not columns.any():
        return 0
    blue_columns = np.flatnonzero(columns)
    first, last = int(blue_columns[0]), int(blue_columns[-1]) + 1
    # blue to the edge of the search is a blue plate (or car), not a band; a band fills its columns, from
    # the crop's edge or from where the plate starts inside the crop's margin
    if last >= columns.size or first > w * BAND_START or columns[first:last].mean() < 0.6 or last - first < w * 0.03:
        return 0
    return last


def crop_variants(crop: np.ndarray, count: int) -> list[np.ndarray]:
    """Versions of a plate crop to read: the blue EU band cut off (it reads as a stray character), a
    contrast-stretched grey one, the crop as is; the first `count` of them."""
    _h, w = crop.shape[:2]
    band = band_width(crop)
    gray = _stretch(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)) if crop.ndim == 3 else _stretch(crop)
    variants = [
        crop[:, max(band, int(w * 0.03)) :],
        crop[:, max(band, int(w * 0.08)) :],
        cv2.cvtColor(gray[:, max(band, int(w * 0.11)) :], cv2.COLOR_GRAY2BGR),
        cv2.cvtColor(gray[:, max(band, int(w * 0.05)) :], cv2.COLOR_GRAY2BGR),
    ]
    return variants[: max(1, count)]


def split_rows(crop: np.ndarray) -> list[np.ndarray] | None:
    """Two rows for a square-ish (motorcycle) plate: the top and bottom halves; None for one-row plates."""
    h, w = crop.shape[:2]
    if w / max(h, 1) >= 1.7:
        return None
    cut = h // 2
    overlap = h // 12
    return [crop[: cut + overlap], crop[cut - overlap :]]


# The formats' tables without the vowel plates' letters (A read for 4, A and E for R and F): a current
# Spanish plate has no vowels, and an A among its digits means the read is not one.
_DIGIT_FOR = {k: v for k, v in TO_DIGIT.items() if k != "A"}
_CONSONANT_FOR = {k: v for k, v in TO_CONSONANT.items() if k not in "AE"}
LETTER_BLOCK_FROM = 0.58  # where the letters of a current Spanish plate start (band trimmed)
SURE = 0.97  # a character read at least this sure is never changed
# Czech/Slovak layouts around the round stamp (its region letter B is often read as 8)
_STAMPED = re.compile(r"\d[A-Z8][A-Z0-9]\d{4}|[A-Z]{3}\d{4}")
BAND_EDGE = 0.16  # a weak first character left of this is the EU band


def _drop_band(text: list[str], confs: list[float], pos: list[float], min_chars: int = 5) -> None:
    """Drop a faint first character at the very left edge: the EU band, not a character."""
    if len(text) >= min_chars and (
        (pos[0] < 0.045 and confs[0] < 0.9) or (pos[0] < BAND_EDGE and confs[0] < 0.8 and len(text) >= 6)
    ):
        del text[0], confs[0], pos[0]


def join_rows(top: Recognition, bottom: Recognition) -> Recognition:
    """One read out of the two rows of a two-row plate (motorcycles, mopeds, trailers), top row first,
    refined like a one-row plate: the top row's faint band character is dropped (the band spans both
    rows at the left), and the rows are placed where a one-row plate's blocks sit (top row: the digit
    block, bottom row: the letter block), so the layout correction by position applies to them too."""
    text, confs, pos = list(top.text), list(top.confidences), list(top.positions)
    if len(pos) == len(text):
        _drop_band(text, confs, pos, min_chars=2)
    else:
        pos = [0.5] * len(text)
    span = LETTER_BLOCK_FROM - BAND_EDGE - 0.01
    positions = [BAND_EDGE + p * span for p in pos]
    bottom_pos = bottom.positions if len(bottom.positions) == len(bottom.text) else (0.5,) * len(bottom.text)
    positions += [LETTER_BLOCK_FROM + p * (1.0 - LETTER_BLOCK_FROM) for p in bottom_pos]
    joined = Recognition("".join(text) + bottom.text, (*confs, *bottom.confidences), tuple(positions))
    return refine(joined)


def refine(rec: Recognition) -> Recognition:
    """Clean a read with what the plate's layout says: a faint character at the very left edge is the
    EU band, not a character; on a current Spanish plate (digits then consonants) a letter among the
    digits or a digit among the consonants is corrected, by where it sits on the plate, not by its
    index, so a partial read (a character hidden) is corrected too."""
    text, confs, pos = list(rec.text), list(rec.confidences), list(rec.positions)
    if len(pos) != len(text):
        return rec
    _drop_band(text, confs, pos)
    if len(text) == 8 and text[3] == "8" and confs[3] < 0.98 and _STAMPED.fullmatch("".join(text[:3] + text[4:])):
        del text[3], confs[3], pos[3]  # the round stamp between the blocks of Czech/Slovak plates
    digits = [i for i, p in enumerate(pos) if p < LETTER_BLOCK_FROM]
    letters = [i for i, p in enumerate(pos) if p >= LETTER_BLOCK_FROM]
    if not 2 <= len(digits) <= 4 or not 1 <= len(letters) <= 3:
        return Recognition("".join(text), tuple(confs), tuple(pos))
    digit_like = sum(text[i].isdigit() or text[i] in _DIGIT_FOR for i in digits)
    letter_like = sum(text[i].isalpha() or text[i] in _CONSONANT_FOR for i in letters)
    if (
        digit_like < len(digits)
        or letter_like < len(letters)
        or sum(text[i].isdigit() for i in digits) < len(digits) - 1
    ):
        return Recognition("".join(text), tuple(confs), tuple(pos))
    for i in digits:
        if not text[i].isdigit() and confs[i] < SURE:
            text[i] = _DIGIT_FOR[text[i]]
    for i in letters:
        if text[i] in _CONSONANT_FOR and confs[i] < SURE:
            text[i] = _CONSONANT_FOR[text[i]]
    return Recognition("".join(text), tuple(confs), tuple(pos))


def vote(recognitions: Sequence[Recognition]) -> Recognition:
    """One reading out of several of the same plate: the most frequent text, then the most confident."""
    reads = [r for r in recognitions if r.text]
    if not reads:
        return Recognition("", ())
    counts = Counter(r.text for r in reads)
    return max(reads, key=lambda r: (counts[r.text], r.mean_confidence))


@dataclass(slots=True)
class PlateObservation:
    """A plate seen in one frame: where, what it says (corrected), how sure, and its crop."""

    box: Box
    text: str
    raw: str
    confidence: float
    char_confidences: tuple[float, ...]
    format: str
    country: str
    source: str
    crop: np.ndarray | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "text": self.text,
            "raw": self.raw,
            "confidence": self.confidence,
            "char_confidences": list(self.char_confidences),
            "format": self.format,
            "country": self.country,
            "source": self.source,
        }


def _iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    x1, y1 = max(ax, bx), max(ay, by)
    x2, y2 = min(ax + aw, bx + bw), min(ay + ah, by + bh)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


def _nms(boxes: list[tuple[Box, float, str]], threshold: float = 0.3) -> list[tuple[Box, float, str]]:
    kept: list[tuple[Box, float, str]] = []
    for item in sorted(boxes, key=lambda b: -b[1]):
        if all(_iou(item[0], k[0]) < threshold for k in kept):
            kept.append(item)
    return kept


ENLARGED_KEEP = 144  # px in an enlarged pass: wider boxes there were for the smaller scales to find
INTERMEDIATE_SCALE = 1.5  # between the view's own size and the full enlargement (plates 40-90 px wide)
UPSCALE_BELOW = 640  # a view narrower than this (low-resolution camera, small ROI) is enlarged to detect


def detection_scales(width: int, max_width: int, upscale: bool = True) -> tuple[float, ...]:
    """The factors a view is resized by before detection, merged afterwards: wide frames are shrunk to
    `max_width`; a narrow view (under UPSCALE_BELOW px: a low-resolution camera, a small ROI) is read as
    it is, enlarged by half and enlarged by a whole factor towards `max_width`, so that plates 10-40 px
    wide become large enough for the morphology kernel and the cascade's smallest window, plates 40-90 px
    wide get a second look at a size between, and large ones are still found at their own size."""
    native = min(1.0, max_width / max(width, 1))
    if upscale and width < UPSCALE_BELOW:
        factor = float(max(2, min(4, max_width // max(width, 1))))
        return (native, INTERMEDIATE_SCALE, factor)
    return (native,)


class PlateDetector:
    """Plate candidates in a frame from a Haar cascade, a morphology pass and (optionally) PP-OCR's
    text detector or a YOLOv8 plate model (yolo.py), merged; ordered most likely first."""

    def __init__(
        self,
        methods: Sequence[str] = ("haar", "morph"),
        det_model: Path | None = None,
        threads: int = 1,
        max_width: int = 960,
        upscale: bool = True,
        yolo_model: Path | None = None,
    ) -> None:
        self.methods = tuple(methods)
        self.max_width = max_width
        self.upscale = upscale
        self._cascade: Any = None
        if "haar" in self.methods:
            path = Path(cv2.data.haarcascades) / "haarcascade_russian_plate_number.xml"  # type: ignore[attr-defined]
            self._cascade = cv2.CascadeClassifier(str(path))
            if self._cascade.empty():
                raise ReaderError(f"Cannot load the plate cascade {path} (opencv 5 no longer ships it)")
        self._det: Any = None
        if "text" in self.methods:
            self._det = _session(det_model or find_model(DET_MODEL), threads)
        self._yolo: Any = None
        if "yolo" in self.methods:
            from .yolo import YoloDetector  # imports this module

            self._yolo = YoloDetector(yolo_model, threads)

    def detect(self, frame: np.ndarray, limit: int = 6) -> list[tuple[Box, float, str]]:
        """Candidate boxes (x, y, w, h) in frame pixels with a score and the method that found them: the
        best `limit` at the frame's own scale, then (small views) up to `limit` more from each enlarged pass,
        each keeping only boxes under ENLARGED_KEEP px there, so that many small boxes never crowd out a
        large plate."""
        h, w = frame.shape[:2]
        kept: list[tuple[Box, float, str]] = []
        for n, scale in enumerate(detection_scales(w, self.max_width, self.upscale)):
            if scale == 1.0:
                small = frame
            else:
                interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
                small = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=interpolation)
            gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
            found: list[tuple[Box, float, str]] = []
            if self._cascade is not None:
                found.extend(self._haar(gray))
            if "morph" in self.methods:
                found.extend(morph_boxes(gray))
            if self._det is not None and n == 0:  # the text detector is costly: the first scale only
                found.extend(self._text(small))
            if self._yolo is not None and n == 0:  # letterboxed to its own input size: one pass on the frame
                found.extend(((round(x * scale), round(y * scale), round(bw * scale), round(bh * scale)), s, how)
                             for (x, y, bw, bh), s, how in self._yolo(frame))
            boxes = [
                ((round(b[0] / scale), round(b[1] / scale), round(b[2] / scale), round(b[3] / scale)), score, how)
                for b, score, how in found
                # an enlarged pass is for the plates too small for the scales before it
                if n == 0 or b[2] < ENLARGED_KEEP
            ]
            fresh = [b for b in _nms(boxes) if all(_iou(b[0], k[0]) < 0.3 for k in kept)]
            kept.extend(fresh[:limit])
        return kept

    def _haar(self, gray: np.ndarray) -> list[tuple[Box, float, str]]:
        min_w = max(24, gray.shape[1] // 40)
        rects, _levels, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=1.1, minNeighbors=3, minSize=(min_w, min_w // 4), outputRejectLevels=True
        )
        # below morph boxes: the cascade finds plates morphology misses, but its boxes are looser
        return [
            ((int(x), int(y), int(w), int(h)), 0.3 + min(float(s), 10.0) / 50.0, "haar")
            for (x, y, w, h), s in zip(rects, np.ravel(weights) if len(rects) else [], strict=False)
        ]

    def _text(self, small: np.ndarray) -> list[tuple[Box, float, str]]:
        h, w = small.shape[:2]
        th, tw = max(32, (h + 31) // 32 * 32), max(32, (w + 31) // 32 * 32)
        image = small if small.ndim == 3 else cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        resized = cv2.resize(image, (tw, th)).astype(np.float32) / 255.0
        mean = np.array([0.485, 0.456, 0.406], np.float32)
        std = np.array([0.229, 0.224, 0.225], np.float32)
        tensor = ((resized - mean) / std).transpose(2, 0, 1)[None]
        prob = self._det.run(None, {self._det.get_inputs()[0].name: tensor})[0][0, 0]
        mask = (prob > 0.3).astype(np.uint8) * 255
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3)))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out = []
        sx, sy = w / tw, h / th
        for contour in contours:
            x, y, bw, bh = cv2.boundingRect(contour)
            ratio = bw / max(bh, 1)
            if ratio < 1.5 or ratio > 12 or bw * sx < w / 40:
                continue
            score = float(prob[y : y + bh, x : x + bw].mean())
            pad_y = int(bh * 0.3)
            pad_x = int(bh * 0.3)
            box = (int((x - pad_x) * sx), int((y - pad_y) * sy), int((bw + 2 * pad_x) * sx), int((bh + 2 * pad_y) * sy))
            out.append((box, 0.4 + score / 2, "text"))
        return out


class PlateReader:
    """Detection and recognition for one camera's frames (one instance per worker)."""

    def __init__(
        self,
        *,
        detectors: Sequence[str] = ("morph",),
        variants: int = 1,
        min_confidence: float = 0.5,
        rec_model: str | None = None,
        det_model: str | None = None,
        yolo_model: str | None = None,
        threads: int = 1,
        max_candidates: int = 6,
        upscale: bool = True,
    ) -> None:
        import onnxruntime  # noqa: F401  (fail early with a clear error when it is missing)

        cv2.setNumThreads(threads)
        self.recognizer = Recognizer(self._rec_path(rec_model), threads)
        self.detector = PlateDetector(detectors, Path(det_model) if det_model else None, threads, upscale=upscale,
                                      yolo_model=Path(yolo_model) if yolo_model else None)
        self.variants = variants
        self.min_confidence = min_confidence
        self.max_candidates = max_candidates

    @staticmethod
    def _rec_path(override: str | None) -> Path:
        if override:
            return find_model(REC_MODEL, override)
        try:
            return find_model(REC_MODEL)
        except ReaderError:
            return find_model(RAPIDOCR_REC)

    def read_crop(self, crop: np.ndarray, variants: int | None = None) -> Recognition:
        """Read one plate crop (rows split for two-row plates); variants are voted."""
        count = self.variants if variants is None else variants
        rows = split_rows(crop)
        if rows is None:
            return vote([refine(r) for r in self.recognizer.recognize_batch(crop_variants(crop, count))])
        parts = [vote(self.recognizer.recognize_batch(crop_variants(row, count))) for row in rows]
        one_row = vote([refine(r) for r in self.recognizer.recognize_batch(crop_variants(crop, count))])
        joined = join_rows(parts[0], parts[1])
        top, bottom = parts[0].text, parts[1].text
        # A two-row (motorcycle) plate has digits above and letters below; a one-row plate cut in two
        # reads the same characters twice, or digits and letters in both halves.
        two_row = (
            bool(top and bottom)
            and sum(c.isdigit() for c in top) >= len(top) - 1
            and sum(c.isalpha() for c in bottom) >= len(bottom) - 1
            and SequenceMatcher(None, top, bottom).ratio() < 0.5
        )
        fits = correct(joined.text)
        if two_row or (fits is not None and fits.format != "eu_generic") or len(one_row.text) < 4:
            return joined
        return one_row

    def read(self, frame: np.ndarray, roi: Box | None = None) -> list[PlateObservation]:
        """Every plate read in a frame (inside `roi` when given)."""
        offset_x = offset_y = 0
        view = frame
        if roi is not None:
            x, y, w, h = roi
            view = frame[y : y + h, x : x + w]
            offset_x, offset_y = x, y
        results: list[PlateObservation] = []
        for box, _score, how in self.detector.detect(view, self.max_candidates):
            read = self._read_box(view, box, how)
            if read is None:
                continue
            match, recognition, crop = read
            x, y, w, h = box
            results.append(
                PlateObservation(
                    (x + offset_x, y + offset_y, w, h),
                    match.text,
                    recognition.text,
                    recognition.confidence,
                    recognition.confidences,
                    match.format,
                    match.country,
                    how,
                    crop,
                )
            )
        return _dedupe(results)

    def _read_box(self, view: np.ndarray, box: Box, how: str) -> tuple[FormatMatch, Recognition, np.ndarray] | None:
        """The accepted read of one candidate, with the crop read. A yolo box holds the whole plate and some
        car: its character band (refine_box) is read first, as tight as the morph boxes the reader was tuned
        on, and the box itself only when the band's read is not accepted."""
        crops = []
        if how == "yolo" and (band := refine_box(view, box)) is not None:
            crops.append(_crop(view, band))
        crops.append(_crop(view, box))
        for crop in crops:
            if crop is None:
                continue
            recognition = self.read_crop(crop)
            match = self._accept(recognition)
            if match is not None:
                return match, recognition, crop
        return None

    def read_plate(self, crop: np.ndarray) -> tuple[FormatMatch | None, Recognition]:
        """Read one crop as the camera pipeline accepts reads: the plate (None when unsure or not
        plate-shaped) and the raw recognition."""
        recognition = self.read_crop(crop)
        return self._accept(recognition), recognition

    def _accept(self, recognition: Recognition) -> FormatMatch | None:
        if len(recognition.text) < 4 or recognition.mean_confidence < self.min_confidence:
            return None
        return correct(recognition.text, recognition.confidences)


def _crop(frame: np.ndarray, box: Box, margin: float = 0.08) -> np.ndarray | None:
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin * 2)
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(frame.shape[1], x + w + mx), min(frame.shape[0], y + h + my)
    if x1 - x0 < 12 or y1 - y0 < 6:
        return None
    return frame[y0:y1, x0:x1]


def _dedupe(observations: list[PlateObservation]) -> list[PlateObservation]:
    """One observation per plate text (two detectors may find the same plate)."""
    best: dict[str, PlateObservation] = {}
    for obs in observations:
        key = normalize(obs.text)
        if key not in best or obs.confidence > best[key].confidence:
            best[key] = obs
    return list(best.values())
