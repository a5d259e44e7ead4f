"""Hotspot tracks per preset: association, persistence, motion and growth tests, alarms and clears.

A track turns into an alarm when it was seen in `persistence` of the last `window` frames of its
preset, over at least `min_span_s` seconds (with a scanning camera: on two visits of the preset),
its centroid stays steady (glint sparkles and noise hop around inside the association gate),
if it has been watched for more than `growth_window_s` it must be growing (the growth test),
and it does not move: vehicles and ships drift across the image or are gone by the next visit,
while a young fire stays put and grows. On water, persistence doubles; on water and along the
coast a third of the drift speed already counts as moving (ships are slow in the image).
Alarmed tracks report updates and clear after `clear_frames` frames unseen.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .detection import DetectionProfile, Hotspot

__all__ = ["Observation", "Track", "TrackEvent", "Tracker"]

HISTORY = 120
UPDATE_EVERY = 10  # frames between update reports of an alarmed track
MIN_DRIFT_PX = 1.5  # below this total displacement a track is not called moving (a growing fire's
# centroid may step by a pixel; vehicles and ships move several between visits)


@dataclass(slots=True)
class Observation:
    """A track's hotspot in one frame."""

    seq: int
    ts: float
    spot: Hotspot


@dataclass(slots=True)
class Track:
    """One hotspot followed over the frames of one preset."""

    track_id: int
    history: deque[Observation] = field(default_factory=lambda: deque(maxlen=HISTORY))
    hit_seqs: deque[int] = field(default_factory=lambda: deque(maxlen=HISTORY))
    alarmed: bool = False
    alarm_seq: int | None = None
    moving: bool = False
    suppressed: bool = False
    misses: int = 0
    last_update_seq: int = 0
    vel: tuple[float, float] = (0.0, 0.0)  # cached velocity(), refreshed on every hit

    @property
    def last(self) -> Observation:
        """The latest observation."""
        return self.history[-1]

    def velocity(self) -> tuple[float, float]:
        """Centroid drift in pixels per frame (least squares over the last 8 observations)."""
        obs = list(self.history)[-8:]
        if len(obs) < 2:
            return 0.0, 0.0
        seq = np.array([o.seq for o in obs], dtype=np.float64)
        if np.ptp(seq) == 0:
            return 0.0, 0.0
        seq -= seq.mean()
        denom = float((seq * seq).sum())
        us = np.array([o.spot.u for o in obs])
        vs = np.array([o.spot.v for o in obs])
        return float((seq * (us - us.mean())).sum() / denom), float((seq * (vs - vs.mean())).sum() / denom)

    def drift(self) -> float:
        """Distance between the first and last of the recent observations (pixels)."""
        obs = list(self.history)[-8:]
        return math.hypot(obs[-1].spot.u - obs[0].spot.u, obs[-1].spot.v - obs[0].spot.v)

    def jitter(self) -> float:
        """RMS scatter (pixels) of the recent centroids about their mean: a fire sits still, glint
        sparkles and noise land somewhere else within the association gate every frame."""
        obs = list(self.history)[-8:]
        if len(obs) < 2:
            return 0.0
        us = np.array([o.spot.u for o in obs])
        vs = np.array([o.spot.v for o in obs])
        return float(math.sqrt(us.var() + vs.var()))

    def growth_per_min(self) -> float:
        """Relative growth of the radiance excess per minute (0.5 = +50 %/min), over the history."""
        obs = list(self.history)
        if len(obs) < 2:
            return 0.0
        ts = np.array([o.ts for o in obs])
        if np.ptp(ts) <= 0:
            return 0.0
        energy = np.log(np.maximum(np.array([o.spot.energy for o in obs]), 1e-12))
        ts = ts - ts.mean()
        slope = float((ts * (energy - energy.mean())).sum() / (ts * ts).sum())
        return math.expm1(slope * 60.0)

    def hits_in_window(self, seq: int, window: int) -> int:
        """Hits in the last `window` frames up to `seq`."""
        return sum(1 for s in self.hit_seqs if seq - window < s <= seq)

    def confidence(self, profile: DetectionProfile) -> float:
        """0..1: 0.6 for a hotspot that passed every alarm test, more for persistence, contrast, the
        absolute test and growth, less on water (a ship?) or along the coast."""
        spot = self.last.spot
        conf = 0.6
        conf += min(0.1, 0.05 * max(0, len(self.hit_seqs) - profile.persistence))
        conf += min(0.1, 0.1 * spot.excess_k / max(1.0, 4.0 * profile.context_min_k))
        if spot.absolute:
            conf += 0.1
        if self.growth_per_min() > 0.2:
            conf += 0.1
        if spot.water:
            conf -= 0.3
        elif spot.coast:
            conf -= 0.1
        return round(max(0.0, min(1.0, conf)), 3)

    def history_summary(self, limit: int = 20) -> list[dict[str, Any]]:
        """The last observations as small dicts (time, centroid, peak, pixels, energy)."""
        return [
            {
                "ts": o.ts,
                "u": round(o.spot.u, 2),
                "v": round(o.spot.v, 2),
                "peak_k": round(o.spot.peak_k, 1),
                "pixels": o.spot.pixels,
                "energy": o.spot.energy,
            }
            for o in list(self.history)[-limit:]
        ]


