"""Shadow reading: a candidate recogniser reads live traffic beside the model in use for a while.

The camera workers read every accepted plate crop a second time with the candidate; the manager votes the
candidate's reads over each vehicle pass as it votes the current ones, and counts per camera how often
the two agree. The candidate's reads are never matched against the hotlists, stored or sent in events:
only the counts are kept, and written beside the model (its metrics file, section `shadow`) when the run
ends. No plate text goes into the report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .formats import correct
from .tracking import Track, TrackObservation, vote_characters

__all__ = ["ShadowRun", "shadow_vote"]

SHADOW_KEY = "shadow"  # the candidate's read of one observation, in TrackObservation.extra


def shadow_vote(track: Track) -> str:
    """The candidate's read of a pass: its per-frame reads voted like the current ones ('' if none)."""
    observations = []
    for obs in track.observations:
        read = obs.extra.get(SHADOW_KEY)
        if not read or not read.get("text"):
            continue
        text = read["text"]
        confs = tuple(read.get("char_confidences") or ())
        if len(confs) != len(text):
            confs = tuple([float(read.get("confidence", 0.5))] * len(text))
        observations.append(TrackObservation(obs.ts, text, confs, obs.box))
    text, confs = vote_characters(observations)
    match = correct(text, confs) if text else None
    return match.text if match is not None else text


@dataclass(slots=True)
class ShadowRun:
    """A candidate model reading beside the current one from `started` to `until` (epoch seconds)."""

    model: str  # relative to the config dir
    started: float
    until: float
    by: str | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, camera: str, track: Track, current: str) -> None:
        """Count one vehicle pass that the current model read as `current`."""
        candidate = shadow_vote(track)
        tally = self.counts[camera]
        tally["passes"] += 1
        if not candidate:
            tally["candidate_unread"] += 1
        elif candidate == current:
            tally["agree"] += 1
        else:
            tally["differ"] += 1

    def report(self, ended: float) -> dict[str, Any]:
        """Counts overall and per camera (no plate text), for the model's metrics file and the event."""
        keys = ("passes", "agree", "differ", "candidate_unread")
        total = {k: sum(c.get(k, 0) for c in self.counts.values()) for k in keys}
        return {
            "model": self.model,
            "started": round(self.started, 3),
            "ended": round(ended, 3),
            "by": self.by,
            **total,
            "agreement": round(total["agree"] / total["passes"], 4) if total["passes"] else None,
            "by_camera": {cam: {k: c.get(k, 0) for k in keys} for cam, c in sorted(self.counts.items())},
        }
