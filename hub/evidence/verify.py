"""Checking an evidence zip: the signature over the manifest, then every file against its SHA-256."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature

from .const import FORMAT, MANIFEST, PUBLIC_KEY, SIGNATURE, SIGNING_FILES
from .keys import fingerprint, read_public_key

__all__ = ["VerifyResult", "verify_bundle"]


@dataclass(slots=True)
class VerifyResult:
    """What the check found: `problems` name the file each one is about."""

    path: str
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    fingerprint: str | None = None
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        """Signature and every file check out."""
        return not self.problems

    def describe(self) -> str:
        """Lines for a person: OK with what was checked, or TAMPERED with each problem."""
        if self.ok and self.manifest is not None:
            scope = self.manifest.get("time_range") or {}
            return (f"OK: {self.path}: signature valid (Ed25519 key SHA-256 {self.fingerprint}); "
                    f"{self.files_checked} files match the manifest; case {self.manifest.get('case_reference')!r}, "
                    f"{scope.get('start')} to {scope.get('end')}, exported by "
                    f"{(self.manifest.get('exporter') or {}).get('user_id')}")
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
        listed: set[str] = set()
        for entry in manifest["files"]:
            name = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(name, str):
                result.problems.append(f"{MANIFEST}: a file entry without a path")
                continue
            listed.add(name)
            data = _read(archive, name, result)
            if data is None:
                continue
            result.files_checked += 1
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                result.problems.append(f"{name}: SHA-256 differs from the manifest (the file was changed)")
            elif len(data) != entry.get("size"):
                result.problems.append(f"{name}: size differs from the manifest")
        for name in archive.namelist():
            if name not in listed and name not in SIGNING_FILES:
                result.problems.append(f"{name}: in the zip but not in the manifest (added after signing)")
    return result
