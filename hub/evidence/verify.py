"""Checking an evidence zip: the signature over the manifest, then every file against its SHA-256, and every
recorded video segment against the manifest's `video` entries and for playback (fragmented MP4 that ffprobe
decodes)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature

from .const import FORMAT, KIND_VIDEO, MANIFEST, PUBLIC_KEY, SIGNATURE, SIGNING_FILES
from .keys import fingerprint, read_public_key

__all__ = ["VerifyResult", "ffprobe_problem", "fmp4_problem", "verify_bundle"]


@dataclass(slots=True)
class VerifyResult:
    """What the check found: `problems` name the file each one is about."""

    path: str
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    fingerprint: str | None = None
    files_checked: int = 0
    video_checked: int = 0  # segments that match the video manifest and play
    notes: list[str] = field(default_factory=list)  # what could not be checked (not a failure)

    @property
    def ok(self) -> bool:
        """Signature and every file check out."""
        return not self.problems

    def describe(self) -> str:
        """Lines for a person: OK with what was checked, or TAMPERED with each problem."""
        if self.ok and self.manifest is not None:
            scope = self.manifest.get("time_range") or {}
            video = f", {self.video_checked} video segments play" if self.video_checked else ""
            return "\n".join([
                f"OK: {self.path}: signature valid (Ed25519 key SHA-256 {self.fingerprint}); "
                f"{self.files_checked} files match the manifest{video}; case "
                f"{self.manifest.get('case_reference')!r}, {scope.get('start')} to {scope.get('end')}, exported by "
                f"{(self.manifest.get('exporter') or {}).get('user_id')}", *(f"  note: {n}" for n in self.notes)])
        return "\n".join([f"TAMPERED or damaged: {self.path}", *(f"  {problem}" for problem in self.problems)])


def _read(archive: zipfile.ZipFile, name: str, result: VerifyResult) -> bytes | None:
    try:
        return archive.read(name)
    except KeyError:
        result.problems.append(f"{name}: missing from the zip")
    except (zipfile.BadZipFile, OSError, ValueError) as err:  # a CRC mismatch, a broken deflate stream
        result.problems.append(f"{name}: damaged in the zip ({err})")
    return None


def _check_signature(archive: zipfile.ZipFile, result: VerifyResult, trusted: set[str]) -> bytes | None:
    body = _read(archive, MANIFEST, result)
    signature_text = _read(archive, SIGNATURE, result)
    pem = _read(archive, PUBLIC_KEY, result)
    if body is None or signature_text is None or pem is None:
        return None
    try:
        public = read_public_key(pem)
    except ValueError as err:
        result.problems.append(f"{PUBLIC_KEY}: not an Ed25519 public key ({err})")
        return None
    result.fingerprint = fingerprint(public)
    try:
        signature = base64.b64decode(signature_text.strip(), validate=True)
    except (binascii.Error, ValueError):
        result.problems.append(f"{SIGNATURE}: not a base64 signature")
        return None
    try:
        public.verify(signature, body)
    except InvalidSignature:
        result.problems.append(f"{MANIFEST}: the signature does not match (the manifest or its signature was "
                               "changed after signing)")
        return None
    if trusted and result.fingerprint not in trusted:
        result.problems.append(f"{PUBLIC_KEY}: signed by key {result.fingerprint}, not by the expected "
                               f"{', '.join(sorted(trusted))}")
    return body


def verify_bundle(path: str | os.PathLike[str], trusted_fingerprints: Iterable[str] = ()) -> VerifyResult:
    """Check an evidence zip (blocking). With `trusted_fingerprints`, the signing key must be one of them."""
    result = VerifyResult(os.fspath(path))
    trusted = {item.strip().lower() for item in trusted_fingerprints if item.strip()}
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        result.problems.append(f"{os.path.basename(result.path)}: not a readable zip ({err})")
        return result
    with archive:
        body = _check_signature(archive, result, trusted)
        if body is None:
            return result
        try:
            manifest = orjson.loads(body)
        except orjson.JSONDecodeError as err:
            result.problems.append(f"{MANIFEST}: not JSON ({err})")
            return result
        result.manifest = manifest
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
                not isinstance(manifest.get("files"), list):
            result.problems.append(f"{MANIFEST}: not a {FORMAT} manifest")
            return result
        if (manifest.get("signature") or {}).get("public_key_sha256") != result.fingerprint:
            result.problems.append(f"{PUBLIC_KEY}: not the key the manifest names")
        listed: dict[str, Mapping[str, Any]] = {}
        videos: dict[str, bytes] = {}
        for entry in manifest["files"]:
            name = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(name, str):
                result.problems.append(f"{MANIFEST}: a file entry without a path")
                continue
            listed[name] = entry
            data = _read(archive, name, result)
            if data is None:
                continue
            result.files_checked += 1
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                result.problems.append(f"{name}: SHA-256 differs from the manifest (the file was changed)")
            elif len(data) != entry.get("size"):
                result.problems.append(f"{name}: size differs from the manifest")
            elif entry.get("kind") == KIND_VIDEO:
                videos[name] = data
        for name in archive.namelist():
            if name not in listed and name not in SIGNING_FILES:
                result.problems.append(f"{name}: in the zip but not in the manifest (added after signing)")
    _check_video(manifest, listed, videos, result)
    return result


def _check_video(manifest: Mapping[str, Any], listed: Mapping[str, Mapping[str, Any]], videos: Mapping[str, bytes],
                 result: VerifyResult) -> None:
    """Every segment the `video` entries name is in the zip with their sha256, every video file is named by
    one, and each plays (fragmented MP4 that ffprobe decodes)."""
    named: set[str] = set()
    for clip in manifest.get("video") or ():
        camera = clip.get("entity_id") or clip.get("camera") if isinstance(clip, Mapping) else None
        for segment in (clip.get("segments") or ()) if isinstance(clip, Mapping) else ():
            path = segment.get("path") if isinstance(segment, Mapping) else None
            if not isinstance(path, str) or segment.get("withheld"):
                continue
            named.add(path)
            entry = listed.get(path)
            if entry is None:
                result.problems.append(f"{path}: a segment of {camera} named by the video manifest is not in the zip")
            elif entry.get("sha256") != segment.get("sha256"):
                result.problems.append(f"{path}: its SHA-256 differs between the file list and the video manifest")
    for name, entry in listed.items():
        if entry.get("kind") == KIND_VIDEO and name not in named:
            result.problems.append(f"{name}: a video file no camera's clip names")
    ffprobe = shutil.which("ffprobe")
    if videos and ffprobe is None:
        result.notes.append("the video segments were not decoded: ffprobe is not installed (hashes were checked)")
    for name, data in videos.items():
        problem = fmp4_problem(data) or (ffprobe_problem(ffprobe, data) if ffprobe else None)
        if problem:
            result.problems.append(f"{name}: does not play ({problem})")
        elif name in named:
            result.video_checked += 1


def fmp4_problem(data: bytes) -> str | None:
    """Why `data` is not a fragmented MP4 (ftyp first, a moov, moof + mdat fragments, boxes that add up)."""
    boxes: list[bytes] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 8:
            return f"{len(data) - pos} stray bytes at the end"
        size, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        if size == 1 and len(data) - pos >= 16:
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        if size < 8 or pos + size > len(data):
            return f"box {kind!r} at offset {pos} runs past the end or is too small"
        boxes.append(kind)
        pos += size
    if not boxes or boxes[0] != b"ftyp" or b"moov" not in boxes or b"moof" not in boxes or b"mdat" not in boxes:
        return "not a fragmented MP4 (ftyp, moov, moof and mdat expected)"
    return None


def ffprobe_problem(ffprobe: str, data: bytes, timeout: float = 120.0) -> str | None:
    """Why ffprobe cannot decode the video of `data` (every frame), or None when it can. Blocking."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as handle:
        handle.write(data)
        handle.flush()
        try:
            run = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v:0", "-count_frames",
                                  "-show_entries", "stream=codec_name,nb_read_frames", "-of", "json", handle.name],
                                 capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"ffprobe failed: {err}"
    errors = run.stderr.decode(errors="replace").strip()
    if run.returncode != 0 or errors:
        return f"ffprobe: {errors.splitlines()[-1] if errors else f'exit {run.returncode}'}"
    try:
        streams = orjson.loads(run.stdout).get("streams") or []
    except orjson.JSONDecodeError:
        return "ffprobe gave no answer"
    frames = int(streams[0].get("nb_read_frames") or 0) if streams else 0
    if frames == 0:
        return "no video frame decodes"
    return None
