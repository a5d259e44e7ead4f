"""Constants of the face integration: purposes, statuses, services, events (see docs/face.md)."""

from __future__ import annotations

import enum
from typing import Final

__all__ = [
    "CACHE_DIR",
    "CLIP_LOCK_MARGIN",
    "DEFAULT_MAX_HOURS",
    "DEFAULT_THRESHOLD",
    "DOMAIN",
    "EMBEDDERS",
    "EVENT_MATCH_VERIFIED",
    "HARD_MAX_HOURS",
    "URGENT_HOURS",
    "AuthorisationStatus",
    "MatchStatus",
    "Purpose",
    "Use",
]

DOMAIN: Final = "face"

# The only event automations can see: fired once two distinct operators verified a candidate match.
EVENT_MATCH_VERIFIED: Final = "face_match_verified"

URGENT_HOURS: Final = 24.0  # AI Act art. 5(3): urgent use, authorisation requested within 24 h
DEFAULT_MAX_HOURS: Final = 48.0  # longest authorisation a site accepts unless configured lower/higher
HARD_MAX_HOURS: Final = 168.0  # "hours, not months": no configuration goes beyond a week
# dlib's documented operating point for its ResNet (0.6 Euclidean distance). Not tuned on the measurement set.
DEFAULT_THRESHOLD: Final = 0.6
CLIP_LOCK_MARGIN: Final = 60.0  # seconds of recording locked either side of a candidate match
# The ResNet's runtimes (docs/face.md "Models and licences"): onnxruntime (default) or dlib's own.
EMBEDDERS: Final = ("onnx", "dlib")
# The converted ResNet (derived from the installed .dat, keyed by its sha256), inside the config dir.
CACHE_DIR: Final = ("storage", "face_models")

SERVICE_AUTHORISATION_CREATE: Final = "authorisation_create"
SERVICE_AUTHORISATION_CONFIRM: Final = "authorisation_confirm"
SERVICE_AUTHORITY_CONFIRM: Final = "authorisation_authority_confirm"
SERVICE_AUTHORISATION_REFUSE: Final = "authorisation_refuse"
SERVICE_WATCHLIST_ADD: Final = "watchlist_add"
SERVICE_IDENTIFY: Final = "identify"
SERVICE_MATCH_CANDIDATES: Final = "match_candidates"
SERVICE_MATCH_VERIFY: Final = "match_verify"
SERVICE_MATCH_REJECT: Final = "match_reject"
SERVICE_REPORT: Final = "report"
SERVICE_BLUR: Final = "blur"
SERVICE_CHECK: Final = "check_authorisations"


class Purpose(enum.StrEnum):
    """The three purposes of AI Act art. 5(1)(h); nothing else can be entered."""

    VICTIM_SEARCH = "victim_search"  # (i) targeted search for specific victims (abduction, trafficking,
    #     sexual exploitation) and missing persons
    THREAT_PREVENTION = "threat_prevention"  # (ii) a specific, substantial and imminent threat to life or
    #      physical safety, or a genuine and present or foreseeable threat of a terrorist attack
    SUSPECT_LOCALISATION = "suspect_localisation"  # (iii) locating or identifying a suspect of a criminal
    #       offence of Annex II punishable by at least four years


class Use(enum.StrEnum):
    """Whether the authorisation covers live frames only or also past recordings (retrospective use)."""

    REAL_TIME = "real_time"
    RETROSPECTIVE = "retrospective"


class AuthorisationStatus(enum.StrEnum):
    """Where an authorisation stands."""

    PENDING = "pending"  # entered; waits for a second person's confirmation
    CONFIRMED = "confirmed"  # confirmed by a second person; active between its start and end
    URGENT = "urgent"  # urgent mode: active at once, lapses 24 h after entry unless the authority confirms
    REFUSED = "refused"  # the authority refused it: everything made under it was deleted
    LAPSED = "lapsed"  # urgent, and the authority's confirmation never came: everything deleted


class MatchStatus(enum.StrEnum):
    """A candidate match waits for two distinct operators."""

    CANDIDATE = "candidate"
    VERIFIED = "verified"
    REJECTED = "rejected"
