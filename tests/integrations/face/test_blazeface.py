"""BlazeFace (integrations/face/blazeface.py): the anchors match the shipped models, the decoding and the
weighted NMS do what MediaPipe's calculators do, it finds the simulator's known face at live-view sizes, and a
live stream blurred with it hides the face."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from integrations.face import CONFIG_SCHEMA
from integrations.face.blazeface import MODEL_DIR, MODELS, BlazeFace, anchors, decode, weighted_nms
from integrations.face.blur import BlurResult, FaceBlurrer
from integrations.face.live import LiveBlur, blurred_frames
from integrations.face.live import main as live_main
from integrations.simulator.camera_clips import ClipSpec
from integrations.simulator.scene_clips import face_image_path, render_scene


def _scene(width: int, height: int, frames: int = 4, start: int = 45) -> list[np.ndarray]:
    """Consecutive frames of the simulator's `face` scene (one person, a known face, walking across a square) as a
    10 fps camera sees them; from frame 45 of 200 the person walks at the fastest."""
    spec = ClipSpec(name="t", scene="face", width=width, height=height, fps=10, seconds=20)
    return list(itertools.islice(render_scene(spec), start, start + frames))


def _face_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    """The known face in a scene frame, as dlib's HOG (the identification detector, independent of BlazeFace)
    finds it."""
    from integrations.face.engine import FaceEngine

    boxes = FaceEngine(upsample=1, embedder="dlib").detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 1)
    assert len(boxes) == 1
    return tuple(int(v) for v in boxes[0])  # type: ignore[return-value]


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inner = max(0, x1 - x0) * max(0, y1 - y0)
    return inner / (a[2] * a[3] + b[2] * b[3] - inner)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_anchors_match_the_models_outputs(model: str) -> None:
    import onnx

    spec = MODELS[model]
    graph = onnx.load(str(MODEL_DIR / spec.file)).graph
    counts = sorted(o.type.tensor_type.shape.dim[1].dim_value for o in graph.output
                    if o.type.tensor_type.shape.dim[2].dim_value == 1)
    grid = anchors(spec.size, spec.strides)
    assert len(grid) == sum(counts) == 896
    # the first grid: 16x16 cells of two anchors; the second 8x8 cells of six, all centred in their cells
    assert counts == [384, 512]
    assert np.allclose(grid[0], [0.5 / 16, 0.5 / 16]) and np.allclose(grid[1], grid[0])
    assert np.allclose(grid[512], [0.5 / 8, 0.5 / 8]) and np.allclose(grid[512:518], grid[512])
    assert np.allclose(grid[-1], [7.5 / 8, 7.5 / 8])
    assert len(BlazeFace(model).grid) == 896  # the detector checks its outputs against them too


def test_models_are_the_ones_the_notice_names() -> None:
    notice = (MODEL_DIR / "NOTICE").read_text()
    for spec in MODELS.values():
        digest = hashlib.sha256((MODEL_DIR / spec.file).read_bytes()).hexdigest()
        assert spec.file in notice and digest in notice


def test_decode_and_weighted_nms() -> None:
    size = 256
    grid = anchors(size, MODELS["back"].strides)
    scores = np.full(len(grid), -8.0, dtype=np.float32)
    raw = np.zeros((len(grid), 16), dtype=np.float32)
    index = 16 * 5 * 2 + 7 * 2  # the first grid's cell (7, 5)
    scores[index], scores[index + 1] = 3.0, 1.0  # two anchors of one cell see the same face
    raw[index, :4] = [8, -4, 32, 40]  # centre offset and size in input pixels
    raw[index + 1, :4] = [12, -4, 32, 40]
    raw[index, 4:6] = [-6, -8]  # right eye, from the anchor
    found, boxes, points = decode(scores, raw, grid, size)
    assert len(found) == 2 and found[0] == pytest.approx(1 / (1 + np.exp(-3.0)))
    centre, half = np.array([7.5 / 16 + 8 / size, 5.5 / 16 - 4 / size]), np.array([16 / size, 20 / size])
    assert boxes[0] == pytest.approx(np.concatenate([centre - half, centre + half]))
    assert points[0, 0] == pytest.approx([7.5 / 16 - 6 / size, 5.5 / 16 - 8 / size])
    [(score, box, _points)] = weighted_nms(found, boxes, points)
    weights = found / found.sum()
    assert score == pytest.approx(found[0])  # the best score, the score-weighted box
    assert box[0] == pytest.approx(boxes[0, 0] * weights[0] + boxes[1, 0] * weights[1])
    far = boxes + np.array([0.5, 0, 0.5, 0])
    assert len(weighted_nms(found, np.concatenate([boxes[:1], far[1:]]), points)) == 2  # no overlap: both kept


def test_tiles_cover_the_frame_with_overlap() -> None:
    detector = BlazeFace()
    scale, tiles = detector.tiles(1280, 720)
    width, height = round(1280 * scale), round(720 * scale)
    assert 40 * scale >= 19  # a 40 px face is about 20 px at the model's input
    covered = np.zeros((height, width), bool)
    for x, y, side in tiles:
        covered[y:y + side, x:x + side] = True
    assert covered.all()
    for (ax, ay, _a), (bx, by, _b) in itertools.pairwise(sorted(tiles)):
        assert ax != bx or by - ay <= 256 * 0.75
    assert BlazeFace(zoom=0).tiles(1280, 720) == (0.2, [(0, 0, 256)])


def test_finds_the_known_portrait() -> None:
    image = cv2.imread(str(face_image_path()))
    assert image is not None
    [face] = BlazeFace().detect(image)
    assert face.score > 0.8 and len(face.keypoints) == 6
    x, y, w, h = face.box
    right_eye, left_eye = face.keypoints[:2]
    assert x < right_eye[0] < left_eye[0] < x + w and y < right_eye[1] < y + h / 2  # eyes in the box's top half


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (640, 360)])
def test_finds_the_face_in_the_simulator_scene(width: int, height: int) -> None:
    detector = BlazeFace()
    for frame in _scene(width, height, start=0) + _scene(width, height, start=150)[::2]:
        faces = detector.detect(frame)
        assert len(faces) == 1, [f.box for f in faces]
        assert _overlap(faces[0].box, _face_box(frame)) > 0.4


def test_schema_selects_the_live_detector() -> None:
    assert CONFIG_SCHEMA({})["live_detector"] == "blazeface"
    assert CONFIG_SCHEMA({"live_detector": "haar"})["live_detector"] == "haar"
    with pytest.raises(Exception, match="live_detector"):
        CONFIG_SCHEMA({"live_detector": "yunet"})
    command = LiveBlur(None, "haar").live_command("rtsp://cam/sub", ["-f", "mp4", "pipe:1"])
    assert command[3:] == ["rtsp://cam/sub", "--detector", "haar", "--", "-f", "mp4", "pipe:1"]
    assert live_main(["rtsp://cam/sub", "--detector", "yunet", "--", "pipe:1"]) == 2  # refused before any ffmpeg


def test_live_blur_with_blazeface_hides_the_face(tmp_path: Path) -> None:
    """The live process's frame loop (YUV4MPEG in, BGR out) with BlazeFace: the face is blurred in every frame,
    BlazeFace no longer finds it, and the rest of the picture is untouched."""
    frames = _scene(1280, 720, frames=6)
    boxes = [_face_box(frame) for frame in frames]
    stream = tmp_path / "in.y4m"
    with stream.open("wb") as out:
        out.write(b"YUV4MPEG2 W1280 H720 F6:1 Ip A1:1 C420jpeg\n")
        for frame in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    blurrer, total = FaceBlurrer(plates=False, detector="blazeface"), BlurResult()
    with stream.open("rb") as pipe:
        pipe.readline()
        blurred = [frame.copy() for frame in blurred_frames(pipe, 1280, 720, blurrer, total)]
    assert total.frames == 6 and total.faces >= 3  # detection on every other frame
    detector = BlazeFace()
    for before, after, (x, y, w, h) in zip(frames, blurred, boxes, strict=True):
        face = (slice(y, y + h), slice(x, x + w))
        sharp = cv2.Laplacian(cv2.cvtColor(before[face], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
        left = cv2.Laplacian(cv2.cvtColor(after[face], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
        assert left < sharp / 10
        assert detector.detect(after) == []
        corner = (slice(0, 100), slice(0, 100))  # far from the person (YUV round trip: a few levels)
        assert np.abs(after[corner].astype(int) - before[corner].astype(int)).max() <= 8