@dataclass(slots=True)
class TrackEvent:
    """What a frame changed: an alarm, an update of an alarmed track, or a clear."""

    kind: str  # "alarm" | "update" | "clear"
    track: Track


class Tracker:
    """The tracks of one preset."""

    def __init__(self) -> None:
        self.tracks: dict[int, Track] = {}
        self._next_id = 1
        self.seq = 0

    def _associate(self, spots: list[Hotspot]) -> list[tuple[Hotspot, Track | None]]:
        """Greedy nearest-first matching of hotspots to predicted track positions within a gate."""
        live = list(self.tracks.values())
        if not spots or not live:
            return [(spot, None) for spot in spots]
        pred = np.empty((len(live), 2))
        track_px = np.empty(len(live))
        for j, track in enumerate(live):
            gap = self.seq - track.last.seq
            vu, vv = track.vel
            pred[j] = (track.last.spot.u + vu * gap, track.last.spot.v + vv * gap)
            track_px[j] = track.last.spot.pixels
        pos = np.array([(s.u, s.v) for s in spots])
        spot_px = np.array([s.pixels for s in spots], dtype=np.float64)
        dist = np.hypot(pos[:, 0:1] - pred[None, :, 0], pos[:, 1:2] - pred[None, :, 1])
        gate = 3.0 + 0.5 * np.sqrt(np.maximum(spot_px[:, None], track_px[None, :]))
        si, tj = np.nonzero(dist <= gate)
        order = np.argsort(dist[si, tj], kind="stable")
        used_spots: set[int] = set()
        used_tracks: set[int] = set()
        result: list[tuple[Hotspot, Track | None]] = []
        for k in order:
            i, j = int(si[k]), int(tj[k])
            if i in used_spots or j in used_tracks:
                continue
            used_spots.add(i)
            used_tracks.add(j)
            result.append((spots[i], live[j]))
        result.extend((spot, None) for i, spot in enumerate(spots) if i not in used_spots)
        return result

    def update(self, ts: float, spots: list[Hotspot], profile: DetectionProfile) -> list[TrackEvent]:
        """Feed one frame's hotspots; returns the alarms, updates and clears it causes."""
        self.seq += 1
        seq = self.seq
        events: list[TrackEvent] = []
        seen: set[int] = set()
        for spot, found in self._associate(spots):
            track = found
            if track is None:
                track = Track(self._next_id)
                self._next_id += 1
                self.tracks[track.track_id] = track
            track.history.append(Observation(seq, ts, spot))
            track.hit_seqs.append(seq)
            track.misses = 0
            seen.add(track.track_id)
            vu, vv = track.vel = track.velocity()
            speed_limit = profile.max_motion_px / (3.0 if spot.coast else 1.0)
            if (
                not track.alarmed
                and len(track.history) >= 2
                and math.hypot(vu, vv) > speed_limit
                and track.drift() > MIN_DRIFT_PX
            ):
                track.moving = True
            if track.suppressed or track.moving:
                continue
            factor = profile.water_persistence_factor if spot.water else 1
            steady = track.jitter() <= profile.max_jitter_px + 0.15 * math.sqrt(spot.pixels)
            age = ts - track.history[0].ts
            # growth test: a hotspot watched for minutes without alarming must be growing to alarm
            # now (a slowly heating rock is not; a fire found late still is)
            growing = (
                age < profile.growth_window_s or spot.absolute or track.growth_per_min() >= profile.min_growth_per_min
            )
            persistent = (
                track.hits_in_window(seq, profile.window * factor) >= profile.persistence * factor
                and age >= profile.min_span_s
                and steady
                and growing
            )
            if not track.alarmed and persistent:
                track.alarmed = True
                track.alarm_seq = seq
                track.last_update_seq = seq
                events.append(TrackEvent("alarm", track))
            elif track.alarmed and seq - track.last_update_seq >= UPDATE_EVERY:
                track.last_update_seq = seq
                events.append(TrackEvent("update", track))
        for tid in list(self.tracks):
            if tid in seen:
                continue
            track = self.tracks[tid]
            track.misses += 1
            if track.alarmed and not track.suppressed:
                if track.misses >= profile.clear_frames:
                    events.append(TrackEvent("clear", track))
                    del self.tracks[tid]
            elif track.misses >= max(profile.window, 2) * (4 if track.suppressed else 1):
                del self.tracks[tid]
        return events

    def protected_boxes(self, margin: int = 3) -> list[tuple[int, int, int, int]]:
        """Boxes kept out of the reference image: alarmed tracks, and static tracks seen twice lately.

        Without this a young fire seen on one visit would be half absorbed into the reference
        and its rise, measured against it on the next visit, would shrink.
        """
        boxes = []
        for track in self.tracks.values():
            recent = track.hits_in_window(self.seq, 8) >= 2 and not track.moving
            if track.alarmed or recent:
                c0, r0, c1, r1 = track.last.spot.bbox
                boxes.append((max(0, c0 - margin), max(0, r0 - margin), c1 + margin, r1 + margin))
        return boxes
