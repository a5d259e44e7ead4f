"""Evidence exports: what goes in, the signature, verification after one changed byte, audit, CLI and REST."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from hacho.__main__ import main
from hub.audit import get_audit
from hub.evidence import verify_bundle
from hub.evidence.keys import fingerprint, load_or_create_key
from hub.exceptions import ServiceValidationError, Unauthorized
from integrations import alarm

from .conftest import CROP, FRAME, OPERATOR, SUPERVISOR, THUMB, Bench


def _rewrite(source: Path, target: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    """A copy of the zip with one member's content changed (a well-formed zip: only hashes can tell)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            copy.writestr(info, change(data) if info.filename == name else data)


def _flip(data: bytes, index: int | None = None) -> bytes:
    """The same bytes with one bit of one byte changed."""
    at = len(data) // 2 if index is None else index
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def _manifest(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        return orjson.loads(archive.read("manifest.json"))


async def test_alarm_export_holds_events_states_images_and_verifies(bench: Bench, config_dir: Path) -> None:
    answer = await bench.export(alarm_id=bench.alarm_id)
    path = Path(answer["path"])
    assert path.parent == config_dir / "evidence" and answer["url"] == f"/api/evidence/{path.name}"
    assert answer["images"] == 3 and answer["events"] >= 3

    result = verify_bundle(path)
    assert result.ok, result.problems
    manifest = result.manifest
    assert manifest is not None
    assert manifest["reason"].startswith("Requested by the Juzgado") and manifest["case_reference"] == "DP 123/2025"
    assert manifest["exporter"]["user_id"] == "sup1" and manifest["exporter"]["centre"] == "national_police"
    assert manifest["hub"] == {"name": "Hacho Ceuta", "site": "national_police"}
    assert manifest["scope"] == {"alarm_id": bench.alarm_id, "entity_ids": ["camera.tarajal_1"]}
    assert manifest["time_range"]["start_ts"] < manifest["time_range"]["end_ts"]
    assert "camera.tarajal_1" in manifest["source_devices"] and "tower.monte_hacho" in manifest["source_devices"]
    assert manifest["signature"]["public_key_sha256"] == fingerprint(load_or_create_key(config_dir).public_key())

    files = {entry["path"]: entry for entry in manifest["files"]}
    with zipfile.ZipFile(path) as archive:
        events = orjson.loads(archive.read("data/events.json"))
        states = orjson.loads(archive.read("data/states.json"))
        exported_alarm = orjson.loads(archive.read("data/alarm.json"))
        images = {name: archive.read(name) for name in archive.namelist() if name.startswith("images/")}
    kinds = [event["event_type"] for event in events]
    assert "anpr_hotlist_hit" in kinds and "thermal_fire_detected" in kinds and "alarm_raised" in kinds
    assert "unrelated_event" not in kinds  # about another entity, outside the alarm's scope
    assert [s["state"] for s in states["camera.tarajal_1"]] == ["recording", "tracking"]
    assert exported_alarm["alarm_id"] == bench.alarm_id and exported_alarm["timeline"][0]["kind"] == "raised"
    assert sorted(images.values()) == sorted([CROP, FRAME, THUMB])
    crop = next(name for name, data in images.items() if data == CROP)
    assert files[crop]["source"] == "camera.tarajal_1"
    assert files[crop]["original"] == "media/anpr/hits/tarajal_1/20250301/hit1_crop.jpg"
    assert files[crop]["media_type"] == "image/jpeg" and files[crop]["size"] == len(CROP)
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"])

    key_file = config_dir / ".storage" / "evidence_ed25519.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    [entry] = await bench.audit("export")
    assert entry["user_id"] == "sup1" and entry["target"] == f"evidence/{path.name}"
    assert entry["data"]["case_reference"] == "DP 123/2025"


async def test_one_changed_byte_is_found(bench: Bench, tmp_path: Path) -> None:
    path = Path((await bench.export(alarm_id=bench.alarm_id))["path"])
    assert verify_bundle(path).ok

    events = tmp_path / "events.zip"
    _rewrite(path, events, "data/events.json", _flip)
    result = verify_bundle(events)
    assert not result.ok
    assert result.problems == ["data/events.json: SHA-256 differs from the manifest (the file was changed)"]

    manifest = tmp_path / "manifest.zip"
    _rewrite(path, manifest, "manifest.json", lambda data: data.replace(b"DP 123/2025", b"DP 124/2025"))
    result = verify_bundle(manifest)
    assert not result.ok and result.problems[0].startswith("manifest.json: the signature does not match")

    # one byte of the zip file itself, inside a stored image: the zip's own CRC names it
    raw = bytearray(await bench.hub.async_add_executor_job(path.read_bytes))
    at = bytes(raw).index(CROP[:24]) + 30
    raw[at] ^= 0x01
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    result = verify_bundle(damaged)
    assert not result.ok and len(result.problems) == 1
    assert result.problems[0].startswith("images/") and "crop" in result.problems[0]

    added = tmp_path / "added.zip"
    _rewrite(path, added, "", lambda data: data)
    with zipfile.ZipFile(added, "a") as archive:
        archive.writestr("images/planted.jpg", b"\xff\xd8 not from the hub")
    result = verify_bundle(added)
    assert result.problems == ["images/planted.jpg: in the zip but not in the manifest (added after signing)"]

    # re-signed with another key: valid on its own, but not the hub's key
    assert not verify_bundle(path, ["00" * 32]).ok


async def test_cli_verify_exit_codes(bench: Bench, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path((await bench.export(alarm_id=bench.alarm_id))["path"])
    key = load_or_create_key(bench.hub.config_dir).public_key()
    assert main(["evidence", "verify", str(path), "--fingerprint", fingerprint(key)]) == 0
    assert "OK" in capsys.readouterr().out

    tampered = tmp_path / "tampered.zip"
    _rewrite(path, tampered, "data/states.json", _flip)
    assert main(["evidence", "verify", str(tampered)]) == 1
    assert "data/states.json: SHA-256 differs" in capsys.readouterr().err
    assert main(["evidence", "verify", str(tmp_path / "absent.zip")]) == 2


async def test_window_export_and_cli_export(bench: Bench, config_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    answer = await bench.export(start=bench.start, end=bench.end, entity_id=["sensor.wind"])
    manifest = _manifest(Path(answer["path"]))
    assert manifest["scope"] == {"alarm_id": None, "entity_ids": ["sensor.wind"]}
    assert answer["events"] == 1 and answer["images"] == 0  # only the event about the wind sensor

    whole = await bench.export(start=bench.start, end=bench.end)
    assert whole["images"] == 3 and whole["events"] >= 4  # no entities named: everything in the window

    code = await bench.hub.async_add_executor_job(main, [
        "evidence", "export", "-c", str(config_dir), "--alarm", bench.alarm_id, "--reason", "Appeal",
        "--case", "DP 123/2025", "--exporter", "clerk"])
    assert code == 0
    printed = capsys.readouterr().out
    exported = Path(printed.splitlines()[0])
    assert verify_bundle(exported).ok and _manifest(exported)["exporter"]["user_id"] == "clerk"
    audited = await bench.audit("export")
    assert [e["user_id"] for e in audited][:1] == ["clerk"]
    audit = get_audit(bench.hub)
    assert audit is not None and (await audit.async_verify()).ok  # the CLI's entry joined the hub's chain


async def test_export_needs_reason_case_and_role(bench: Bench) -> None:
    with pytest.raises(Unauthorized, match="evidence"):
        await bench.export(OPERATOR, alarm_id=bench.alarm_id)
    with pytest.raises(ServiceValidationError, match="case_reference"):
        await bench.hub.services.async_call("evidence", "export", {"alarm_id": bench.alarm_id, "reason": "x"},
                                            context=SUPERVISOR)
    with pytest.raises(ServiceValidationError, match="No alarm"):
        await bench.export(alarm_id="0" * 32)
    with pytest.raises(ServiceValidationError, match="end must be after start"):
        await bench.export(start=bench.end, end=bench.start)
    assert await bench.audit("export") == []


async def test_alarms_come_from_the_registered_provider(bench: Bench) -> None:
    """Evidence asks the alarm integration (a registered provider) for alarms; once it is unloaded, none is left."""
    assert (await bench.export(alarm_id=bench.alarm_id))["name"]
    assert await alarm.async_unload(bench.hub)
    with pytest.raises(ServiceValidationError, match="Alarms are not set up here"):
        await bench.export(alarm_id=bench.alarm_id)
    window = await bench.export(start=bench.start, end=bench.end)  # a time window needs no alarms
    assert window["name"]


async def test_rest_download_for_supervisors_only(bench: Bench) -> None:
    answer = await bench.export(alarm_id=bench.alarm_id)
    url = f"{bench.http.base_url}{answer['url']}"

    async with bench.session.get(url, headers={"Authorization": f"Bearer {bench.tokens['sup1']}"}) as response:
        assert response.status == 200 and response.content_type == "application/zip"
        body = await response.read()
    assert body == await bench.hub.async_add_executor_job(Path(answer["path"]).read_bytes)
    async with bench.session.get(url, headers={"Authorization": f"Bearer {bench.tokens['op1']}"}) as response:
        assert response.status == 403
    async with bench.session.get(url) as response:
        assert response.status == 401
    bad = f"{bench.http.base_url}/api/evidence/..%2Fhacho.db"
    async with bench.session.get(bad, headers={"Authorization": f"Bearer {bench.tokens['sup1']}"}) as response:
        assert response.status == 404
    async with bench.session.get(f"{bench.http.base_url}/api/evidence",
                                 headers={"Authorization": f"Bearer {bench.tokens['sup1']}"}) as response:
        listing = await response.json()
    assert [item["name"] for item in listing["exports"]] == [answer["name"]]
    downloads = [e for e in await bench.audit("export") if e["data"].get("download")]
    assert [e["user_id"] for e in downloads] == ["sup1"]
    assert os.stat(answer["path"]).st_mode & 0o077 == 0


def _signed_video_bundle(tmp_path: Path, data: bytes, *, named: bool = True) -> Path:
    from hub.evidence.bundle import BundleFile, write_bundle

    key = load_or_create_key(tmp_path)
    segment = BundleFile("video/cam/20260101T000000Z_1.mp4", data, "video", "video/mp4", "camera.cam", 0.0)

    clip = {"camera": "cam", "entity_id": "camera.cam", "segments": [
        {"path": segment.path, "sha256": hashlib.sha256(data).hexdigest()}] if named else []}
    path = tmp_path / "evidence.zip"
    write_bundle(path, [segment], {"hub": {"site": "test"}, "video": [clip]}, key, 1.7e9)
    return path


def test_a_signed_video_that_does_not_play_fails_verification(tmp_path: Path) -> None:
    """Hashes alone are not enough: a segment that is not fragmented MP4 (or does not decode) is named, even
    under a valid signature; so is a video file no clip names."""
    result = verify_bundle(_signed_video_bundle(tmp_path, b"\x00\x00\x00\x18ftypisom" + bytes(400)))
    assert not result.ok
    assert result.problems[0].startswith("video/cam/20260101T000000Z_1.mp4: does not play"), result.problems
    result = verify_bundle(_signed_video_bundle(tmp_path, b"x" * 64, named=False))
    assert any("no camera's clip names" in problem for problem in result.problems), result.problems
