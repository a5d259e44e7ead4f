"""Exports to the public or the press blur faces by default; stills and clips blur through `face.blur`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from hub.evidence import async_setup_evidence
from integrations.face.blur import FaceBlurrer

from .conftest import SOUGHT, STRANGER, SUP1, FaceSite, frame_with, read_bgr


def _images(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist() if name.endswith(".jpg")}


def _faces(data: bytes) -> int:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return len(FaceBlurrer(plates=False).faces(image))


async def _export(site: FaceSite, **data: Any) -> dict[str, Any]:
    start = site.clock.time() - 10
    answer = await site.hub.services.async_call("evidence", "export", {
        "start": start, "end": start + 20, "reason": "Press request after the incident",
        "case_reference": "DP 77/2026", **data}, context=SUP1, return_response=True)
    assert isinstance(answer, dict)
    return answer


async def test_exports_blur_faces_for_the_public_not_for_the_case(site: FaceSite) -> None:
    from hub.recorder import get_recorder

    await async_setup_evidence(site.hub)
    frame = frame_with(site.config_dir, "snapshot.jpg", SOUGHT[0], STRANGER)
    original = (site.config_dir / frame).read_bytes()
    assert _faces(original) >= 2
    site.hub.bus.async_fire("camera_snapshot", {"camera": "cam_port", "snapshot": frame})
    await site.hub.async_block_till_done()
    await get_recorder(site.hub).async_flush()

    for_case = await _export(site)
    [kept] = _images(Path(for_case["path"])).values()
    assert kept == original  # the court gets the evidence as recorded

    for_press = await _export(site, audience="press")
    [blurred] = _images(Path(for_press["path"])).values()
    assert _faces(blurred) == 0
    before = cv2.imdecode(np.frombuffer(original, np.uint8), cv2.IMREAD_GRAYSCALE)
    after = cv2.imdecode(np.frombuffer(blurred, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert before is not None and after is not None
    face = (slice(260, 390), slice(160, 290))  # the middle of the first pasted photo
    assert cv2.Laplacian(after[face], cv2.CV_64F).var() < cv2.Laplacian(before[face], cv2.CV_64F).var() / 10
    with zipfile.ZipFile(for_press["path"]) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["audience"] == "press" and manifest["blurred"]["faces"] >= 2

    opted_out = await _export(site, audience="public", blur_faces=False)
    assert list(_images(Path(opted_out["path"])).values()) == [original]


async def test_blur_service_blurs_a_clip(site: FaceSite) -> None:
    frame = read_bgr(site.config_dir / frame_with(site.config_dir, "still.jpg", SOUGHT[1], STRANGER))
    writer = cv2.VideoWriter(str(site.config_dir / "clip.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 10,
                             (frame.shape[1], frame.shape[0]))
    for _ in range(6):
        writer.write(frame)
    writer.release()
    answer = await site.call("blur", {"source": "clip.avi", "target": "clip_blurred.avi"}, SUP1)
    assert answer["frames"] == 6 and answer["faces"] >= 6  # detected on every other frame, 2 faces each
    capture = cv2.VideoCapture(str(site.config_dir / "clip_blurred.avi"))
    seen = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        seen += 1
        assert FaceBlurrer(plates=False).faces(image) == []
    capture.release()
    assert seen == 6


async def test_cli_export_for_the_press_blurs(site: FaceSite) -> None:
    from hacho.__main__ import main
    from hub.recorder import get_recorder

    frame = frame_with(site.config_dir, "cli.jpg", SOUGHT[0])
    site.hub.bus.async_fire("camera_snapshot", {"camera": "cam_port", "snapshot": frame})
    await site.hub.async_block_till_done()
    await get_recorder(site.hub).async_flush()
    now = site.clock.time()
    argv = ["evidence", "export", "--start", str(now - 10), "--end", str(now + 10), "--reason", "press",
            "--case", "DP 1/2026", "-c", str(site.config_dir), "--audience", "press"]
    assert await site.hub.async_add_executor_job(main, argv) == 0
    [bundle] = sorted((site.config_dir / "evidence").glob("*.zip"))
    [image] = _images(bundle).values()
    assert _faces(image) == 0 and image != (site.config_dir / frame).read_bytes()


def _decoded(data: bytes, folder: Path) -> list[Any]:
    path = folder / "decoded.mp4"
    path.write_bytes(data)
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def test_recorded_segment_is_blurred_for_a_redacted_export(tmp_path: Path) -> None:
    """A fragmented-MP4 H.264 segment (as the camera recorder writes them) comes back blurred, still H.264
    fragmented MP4 that ffprobe decodes, with every frame."""
    import subprocess

    from hub.evidence.verify import ffprobe_problem, fmp4_problem
    from integrations.face.evidence import redact_video

    still = tmp_path / frame_with(tmp_path, "segment.jpg", SOUGHT[0], STRANGER)
    segment = tmp_path / "segment.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-loop", "1", "-i", str(still), "-t", "1.2",
                    "-r", "10", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", "-movflags",
                    "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", str(segment)], check=True, timeout=120)
    original = segment.read_bytes()
    assert fmp4_problem(original) is None
    assert FaceBlurrer(plates=False).faces(_decoded(original, tmp_path)[0])

    blurred, faces, _plates = redact_video(original)
    assert faces >= 2 and blurred != original
    assert fmp4_problem(blurred) is None and ffprobe_problem("ffprobe", blurred) is None
    frames = _decoded(blurred, tmp_path)
    assert len(frames) == 12
    assert all(FaceBlurrer(plates=False).faces(frame) == [] for frame in frames)
    with pytest.raises(ValueError):
        redact_video(b"not a video")


def _plate_sharpness(data: bytes, box: tuple[int, int, int, int] | None = None) -> float:
    """The variance of the Laplacian over a plate's box (the whole image without one): high when readable."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    if box is not None:
        x, y, w, h = box
        image = image[y:y + h, x:x + w]
    return float(cv2.Laplacian(image, cv2.CV_64F).var())


