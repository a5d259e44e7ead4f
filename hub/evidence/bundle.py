"""Writing an evidence zip: the files, a manifest with each file's SHA-256, the Ed25519 signature, the public key."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .const import FORMAT, MANIFEST, PUBLIC_KEY, README, SIGNATURE
from .keys import fingerprint, public_key_pem

__all__ = ["BundleFile", "canonical_json", "iso", "write_bundle"]

_README = """Evidence exported by a Hacho hub ({site}).

manifest.json   what was exported, why (reason, case reference), by whom, the time range, the source
                devices, every file with its SHA-256, and the recorded video (`video`: per camera, its
                time range and segments, video/<camera>/*.mp4, fragmented MP4 as recorded).
manifest.sig    the Ed25519 signature (base64) over the exact bytes of manifest.json.
public_key.pem  the hub's public key; its SHA-256 fingerprint ({fingerprint}) should match the one the
                hub's operator publishes (a key inside the zip proves nothing on its own).

Check it with `hacho evidence verify FILE.zip [--fingerprint HEX]`: exit 0 when the signature and every
file check out (and every video segment plays: ffprobe), 1 naming each file that was changed, added or
removed, or does not play.
"""


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and fixed indentation: the same value always gives the same bytes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


def iso(ts: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file of the bundle and where it came from."""

    path: str  # inside the zip
    data: bytes
    kind: str  # events, states, alarm, image, readme
    media_type: str
    source: str | None = None  # the device or entity it came from
    time_ts: float | None = None
    original: str | None = None  # where the hub kept it (images)

    def entry(self) -> dict[str, Any]:
        """Its line in the manifest."""
        entry: dict[str, Any] = {"path": self.path, "sha256": hashlib.sha256(self.data).hexdigest(),
                                 "size": len(self.data), "kind": self.kind, "media_type": self.media_type}
        if self.source is not None:
            entry["source"] = self.source
        if self.time_ts is not None:
            entry["time"] = iso(self.time_ts)
        if self.original is not None:
            entry["original"] = self.original
        return entry


def write_bundle(path: Path, files: Sequence[BundleFile], fields: Mapping[str, Any], key: Ed25519PrivateKey,
                 created_ts: float) -> dict[str, Any]:
    """Write the zip at `path` (atomically) and return its manifest. Blocking."""
    public = key.public_key()
    key_fingerprint = fingerprint(public)
    readme = BundleFile(README, _README.format(site=(fields.get("hub") or {}).get("site", "?"),
                                               fingerprint=key_fingerprint).encode(), "readme", "text/plain")
    everything = [readme, *files]
    names = [item.path for item in everything]
    if len(set(names)) != len(names):
        raise ValueError("two files of the bundle have the same name")
    manifest = {
        "format": FORMAT,
        **fields,
        "files": [item.entry() for item in everything],
        "signature": {"algorithm": "Ed25519", "public_key_file": PUBLIC_KEY, "signature_file": SIGNATURE,
                      "public_key_sha256": key_fingerprint, "signed": iso(created_ts)},
    }
    body = canonical_json(manifest)
    signature = base64.b64encode(key.sign(body)) + b"\n"
    stamp = time.gmtime(max(created_ts, 315532800.0))[:6]  # zip dates start in 1980
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w") as archive:
        def add(name: str, data: bytes, compress: bool) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)

        add(MANIFEST, body, True)
        add(SIGNATURE, signature, False)
        add(PUBLIC_KEY, public_key_pem(public), False)
        for item in everything:
            add(item.path, item.data, not item.media_type.startswith(("image/", "video/")))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return manifest
