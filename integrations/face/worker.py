"""The face worker: detection, embedding and comparison in its own process (hub.helpers.workers).

It starts with no watchlist. The manager sends one (control message `load`) only while an authorisation
covering its cameras is active, and takes it back (`unload`) the moment it is not. A frame for a camera no
loaded watchlist covers is refused without being looked at. An embedding that matches nothing is dropped
where it was computed: it is never sent to the hub, stored or logged.

Cameras (control message `watch` with a frame request of integrations.camera.frames): the worker decodes
each camera's sub stream at the configured rate (one ffmpeg per camera, a bounded queue that drops the oldest
frame) and detects faces in every frame it takes (for privacy: counts and boxes, nothing else). Only where a
loaded watchlist covers that camera (its id, `camera.<id>`, or `area:<area>`) are the faces embedded and
compared; matches come back with a crop of the frame, non-matches are dropped here as above.

Items: {"kind": "identify", "frame_id", "camera", "authorisation_id", "image": RGB ndarray}
       {"kind": "enrol", "request_id", "image": RGB ndarray}
Control: {"type": "load", ...}, {"type": "unload", "authorisation_id"}, {"type": "watch", "request": {...}},
         {"type": "unwatch", "camera"}
Messages: {"type": "ready"}, {"type": "loaded"/"unloaded", "authorisation_id"},
          {"type": "identified", "frame_id", "faces", "matches": [...]} / {"type": "refused", "frame_id", "reason"},
          {"type": "enrolled", "request_id", "embedding" | "error"}, {"type": "fatal", "error"},
          {"type": "faces", "camera", "ts", "faces", "boxes"} (every stream frame looked at),
          {"type": "stream_matches", "camera", "area", "ts", "authorisation_id", "matches": [... "crop_jpeg"]},
          {"type": "stream", "camera", "available", "error"}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

__all__ = ["Watchlist", "covering", "identify", "run_face_worker"]

STREAM_QUEUE: Final = 4  # stream frames waiting at most (all cameras together); the oldest drop
_FRAME_POLL: Final = 0.05


@dataclass(slots=True)
class Watchlist:
    """The persons of one authorisation, for its cameras only."""

    authorisation_id: str
    cameras: frozenset[str]
    person_ids: list[str]
    gallery: np.ndarray  # one row per person
    threshold: float
    extra: dict[str, Any] = field(default_factory=dict)


def identify(engine: Any, watchlist: Watchlist, rgb: np.ndarray, *,
             still: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """Faces seen and the matches (person, distance, box, embedding) of one frame against one watchlist; a
    `still` handed in (not a stream frame) gets the engine's detection fallbacks when HOG finds nothing.

    Embeddings of faces that match nothing go out of scope here and are never returned."""
    from .engine import distances

    matches: list[dict[str, Any]] = []
    boxes = engine.detect_still(rgb) if still else engine.detect(rgb)
    for box, embedding in zip(boxes, engine.embed_many(rgb, boxes), strict=True):  # one batch per frame
        found = distances(watchlist.gallery, embedding)
        best = int(np.argmin(found)) if len(found) else -1
        if best >= 0 and float(found[best]) <= watchlist.threshold:
            matches.append({"person_id": watchlist.person_ids[best], "distance": float(found[best]),
                            "box": list(box), "embedding": embedding.tobytes()})
        del embedding, found  # a non-match is gone here: nothing of it leaves this function
    return len(boxes), matches


def covering(watchlists: dict[str, Watchlist], camera: str, area: str | None) -> Watchlist | None:
    """The loaded watchlist whose authorisation covers a stream frame of `camera` (in `area`), if any."""
    names = {camera, f"camera.{camera}"} | ({f"area:{area}"} if area else set())
    for watchlist in watchlists.values():
        if names & watchlist.cameras:
            return watchlist
    return None


def _crop_jpeg(rgb: np.ndarray, box: list[int]) -> bytes | None:
    import cv2

    x, y, w, h = box
    pad = max(w, h) // 2
    crop = rgb[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    return encoded.tobytes() if ok else None


class _Streams:
    """The cameras this worker decodes (integrations.camera.frames), into one bounded queue."""

    def __init__(self, io: Any) -> None:
        from hub.helpers.workers import DropOldestQueue, import_worker_module

        self.io = io
        self.frames_module = import_worker_module("integrations.camera.frames")
        self.queue: Any = DropOldestQueue(STREAM_QUEUE)
        self.readers: dict[str, Any] = {}

    def watch(self, request: dict[str, Any]) -> None:
        frames = self.frames_module
        self.unwatch(request["camera"])
        reader = frames.CameraFrames(frames.FrameRequest(**request), self.queue, self.io.stop, self._state)
        self.readers[request["camera"]] = reader
        reader.start()

    def unwatch(self, camera: str) -> None:
        reader = self.readers.pop(camera, None)
        if reader is not None:
            reader.stop()

    def _state(self, camera: str, available: bool, error: str) -> None:
        self.io.emit({"type": "stream", "camera": camera, "available": available, "error": error})

    def close(self) -> None:
        for camera in list(self.readers):
            self.unwatch(camera)


def _look(engine: Any, watchlists: dict[str, Watchlist], frame: Any, io: Any) -> None:
    """One stream frame: detect (always); embed and compare only under a watchlist covering its camera."""
    import cv2

    rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
    watchlist = covering(watchlists, frame.camera, frame.area)
    if watchlist is None:
        boxes = engine.detect(rgb)
        io.emit({"type": "faces", "camera": frame.camera, "ts": frame.ts, "faces": len(boxes),
                 "boxes": [list(box) for box in boxes]})
        return
    faces, matches = identify(engine, watchlist, rgb)
    io.emit({"type": "faces", "camera": frame.camera, "ts": frame.ts, "faces": faces, "boxes": []})
    if matches:
        for match in matches:
            match["crop_jpeg"] = _crop_jpeg(rgb, match["box"])
        io.emit({"type": "stream_matches", "camera": frame.camera, "area": frame.area, "ts": frame.ts,
                 "authorisation_id": watchlist.authorisation_id, "matches": matches})


def _load(message: dict[str, Any], threshold: float) -> Watchlist:
    persons = message["persons"]
    gallery = np.stack([np.frombuffer(p["embedding"], dtype=np.float32) for p in persons]) if persons \
        else np.zeros((0, 128), dtype=np.float32)
    return Watchlist(message["authorisation_id"], frozenset(message["cameras"]), [p["person_id"] for p in persons],
                     gallery, float(message.get("threshold", threshold)))


def run_face_worker(io: Any, options: dict[str, Any]) -> None:
    """The worker's loop (see the module docstring)."""
    from .engine import EngineError, FaceEngine

    try:
        cache_dir = options.get("cache_dir")
        engine = FaceEngine(upsample=int(options.get("upsample", 1)), jitter=int(options.get("jitter", 0)),
                            embedder=str(options.get("embedder", "onnx")),
                            cache_dir=Path(cache_dir) if cache_dir else None, threads=int(options.get("threads", 1)),
                            mirror=bool(options.get("mirror", True)), fallback=bool(options.get("fallback", True)))
    except EngineError as err:
        io.emit({"type": "fatal", "error": str(err)})
        return
    watchlists: dict[str, Watchlist] = {}
    streams: _Streams | None = None
    io.emit({"type": "ready"})
    try:
        while not io.stopping:
            for message in io.control_messages():
                kind = message.get("type")
                if kind == "load":
                    watchlists[message["authorisation_id"]] = _load(message, float(options.get("threshold", 0.6)))
                    io.emit({"type": "loaded", "authorisation_id": message["authorisation_id"]})
                elif kind == "unload":
                    watchlists.pop(message["authorisation_id"], None)
                    io.emit({"type": "unloaded", "authorisation_id": message["authorisation_id"]})
                elif kind == "watch":
                    streams = streams or _Streams(io)
                    streams.watch(message["request"])
                elif kind == "unwatch" and streams is not None:
                    streams.unwatch(message["camera"])
            item = io.get(_FRAME_POLL if streams is not None else 0.2)
            if item is not None:
                _serve(engine, watchlists, item, io)
            if streams is not None:
                frame = streams.queue.get(0 if item is not None else _FRAME_POLL)
                if frame is not None:
                    _look(engine, watchlists, frame, io)
    finally:
        if streams is not None:
            streams.close()


def _serve(engine: Any, watchlists: dict[str, Watchlist], item: dict[str, Any], io: Any) -> None:
    """One item submitted by the hub (a reference image to enrol, a frame to identify)."""
    if item["kind"] == "enrol":
        boxes = engine.detect_still(item["image"])
        if len(boxes) != 1:
            io.emit({"type": "enrolled", "request_id": item["request_id"],
                     "error": f"the reference image must show exactly one face, it shows {len(boxes)}"})
        else:
            io.emit({"type": "enrolled", "request_id": item["request_id"],
                     "embedding": engine.embed(item["image"], boxes[0]).tobytes()})
        return
    watchlist = watchlists.get(item.get("authorisation_id", ""))
    if watchlist is None or item["camera"] not in watchlist.cameras:
        io.emit({"type": "refused", "frame_id": item["frame_id"],
                 "reason": "no active authorisation covers this camera"})
        return
    faces, matches = identify(engine, watchlist, item["image"], still=True)
    io.emit({"type": "identified", "frame_id": item["frame_id"], "faces": faces, "matches": matches})
