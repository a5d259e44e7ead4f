"""Tracking plates across frames: one read per vehicle pass, characters voted across frames, direction."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .formats import correct
from .matching import confusion_distance

__all__ = ["PlateTracker", "Track", "TrackObservation", "frame_weight", "vote_characters"]

_IDS = itertools.count(1)


@dataclass(slots=True)
class TrackObservation:
    """One frame's read of the plate a track follows."""

    ts: float
    text: str
    confidences: tuple[float, ...]
    box: tuple[int, int, int, int]
    extra: dict[str, Any] = field(default_factory=dict)  # crop/frame bytes, raw text, format...

    @property
    def mean_confidence(self) -> float:
        return sum(self.confidences) / len(self.confidences) if self.confidences else 0.0


FRAME_WEIGHT_POWER = 4  # a frame's vote grows with its mean confidence to this power...
# ... and with its plate's width relative to the widest in the pass (a nearer plate is sharper)


def frame_weight(obs: TrackObservation, widest: int) -> float:
    """How much one frame's read counts in the vote of its pass: its mean confidence to the 4th power
    (a clear frame outvotes several blurred ones that agree on a misread) times its plate's width as a
    share of the widest plate of the pass (small, distant views count less)."""
    return (obs.mean_confidence or 0.01) ** FRAME_WEIGHT_POWER * (obs.box[2] / max(widest, 1) if widest else 1.0)


def vote_characters(observations: list[TrackObservation]) -> tuple[str, tuple[float, ...]]:
    """Per-character vote over the frames of a pass, each frame weighted by `frame_weight`: among reads of
    the length with the most weight, each position takes the character with the largest sum of weight x
    character confidence; its confidence is its share of those votes (at most the best single frame's)."""
    if not observations:
        return "", ()
    widest = max(o.box[2] for o in observations)
    weights = [frame_weight(o, widest) for o in observations]
    weight_by_len: dict[int, float] = defaultdict(float)
    for obs, weight in zip(observations, weights, strict=True):
        weight_by_len[len(obs.text)] += weight
    length = max(weight_by_len.items(), key=lambda kv: kv[1])[0]
    same = [(o, w) for o, w in zip(observations, weights, strict=True) if len(o.text) == length]
    text = []
    confs = []
    for i in range(length):
        votes: dict[str, float] = defaultdict(float)
        for obs, weight in same:
            conf = obs.confidences[i] if i < len(obs.confidences) else 0.5
            votes[obs.text[i]] += weight * conf
        char, score = max(votes.items(), key=lambda kv: kv[1])
        total = sum(votes.values()) or 1.0
        best_single = max((o.confidences[i] for o, _w in same if o.text[i] == char and i < len(o.confidences)),
                          default=0.5)
        text.append(char)
        confs.append(round(min(best_single, score / total) if len(same) > 1 else best_single, 4))
    return "".join(text), tuple(confs)


@dataclass(slots=True)
class Track:
    """A plate followed through one pass of a vehicle."""

    camera: str
    id: int = field(default_factory=lambda: next(_IDS))
    observations: list[TrackObservation] = field(default_factory=list)
    fired: set[tuple[str, str]] = field(default_factory=set)  # (list, entry plate) hits already raised
    closed: bool = False
    duplicate: bool = False  # the tail of a pass already reported (the plate seen again after a gap)

    @property
    def first_ts(self) -> float:
        return self.observations[0].ts

    @property
    def last_ts(self) -> float:
        return self.observations[-1].ts

    @property
    def last_box(self) -> tuple[int, int, int, int]:
        return self.observations[-1].box

    def voted(self) -> tuple[str, tuple[float, ...]]:
        """The plate text voted over every frame so far, corrected to a format when possible."""
        text, confs = vote_characters(self.observations)
        match = correct(text, confs)
        return (match.text if match is not None else text), confs

    @property
    def confidence(self) -> float:
        _text, confs = vote_characters(self.observations)
        return round(min(confs), 4) if confs else 0.0

    def best(self) -> TrackObservation:
        """The clearest frame (evidence)."""
        return max(self.observations, key=lambda o: (o.mean_confidence, o.box[2]))

    def direction(self, min_move: float = 0.5) -> str:
        """approaching, receding, left, right or unknown, from how the plate moved in the picture
        (by at least `min_move` plate heights)."""
        if len(self.observations) < 2:
            return "unknown"
        x0, y0, w0, h0 = self.observations[0].box
        x1, y1, w1, h1 = self.observations[-1].box
        dx = (x1 + w1 / 2) - (x0 + w0 / 2)
        dy = (y1 + h1 / 2) - (y0 + h0 / 2)
        scale = max(h0, h1, 1)
        if max(abs(dx), abs(dy)) < min_move * scale and abs(w1 - w0) < 0.1 * max(w0, 1):
            return "unknown"
        if abs(dy) >= abs(dx) or abs(w1 - w0) > 0.15 * max(w0, 1):
            grows = w1 > w0 * 1.05
            shrinks = w1 < w0 * 0.95
            if (dy > 0 and not shrinks) or grows:
                return "approaching"
            return "receding"
        return "right" if dx > 0 else "left"


