"""The words the screens show for values the hub stores as identifiers: roles, alarm states and severities,
device kinds and states, audit actions... Each is a catalogue msgid, so the `label` filter (and `t()` in
the scripts, frontend/static/js/hacho.js `LABELS`) shows it in the reader's language."""

from __future__ import annotations

from typing import Final

from .i18n import N_

__all__ = ["UNIT_WORDS", "VOCABULARY"]

VOCABULARY: Final = frozenset({
    # roles
    N_("admin"), N_("supervisor"), N_("operator"), N_("engineer"), N_("agency"),
    # alarm severities and states
    N_("critical"), N_("major"), N_("minor"), N_("warning"), N_("info"),
    N_("raised"), N_("acknowledged"), N_("in_progress"), N_("resolved"), N_("cleared"), N_("closed"),
    # device kinds
    N_("bollard"), N_("panel"), N_("sensor"), N_("camera"), N_("fire"),
    # device states ("kind:state" where the word means something else for an alarm)
    N_("bollard:raised"),
    N_("on"), N_("off"), N_("unavailable"), N_("unknown"), N_("lowered"), N_("raising"), N_("lowering"),
    N_("fault"), N_("displaying"), N_("blank"), N_("streaming"), N_("recording"), N_("connected"),
    N_("disconnected"), N_("scanning"), N_("starting"),
    # bollard commands
    N_("raise"), N_("lower"), N_("emergency_lower"),
    # panel priorities and alignment
    N_("information"), N_("traffic"), N_("security"), N_("emergency"), N_("center"), N_("left"), N_("right"),
    # automation modes and runs
    N_("single"), N_("restart"), N_("queued"), N_("parallel"),
    N_("running"), N_("finished"), N_("failed_conditions"), N_("failed_max_runs"), N_("aborted"),
    N_("cancelled"), N_("error"), N_("stopped"), N_("abandoned"),
    # incidents: status and the kinds of their timeline's items; the shift log's hand-over
    N_("open"), N_("created"), N_("alarm"), N_("note"), N_("plate_read"), N_("document"), N_("clip"),
    N_("update"), N_("handover"),
    # an ANPR hit's review
    N_("pending"), N_("accepted"), N_("rejected"),
    # audit actions and outcomes
    N_("login"), N_("login_failed"), N_("logout"), N_("command"), N_("command_denied"), N_("export"),
    N_("view_sensitive"), N_("user_change"), N_("token_change"), N_("ok"), N_("denied"), N_("failed"),
})

# Units that are words (counts of things), shown in the reader's language; symbols (km/h, °C, %) stay.
UNIT_WORDS: Final = frozenset({N_("vehicles"), N_("vehicles/h"), N_("entries")})