async def test_press_export_of_an_anpr_hit_blurs_the_plate(site: FaceSite) -> None:
    """An ANPR hit's evidence (the plate crop and the overview frame, as the simulator renders a Spanish EU
    plate) goes to the court sharp and to the press with the plate blurred, in the frame and in the crop."""
    from hub.recorder import get_recorder
    from integrations.anpr.sim_camera import SimCamera

    await async_setup_evidence(site.hub)
    camera = SimCamera(seed=3, rate=0)
    camera.plant("1234BCD")
    frame, [(plate, box)] = camera.frame(1.0)
    x, y, w, h = box
    media = site.config_dir / "media" / "anpr" / "hits" / "cam_port" / "20261207"
    media.mkdir(parents=True)
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    (media / "hit1_frame.jpg").write_bytes(encoded.tobytes())
    ok, encoded = cv2.imencode(".jpg", frame[y - 4:y + h + 4, x - 4:x + w + 4], [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    (media / "hit1_crop.jpg").write_bytes(encoded.tobytes())
    site.hub.bus.async_fire("anpr_hotlist_hit", {
        "hit_id": "hit1", "camera": "cam_port", "list": "stolen", "plate": plate,
        "evidence": {"crop": "media/anpr/hits/cam_port/20261207/hit1_crop.jpg",
                     "frame": "media/anpr/hits/cam_port/20261207/hit1_frame.jpg"}})
    await site.hub.async_block_till_done()
    await get_recorder(site.hub).async_flush()

    def pick(export: dict[str, Any]) -> tuple[bytes, bytes]:
        images = _images(Path(export["path"]))
        [crop] = [data for name, data in images.items() if name.endswith("hit1_crop.jpg")]
        [overview] = [data for name, data in images.items() if name.endswith("hit1_frame.jpg")]
        return crop, overview

    kept_crop, kept_frame = pick(await _export(site))
    assert kept_frame == (media / "hit1_frame.jpg").read_bytes()
    assert kept_crop == (media / "hit1_crop.jpg").read_bytes()
    sharp_frame, sharp_crop = _plate_sharpness(kept_frame, box), _plate_sharpness(kept_crop)
    assert sharp_frame > 1000 and sharp_crop > 1000  # the plate is readable for the case

    press = await _export(site, audience="press")
    blurred_crop, blurred_frame = pick(press)
    assert _plate_sharpness(blurred_frame, box) < sharp_frame / 20
    assert _plate_sharpness(blurred_crop) < sharp_crop / 20
    outside = (slice(50, 150), slice(900, 1200))  # the road far from the car is left as it was
    before = cv2.imdecode(np.frombuffer(kept_frame, np.uint8), cv2.IMREAD_GRAYSCALE)
    after = cv2.imdecode(np.frombuffer(blurred_frame, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert before is not None and after is not None
    assert np.abs(before[outside].astype(int) - after[outside].astype(int)).mean() < 3
    with zipfile.ZipFile(press["path"]) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["blurred"]["plates"] >= 2


def test_recorded_segment_with_a_moving_plate_is_blurred(tmp_path: Path) -> None:
    """A recorded segment of the ANPR simulator's road (a car coming closer, 25 frames a second) comes back with
    the plate blurred in every frame, also in those between two detections."""
    import subprocess

    from integrations.anpr.sim_camera import SimCamera
    from integrations.face.evidence import redact_video

    camera = SimCamera(seed=3, rate=0)
    camera.plant("1234BCD")
    shots = [camera.frame(1.0 + n / 25) for n in range(25)]
    segment = tmp_path / "road.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
                    "-s", "1280x720", "-r", "25", "-i", "-", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p",
                    "-g", "25", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", str(segment)],
                   input=b"".join(frame.tobytes() for frame, _truth in shots), check=True, timeout=120)
    original = segment.read_bytes()
    before = _decoded(original, tmp_path)
    assert len(before) == 25

    blurred, _faces, plates = redact_video(original)
    assert plates >= 10  # detected on every other frame
    after = _decoded(blurred, tmp_path)
    assert len(after) == 25
    for (_frame, [(_plate, (x, y, w, h))]), sharp, soft in zip(shots, before, after, strict=True):
        plate = (slice(y, y + h), slice(x, x + w))
        sharp_var = cv2.Laplacian(cv2.cvtColor(sharp, cv2.COLOR_BGR2GRAY)[plate], cv2.CV_64F).var()
        soft_var = cv2.Laplacian(cv2.cvtColor(soft, cv2.COLOR_BGR2GRAY)[plate], cv2.CV_64F).var()
        assert sharp_var > 1000 and soft_var < sharp_var / 20, (y, sharp_var, soft_var)


def test_overlapping_boxes_are_each_blurred_and_the_rest_left() -> None:
    """Boxes that overlap (a face found by two cascades, carried from earlier frames) are blurred together:
    every one of them ends up blurred, and the picture far from them is left as it was."""
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (400, 600, 3), dtype=np.uint8)  # fine detail everywhere
    original = image.copy()
    boxes = [(50, 60, 80, 80), (100, 100, 80, 80), (160, 150, 40, 40), (400, 250, 60, 60)]
    FaceBlurrer(plates=False).blur(image, extra=boxes)

    def sharpness(picture: np.ndarray, box: tuple[int, int, int, int]) -> float:
        x, y, w, h = box
        return float(cv2.Laplacian(cv2.cvtColor(picture[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

    for box in boxes:
        assert sharpness(image, box) < sharpness(original, box) / 20, box
    assert np.array_equal(image[:, 520:], original[:, 520:])
