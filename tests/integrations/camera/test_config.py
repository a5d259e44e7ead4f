"""The `camera:` schema: defaults, the legal retention ceiling, credentials kept out of URLs and reprs."""

from __future__ import annotations

import pytest
import voluptuous as vol

from integrations.camera import CONFIG_SCHEMA
from integrations.camera.config import CameraConfig
from integrations.camera.process import redact_userinfo


def _camera(**extra: object) -> dict[str, object]:
    return {"id": "plaza", "main": "rtsp://10.0.0.5/main", **extra}


def test_defaults_are_continuous_recording_for_thirty_days() -> None:
    config = CONFIG_SCHEMA({"cameras": [_camera()]})
    camera = CameraConfig.from_config(config["cameras"][0])
    assert (camera.mode, camera.retention_days, config["segment_seconds"]) == ("continuous", 30, 4.0)


@pytest.mark.parametrize(("camera", "message"), [
    (_camera(record={"retention_days": 31}), "at most 30"),
    (_camera(main="rtsp://admin:pw@10.0.0.5/main"), "put credentials in 'username'/'password'"),
    (_camera(main="ftp://10.0.0.5/x"), r"expected an rtsp:// or http\(s\):// URL"),
    (_camera(record={"mode": "sometimes"}), "value must be one of"),
    (_camera(id="Plaza Mayor"), "expected an id"),
])
def test_bad_cameras_are_refused_with_the_reason(camera: dict[str, object], message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        CONFIG_SCHEMA({"cameras": [camera]})


def test_credentials_go_into_the_process_url_only() -> None:
    conf = CONFIG_SCHEMA({"cameras": [_camera(username="op@ceuta", password="p:w/d")]})["cameras"][0]
    camera = CameraConfig.from_config(conf)
    assert camera.url() == "rtsp://op%40ceuta:p%3Aw%2Fd@10.0.0.5/main"
    assert "p:w/d" not in repr(camera) and "p%3Aw" not in repr(camera)
    assert redact_userinfo(f"{camera.url()}: Connection refused") == "rtsp://***@10.0.0.5/main: Connection refused"
    with pytest.raises(vol.Invalid, match="duplicate camera id"):
        CONFIG_SCHEMA({"cameras": [_camera(), _camera()]})


def test_onvif_block_defaults_and_the_cameras_credentials() -> None:
    conf = CONFIG_SCHEMA({"cameras": [_camera(username="op", password="pw", onvif={"host": "10.0.0.5"})]})
    onvif = CameraConfig.from_config(conf["cameras"][0]).onvif
    assert onvif == {"host": "10.0.0.5", "port": 80, "timeout": 5.0, "username": "op", "password": "pw"}
    own = CONFIG_SCHEMA({"cameras": [_camera(username="op", onvif={"host": "h", "port": 8899, "username": "ptz"})]})
    assert CameraConfig.from_config(own["cameras"][0]).onvif == {"host": "h", "port": 8899, "timeout": 5.0,
                                                                  "username": "ptz"}
    assert CameraConfig.from_config(CONFIG_SCHEMA({"cameras": [_camera()]})["cameras"][0]).onvif is None
    with pytest.raises(vol.Invalid, match="extra keys not allowed"):
        CONFIG_SCHEMA({"cameras": [_camera(onvif={"host": "h", "profile": "x"})]})
    with pytest.raises(vol.Invalid, match="required key not provided"):
        CONFIG_SCHEMA({"cameras": [_camera(onvif={"port": 80})]})
