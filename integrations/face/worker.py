"""The face worker: detection, embedding and comparison in its own process (hub.helpers.workers).

It starts with no watchlist. The manager sends one (control message `load`) only while an authorisation
covering its cameras is active, and takes it back (`unload`) the moment it is not. A frame for a camera no
loaded watchlist covers is refused without being looked at. An embedding that matches nothing is dropped
where it was computed: it is never sent to the hub, stored or logged.

Items: {"kind": "identify", "frame_id", "camera", "authorisation_id", "image": RGB ndarray}
       {"kind": "enrol", "request_id", "image": RGB ndarray}
Messages: {"type": "ready"}, {"type": "loaded"/"unloaded", "authorisation_id"},
          {"type": "identified", "frame_id", "faces", "matches": [...]} / {"type": "refused", "frame_id", "reason"},
          {"type": "enrolled", "request_id", "embedding" | "error"}, {"type": "fatal", "error"}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Watchlist", "identify", "run_face_worker"]


@dataclass(slots=True)
class Watchlist:
    """The persons of one authorisation, for its cameras only."""

    authorisation_id: str
    cameras: frozenset[str]
    person_ids: list[str]
    gallery: np.ndarray  # one row per person
    threshold: float
    extra: dict[str, Any] = field(default_factory=dict)


def identify(engine: Any, watchlist: Watchlist, rgb: np.ndarray) -> tuple[int, list[dict[str, Any]]]:
    """Faces seen and the matches (person, distance, box, embedding) of one frame against one watchlist.

    Embeddings of faces that match nothing go out of scope here and are never returned."""
    from .engine import distances

    matches: list[dict[str, Any]] = []
    boxes = engine.detect(rgb)
    for box in boxes:
        embedding = engine.embed(rgb, box)
        found = distances(watchlist.gallery, embedding)
        best = int(np.argmin(found)) if len(found) else -1
        if best >= 0 and float(found[best]) <= watchlist.threshold:
            matches.append({"person_id": watchlist.person_ids[best], "distance": float(found[best]),
                            "box": list(box), "embedding": embedding.tobytes()})
        del embedding, found  # a non-match is gone here: nothing of it leaves this function
    return len(boxes), matches


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
        engine = FaceEngine(upsample=int(options.get("upsample", 1)))
    except EngineError as err:
        io.emit({"type": "fatal", "error": str(err)})
        return
    watchlists: dict[str, Watchlist] = {}
    io.emit({"type": "ready"})
    while not io.stopping:
        for message in io.control_messages():
            if message.get("type") == "load":
                watchlists[message["authorisation_id"]] = _load(message, float(options.get("threshold", 0.6)))
                io.emit({"type": "loaded", "authorisation_id": message["authorisation_id"]})
            elif message.get("type") == "unload":
                watchlists.pop(message["authorisation_id"], None)
                io.emit({"type": "unloaded", "authorisation_id": message["authorisation_id"]})
        item = io.get()
        if item is None:
            continue
        if item["kind"] == "enrol":
            boxes = engine.detect(item["image"])
            if len(boxes) != 1:
                io.emit({"type": "enrolled", "request_id": item["request_id"],
                         "error": f"the reference image must show exactly one face, it shows {len(boxes)}"})
            else:
                io.emit({"type": "enrolled", "request_id": item["request_id"],
                         "embedding": engine.embed(item["image"], boxes[0]).tobytes()})
            continue
        watchlist = watchlists.get(item.get("authorisation_id", ""))
        if watchlist is None or item["camera"] not in watchlist.cameras:
            io.emit({"type": "refused", "frame_id": item["frame_id"],
                     "reason": "no active authorisation covers this camera"})
            continue
        faces, matches = identify(engine, watchlist, item["image"])
        io.emit({"type": "identified", "frame_id": item["frame_id"], "faces": faces, "matches": matches})
