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
