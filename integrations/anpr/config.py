"""The `anpr:` configuration section: schema (defaults in it) and typed camera, list and journey configs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from hub.helpers import config_validation as cv

from .const import (
    DEFAULT_CONFUSION_COST,
    DEFAULT_FPS,
    DEFAULT_HIT_MIN_CONFIDENCE,
    DEFAULT_HITS_DAYS,
    DEFAULT_JOURNEY_WINDOW,
    DEFAULT_MAX_DISTANCE,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_NON_HIT_IMAGES_HOURS,
    DEFAULT_PURGE_INTERVAL,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_READS_HOURS,
    DEFAULT_RETRY_INTERVAL,
    DEFAULT_TRACK_TIMEOUT,
    DEFAULT_UNAVAILABLE_AFTER,
    KIND_ALLOW,
    KIND_DENY,
    MEDIA_SUBDIR,
    WORKER_PROCESS,
    WORKER_SHARED,
    WORKER_THREAD,
)

__all__ = ["CONFIG_SCHEMA", "DEFAULT_DETECTORS", "CameraConfig", "JourneyConfig", "ListConfig", "source_type"]

SOURCE_TYPES = ("auto", "stream", "snapshot", "file", "sim")
SOURCE_CAMERA = "camera"  # frames from a camera entity of the camera integration (its sub stream by default)
DETECTORS = ("morph", "haar", "text", "yolo")  # yolo: a YOLOv8 plate model (yolo.py, docs/anpr.md)
# The camera default: the yolo model finds the most plates, small ones too, at the frame-rate target, and its
# boxes read as well as morph's once refined to their character band (docs/anpr.md, "The camera default").
DEFAULT_DETECTORS = ("yolo",)
_ID_RE = re.compile(r"^[a-z0-9_]+$")


def _id(value: Any) -> str:
    text = cv.string(value).strip()
    if not _ID_RE.fullmatch(text):
        raise vol.Invalid(f"expected an id of lower-case letters, digits and _, got {text!r}")
    return text


def _roi(value: Any) -> tuple[int, int, int, int]:
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise vol.Invalid("roi: expected [x, y, width, height] in pixels")
    try:
        x, y, w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise vol.Invalid(f"roi: expected four integers, got {value!r}") from None
    if x < 0 or y < 0 or w < 16 or h < 16:
        raise vol.Invalid(f"roi: x and y must be >= 0 and width/height >= 16, got {value!r}")
    return x, y, w, h


def _hash_key(value: Any) -> str:
    text = cv.string(value)
    if len(text) < 16:
        raise vol.Invalid("hash_key must be at least 16 characters (use !secret)")
    return text


def source_type(source: str, declared: str = "auto") -> str:
    """What kind of source a camera has: sim, stream, snapshot or file."""
    if declared != "auto":
        return declared
    scheme = urlsplit(source).scheme.lower()
    if scheme == "sim":
        return "sim"
    if scheme in ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp"):
        return "stream"
    return "file"


def _camera_entity(value: Any) -> str:
    text = cv.string(value).strip()
    if not re.fullmatch(r"camera\.[a-z0-9_]+", text):
        raise vol.Invalid(f"expected a camera entity id (camera.<id>), got {text!r}")
    return text


def _one_source(conf: dict[str, Any]) -> dict[str, Any]:
    if ("source" in conf) == ("camera" in conf):
        raise vol.Invalid("give either 'camera' (a camera.* entity) or 'source' (a URL, file or sim://)")
    return conf


CAMERA_SCHEMA = vol.All(vol.Schema({
    vol.Required("id"): _id,
    vol.Optional("name"): cv.string,
    vol.Optional("source"): cv.string,
    # frames from a camera entity: only its `stream` (sub unless told), decoded at `fps`, scaled to `width`
    vol.Optional("camera"): _camera_entity,
    vol.Optional("stream", default="sub"): vol.In(("sub", "main")),
    vol.Optional("width"): vol.All(vol.Coerce(int), vol.Range(min=160, max=3840)),
    vol.Optional("type", default="auto"): vol.In(SOURCE_TYPES),
    vol.Optional("fps", default=DEFAULT_FPS): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=120)),
    vol.Optional("roi"): _roi,
    vol.Optional("area"): cv.string,
    vol.Optional("latitude"): cv.latitude,
    vol.Optional("longitude"): cv.longitude,
    vol.Optional("direction"): cv.string,
    vol.Optional("lane", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=16)),
    vol.Optional("queue_size", default=DEFAULT_QUEUE_SIZE): vol.All(vol.Coerce(int), vol.Range(min=1, max=64)),
    vol.Optional("detectors", default=list(DEFAULT_DETECTORS)): vol.All(cv.ensure_list, [vol.In(DETECTORS)],
                                                                   vol.Length(min=1)),
    vol.Optional("unavailable_after", default=DEFAULT_UNAVAILABLE_AFTER): vol.All(
        vol.Coerce(float), vol.Range(min=0.1)),
    vol.Optional("retry_interval", default=DEFAULT_RETRY_INTERVAL): vol.All(vol.Coerce(float),
                                                                            vol.Range(min=0.05)),
    vol.Optional("loop", default=True): cv.boolean,
}, extra=vol.PREVENT_EXTRA), _one_source)

LIST_SCHEMA = vol.Schema({
    vol.Required("id"): _id,
    vol.Optional("name"): cv.string,
    vol.Optional("kind", default=KIND_DENY): vol.In((KIND_DENY, KIND_ALLOW)),
    vol.Optional("priority", default=2): vol.All(vol.Coerce(int), vol.Range(min=1, max=9)),
    vol.Optional("max_distance"): vol.All(vol.Coerce(float), vol.Range(min=0, max=2)),
    vol.Optional("min_confidence", default=DEFAULT_HIT_MIN_CONFIDENCE): vol.All(vol.Coerce(float),
                                                                                vol.Range(min=0, max=1)),
}, extra=vol.PREVENT_EXTRA)

JOURNEY_SCHEMA = vol.Schema({
    vol.Required("id"): _id,
    vol.Optional("name"): cv.string,
    vol.Required("from"): _id,
    vol.Required("to"): _id,
    vol.Required("distance_m"): vol.All(vol.Coerce(float), vol.Range(min=1)),
    vol.Optional("free_flow_kmh", default=50.0): vol.All(vol.Coerce(float), vol.Range(min=1)),
    vol.Optional("max_minutes", default=60.0): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
    vol.Optional("window_seconds", default=DEFAULT_JOURNEY_WINDOW): vol.All(vol.Coerce(float),
                                                                            vol.Range(min=10)),
    vol.Optional("heavy_ratio", default=0.6): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
    vol.Optional("congested_ratio", default=0.3): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
}, extra=vol.PREVENT_EXTRA)


def _check_refs(config: dict[str, Any]) -> dict[str, Any]:
    cameras = [c["id"] for c in config["cameras"]]
    for what, ids in (("cameras", cameras), ("lists", [x["id"] for x in config["lists"]]),
                      ("journeys", [j["id"] for j in config["journeys"]])):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise vol.Invalid(f"duplicate id {dupes[0]!r}", path=[what])
    for index, journey in enumerate(config["journeys"]):
        for end in ("from", "to"):
            if journey[end] not in cameras:
                raise vol.Invalid(f"no camera with id {journey[end]!r}", path=["journeys", index, end])
    return config


CONFIG_SCHEMA = vol.All(vol.Schema({
    vol.Optional("hash_key"): _hash_key,
    vol.Optional("media_dir", default=MEDIA_SUBDIR): cv.string,
    vol.Optional("workers", default=WORKER_PROCESS): vol.In((WORKER_PROCESS, WORKER_THREAD, WORKER_SHARED)),
    vol.Optional("cameras", default=[]): cv.list_of(CAMERA_SCHEMA),
    vol.Optional("lists", default=[]): cv.list_of(LIST_SCHEMA),
    vol.Optional("journeys", default=[]): cv.list_of(JOURNEY_SCHEMA),
    vol.Optional("reader", default={}): vol.Schema({
        vol.Optional("min_confidence", default=DEFAULT_MIN_CONFIDENCE): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=1)),
        vol.Optional("variants", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=4)),
        vol.Optional("rec_model"): cv.string,
        vol.Optional("det_model"): cv.string,
        vol.Optional("yolo_model"): cv.string,  # the `yolo` detector's .pt (default: scripts/setup-anpr-yolo.sh's)
        vol.Optional("threads", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=16)),
        # enlarge views under 640 px wide (low-resolution cameras, small ROIs) before detection
        vol.Optional("upscale", default=True): cv.boolean,
    }, extra=vol.PREVENT_EXTRA),
    vol.Optional("matching", default={}): vol.Schema({
        vol.Optional("max_distance", default=DEFAULT_MAX_DISTANCE): vol.All(vol.Coerce(float),
                                                                            vol.Range(min=0, max=2)),
        vol.Optional("confusion_cost", default=DEFAULT_CONFUSION_COST): vol.All(vol.Coerce(float),
                                                                                vol.Range(min=0, max=1)),
    }, extra=vol.PREVENT_EXTRA),
    vol.Optional("tracking", default={}): vol.Schema({
        vol.Optional("timeout", default=DEFAULT_TRACK_TIMEOUT): vol.All(vol.Coerce(float),
                                                                        vol.Range(min=0.05)),
        # the same plate again at the same camera within this time is the tail of the same pass
        vol.Optional("dedupe_seconds", default=10.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }, extra=vol.PREVENT_EXTRA),
    vol.Optional("retention", default={}): vol.Schema({
        vol.Optional("reads_hours", default=DEFAULT_READS_HOURS): vol.All(vol.Coerce(float),
                                                                          vol.Range(min=0)),
        vol.Optional("non_hit_images_hours", default=DEFAULT_NON_HIT_IMAGES_HOURS): vol.All(
            vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("hits_days", default=DEFAULT_HITS_DAYS): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("purge_interval", default=DEFAULT_PURGE_INTERVAL): vol.All(vol.Coerce(float),
                                                                                vol.Range(min=1)),
    }, extra=vol.PREVENT_EXTRA),
    vol.Optional("privacy", default={}): vol.Schema({
        vol.Optional("plate_in_events", default=False): cv.boolean,
    }, extra=vol.PREVENT_EXTRA),
}, extra=vol.PREVENT_EXTRA), _check_refs)


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One camera, as configured."""

    id: str
    name: str
    source: str
    type: str
    fps: float
    roi: tuple[int, int, int, int] | None
    area: str | None
    latitude: float | None
    longitude: float | None
    direction: str | None
    lane: int
    queue_size: int
    detectors: tuple[str, ...]
    unavailable_after: float
    retry_interval: float
    loop: bool
    camera: str | None = None  # camera.<id> whose `stream` is decoded (then `source` is resolved at start)
    stream: str = "sub"
    width: int | None = None

    @classmethod
    def from_config(cls, conf: dict[str, Any]) -> CameraConfig:
        camera = conf.get("camera")
        return cls(conf["id"], conf.get("name") or conf["id"], conf.get("source") or camera or "",
                   SOURCE_CAMERA if camera else source_type(conf["source"], conf["type"]), conf["fps"],
                   conf.get("roi"), conf.get("area"), conf.get("latitude"), conf.get("longitude"),
                   conf.get("direction"), conf["lane"], conf["queue_size"], tuple(conf["detectors"]),
                   conf["unavailable_after"], conf["retry_interval"], conf["loop"], camera, conf["stream"],
                   conf.get("width"))

    @property
    def location(self) -> dict[str, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return {"latitude": self.latitude, "longitude": self.longitude}


@dataclass(frozen=True, slots=True)
class ListConfig:
    """One hotlist, as configured (its entries live in the database)."""

    id: str
    name: str
    kind: str
    priority: int
    max_distance: float | None
    min_confidence: float

    @classmethod
    def from_config(cls, conf: dict[str, Any]) -> ListConfig:
        return cls(conf["id"], conf.get("name") or conf["id"], conf["kind"], conf["priority"],
                   conf.get("max_distance"), conf["min_confidence"])


@dataclass(frozen=True, slots=True)
class JourneyConfig:
    """A road section between two cameras."""

    id: str
    name: str
    origin: str
    destination: str
    distance_m: float
    free_flow_kmh: float
    max_seconds: float
    window_seconds: float
    heavy_ratio: float
    congested_ratio: float

    @classmethod
    def from_config(cls, conf: dict[str, Any]) -> JourneyConfig:
        return cls(conf["id"], conf.get("name") or conf["id"], conf["from"], conf["to"], conf["distance_m"],
                   conf["free_flow_kmh"], conf["max_minutes"] * 60.0, conf["window_seconds"],
                   conf["heavy_ratio"], conf["congested_ratio"])
