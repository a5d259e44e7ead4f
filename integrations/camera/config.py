"""The `camera:` configuration section: schema (defaults in it) and the typed camera config.

    camera:
      storage_dir: storage/video        # under the config dir unless absolute
      segment_seconds: 4
      max_bytes: 50000000000            # the disk high-watermark for recordings (oldest unlocked go first)
      cameras:
        - id: tarajal_lane1
          name: Tarajal carril 1
          area: tarajal
          main: rtsp://10.0.0.5/main     # RTSP (always over TCP), or http(s) MJPEG
          sub: rtsp://10.0.0.5/sub
          snapshot_url: http://10.0.0.5/snap.jpg
          username: !secret cam_user     # never logged; put into the URL only when a process starts
          password: !secret cam_password
          record: {mode: continuous, retention_days: 30}
          presets: [gate, queue]
          onvif:                         # optional: PTZ presets read from the device, goto_preset moves it
            host: 10.0.0.5
            port: 80                     # the device service's HTTP port
            username: !secret cam_onvif_user   # default: the camera's username/password
            password: !secret cam_onvif_password
          live_face_roles: [supervisor]  # only these roles see faces live; others get them blurred
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import voluptuous as vol

from hub.auth.users import Role
from hub.helpers import config_validation as cv

from .const import (
    DEFAULT_MIN_FREE_BYTES,
    DEFAULT_POST_ROLL,
    DEFAULT_PRE_ROLL,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_RETENTION_INTERVAL,
    DEFAULT_SEGMENT_SECONDS,
    DEFAULT_UNAVAILABLE_AFTER,
    MAX_RETENTION_DAYS,
    MODE_CONTINUOUS,
    MODES,
    SIM_SCHEME,
    STORAGE_SUBDIR,
)

__all__ = ["CONFIG_SCHEMA", "CameraConfig", "redact_url", "with_credentials"]

_ID_RE = re.compile(r"^[a-z0-9_]+$")
_SCHEMES = ("rtsp", "rtsps", "http", "https")
_ROLES = tuple(role.value for role in Role if role is not Role.AGENCY)


def _id(value: Any) -> str:
    text = cv.string(value).strip()
    if not _ID_RE.fullmatch(text):
        raise vol.Invalid(f"expected an id of lower-case letters, digits and _, got {text!r}")
    return text


def _stream_url(value: Any) -> str:
    text = cv.string(value).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() == SIM_SCHEME:
        if not _ID_RE.fullmatch(parts.netloc):
            raise vol.Invalid(f"expected sim://<simulated stream id>, got {text!r}")
        return text
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise vol.Invalid(f"expected an rtsp:// or http(s):// URL with a host, got {redact_url(text)!r}")
    if parts.username or parts.password:
        raise vol.Invalid("put credentials in 'username'/'password' (with !secret), not in the URL")
    return text


def redact_url(url: str) -> str:
    """The URL without any user info (for logs and states)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL with user info for a process's command line (never logged)."""
    if not username:
        return url
    parts = urlsplit(url)
    auth = quote(username, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{parts.netloc}"))


_PRESET = vol.Any(_id, vol.Schema({vol.Required("id"): _id, vol.Optional("name"): cv.string,
                                   vol.Optional("pan"): vol.Coerce(float), vol.Optional("tilt"): vol.Coerce(float),
                                   vol.Optional("zoom"): vol.Coerce(float)}))

ONVIF_SCHEMA = vol.Schema({
    vol.Required("host"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Optional("port", default=80): cv.port,
    vol.Optional("username"): cv.string,
    vol.Optional("password"): cv.string,
    vol.Optional("timeout", default=5.0): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=60)),
}, extra=vol.PREVENT_EXTRA)

RECORD_SCHEMA = vol.Schema({
    vol.Optional("mode", default=MODE_CONTINUOUS): vol.In(MODES),
    vol.Optional("retention_days", default=DEFAULT_RETENTION_DAYS): vol.All(
        vol.Coerce(float), vol.Range(min=0.0001, max=MAX_RETENTION_DAYS,
                                     msg=f"retention_days must be above 0 and at most {MAX_RETENTION_DAYS}")),
    vol.Optional("pre_roll", default=DEFAULT_PRE_ROLL): vol.All(vol.Coerce(float), vol.Range(min=0, max=300)),
    vol.Optional("post_roll", default=DEFAULT_POST_ROLL): vol.All(vol.Coerce(float), vol.Range(min=0, max=3600)),
    vol.Optional("stream", default="main"): vol.In(("main", "sub")),
}, extra=vol.PREVENT_EXTRA)