class PlateTracker:
    """Open tracks of one camera; an observation joins the track whose plate text is close (or whose box
    is where the plate should be), else starts a new one. A track closes `timeout` seconds after its
    last sighting."""

    def __init__(self, camera: str, timeout: float, max_text_distance: float = 2.0,
                 dedupe_seconds: float = 10.0, follow_seconds: float = 0.5, follow_share: float = 0.75) -> None:
        self.camera = camera
        self.timeout = timeout
        self.max_text_distance = max_text_distance
        # A plate where the track's plate just was (within follow_seconds, about its size) is the same vehicle
        # unless the reads differ in more than follow_share of their characters: a small plate's per-frame
        # reads differ a lot, and a pass cut into pieces loses the vote over its frames.
        self.follow_seconds = follow_seconds
        self.follow_share = follow_share
        self.dedupe_seconds = dedupe_seconds
        self.tracks: list[Track] = []
        self._recent: list[tuple[float, str]] = []  # (closed at, text) of passes already reported

    def update(self, observations: list[TrackObservation]) -> list[Track]:
        """Add one frame's observations; returns the tracks they went to."""
        touched: list[Track] = []
        for obs in observations:
            track = self._match(obs, exclude=touched)
            if track is None:
                track = Track(self.camera, duplicate=self._seen_recently(obs))
                self.tracks.append(track)
            track.observations.append(obs)
            touched.append(track)
        return touched

    def _seen_recently(self, obs: TrackObservation) -> bool:
        self._recent = [(ts, text) for ts, text in self._recent if obs.ts - ts <= self.dedupe_seconds]
        return any(confusion_distance(obs.text, text) <= 1.0 for _ts, text in self._recent)

    def _match(self, obs: TrackObservation, exclude: list[Track]) -> Track | None:
        best: tuple[float, Track] | None = None
        for track in self.tracks:
            if track in exclude or obs.ts - track.last_ts > self.timeout:
                continue
            text, _ = track.voted()
            distance = confusion_distance(obs.text, text)
            x, y, w, h = track.last_box
            ox, oy, ow, oh = obs.box
            near = abs((ox + ow / 2) - (x + w / 2)) < 1.5 * max(w, ow) and \
                abs((oy + oh / 2) - (y + h / 2)) < 4 * max(h, oh)
            limit = self.max_text_distance
            if near and obs.ts - track.last_ts <= self.follow_seconds and 0.6 <= ow / max(w, 1) <= 1.6:
                limit = max(limit, self.follow_share * max(len(obs.text), len(text)))
            if distance <= limit and (near or distance <= 0.5):
                score = distance - (0.5 if near else 0.0)
                if best is None or score < best[0]:
                    best = (score, track)
        return best[1] if best else None

    def expire(self, now: float) -> list[Track]:
        """Close and return the tracks not seen for `timeout` seconds."""
        done = [t for t in self.tracks if now - t.last_ts > self.timeout]
        for track in done:
            track.closed = True
            self._recent.append((now, track.voted()[0]))
        self.tracks = [t for t in self.tracks if not t.closed]
        return done

    def close_all(self) -> list[Track]:
        """Close every open track (unload)."""
        done, self.tracks = self.tracks, []
        for track in done:
            track.closed = True
        return done