CAMERA_SCHEMA = vol.Schema({
    vol.Required("id"): _id,
    vol.Optional("name"): cv.string,
    vol.Optional("area"): cv.string,
    vol.Optional("latitude"): cv.latitude,
    vol.Optional("longitude"): cv.longitude,
    vol.Required("main"): _stream_url,
    vol.Optional("sub"): _stream_url,
    vol.Optional("snapshot_url"): _stream_url,
    vol.Optional("username"): cv.string,
    vol.Optional("password"): cv.string,
    vol.Optional("shared", default=False): cv.boolean,
    vol.Optional("record", default={}): RECORD_SCHEMA,
    vol.Optional("presets", default=[]): [_PRESET],
    vol.Optional("onvif"): ONVIF_SCHEMA,
    vol.Optional("unavailable_after", default=DEFAULT_UNAVAILABLE_AFTER): vol.All(vol.Coerce(float),
                                                                                  vol.Range(min=0.5)),
    # the roles that see faces in live view and snapshots; every other viewer gets them blurred (privacy.py).
    # Absent: every viewer allowed to watch sees the raw picture.
    vol.Optional("live_face_roles"): [vol.In(_ROLES)],
}, extra=vol.PREVENT_EXTRA)


CONFIG_SCHEMA = vol.Schema({
    vol.Optional("storage_dir", default=STORAGE_SUBDIR): cv.string,
    vol.Optional("segment_seconds", default=DEFAULT_SEGMENT_SECONDS): vol.All(vol.Coerce(float),
                                                                              vol.Range(min=1, max=60)),
    vol.Optional("max_bytes"): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional("low_watermark", default=0.9): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=1)),
    vol.Optional("min_free_bytes", default=DEFAULT_MIN_FREE_BYTES): vol.All(vol.Coerce(int), vol.Range(min=0)),
    vol.Optional("retention_interval", default=DEFAULT_RETENTION_INTERVAL): vol.All(vol.Coerce(float),
                                                                                    vol.Range(min=1)),
    # an alarm naming a camera entity locks its recordings from `before` s before to `after` s after the alarm
    vol.Optional("alarm_lock", default={}): vol.Schema({
        vol.Optional("before", default=60.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=3600)),
        vol.Optional("after", default=300.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=86400)),
        vol.Optional("enabled", default=True): cv.boolean,
    }),
    # live HLS (the websocket's fallback): a stream nobody asked for this long is stopped
    vol.Optional("hls_idle_after", default=15.0): vol.All(vol.Coerce(float), vol.Range(min=1, max=600)),
    vol.Optional("restart_initial", default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0.05)),
    vol.Optional("restart_maximum", default=60.0): vol.All(vol.Coerce(float), vol.Range(min=0.05)),
    vol.Optional("cameras", default=[]): vol.All([CAMERA_SCHEMA], cv.unique("id", "camera id")),
}, extra=vol.PREVENT_EXTRA)


def _onvif(conf: dict[str, Any]) -> dict[str, Any] | None:
    """The `onvif:` block with the camera's credentials where it gives none."""
    if "onvif" not in conf:
        return None
    onvif = dict(conf["onvif"])
    if "username" not in onvif and conf.get("username"):
        onvif["username"] = conf["username"]
        onvif.setdefault("password", conf.get("password"))
    return onvif


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One camera as configured (credentials kept apart from the URLs)."""

    id: str
    name: str
    main: str
    sub: str | None
    snapshot_url: str | None
    area: str | None
    latitude: float | None
    longitude: float | None
    username: str | None
    password: str | None
    shared: bool
    mode: str
    retention_days: float
    pre_roll: float
    post_roll: float
    record_stream: str
    presets: dict[str, dict[str, Any]]
    unavailable_after: float
    live_face_roles: frozenset[str] | None = None
    onvif: dict[str, Any] | None = None  # host, port, timeout, username, password (the camera's by default)

    @classmethod
    def from_config(cls, conf: dict[str, Any]) -> CameraConfig:
        """The typed config of one validated `cameras:` item."""
        record = conf["record"]
        presets: dict[str, dict[str, Any]] = {}
        for item in conf["presets"]:
            preset = {"id": item} if isinstance(item, str) else dict(item)
            presets[preset["id"]] = preset
        return cls(id=conf["id"], name=conf.get("name") or conf["id"], main=conf["main"], sub=conf.get("sub"),
                   snapshot_url=conf.get("snapshot_url"), area=conf.get("area"), latitude=conf.get("latitude"),
                   longitude=conf.get("longitude"), username=conf.get("username"), password=conf.get("password"),
                   shared=conf["shared"], mode=record["mode"], retention_days=record["retention_days"],
                   pre_roll=record["pre_roll"], post_roll=record["post_roll"], record_stream=record["stream"],
                   presets=presets, unavailable_after=conf["unavailable_after"],
                   live_face_roles=frozenset(conf["live_face_roles"]) if "live_face_roles" in conf else None,
                   onvif=_onvif(conf))

    def url(self, stream: str = "main", resolve: Callable[[str], str] | None = None) -> str:
        """The stream's URL with credentials (for a process's arguments only; never log it); a simulated
        stream (sim://<id>) through `resolve`."""
        base = self.sub if stream == "sub" and self.sub else self.main
        if base.startswith(f"{SIM_SCHEME}://"):
            if resolve is None:
                raise OSError(f"{base}: no simulated cameras (simulator `cameras:`) to play it")
            base = resolve(urlsplit(base).netloc)
        return with_credentials(base, self.username, self.password)

    def __repr__(self) -> str:  # never print the password
        return f"CameraConfig(id={self.id!r}, main={redact_url(self.main)!r}, mode={self.mode!r})"
