"""One read per pass: characters voted across frames, association by text and position, direction."""

from __future__ import annotations

from integrations.anpr.tracking import PlateTracker, TrackObservation, vote_characters


def _obs(ts: float, text: str, box: tuple[int, int, int, int], conf: float = 0.9) -> TrackObservation:
    return TrackObservation(ts, text, tuple([conf] * len(text)), box)


def test_characters_are_voted_across_frames() -> None:
    observations = [
        _obs(0.0, "1234BCD", (100, 100, 120, 26)),
        _obs(0.2, "1284BCD", (100, 110, 124, 27), conf=0.6),  # one misread character
        _obs(0.4, "1234BC0", (100, 120, 130, 28), conf=0.7),  # another one elsewhere
        _obs(0.6, "234BCD", (100, 130, 134, 29)),  # a character lost at the edge
    ]
    text, confs = vote_characters(observations)
    assert text == "1234BCD"
    assert len(confs) == 7 and min(confs) > 0.5


def test_one_track_per_vehicle_and_timeout() -> None:
    tracker = PlateTracker("cam", timeout=1.0)
    first = tracker.update([_obs(0.0, "1234BCD", (100, 400, 120, 26)), _obs(0.0, "9999XYZ", (700, 200, 60, 13))])
    assert len(first) == 2
    again = tracker.update([_obs(0.3, "I234BCD", (104, 430, 130, 28)), _obs(0.3, "9999XYZ", (700, 215, 64, 14))])
    assert again == first  # same vehicles, same tracks (an I read for the 1 is still the same plate)
    assert tracker.expire(1.0) == []
    closed = tracker.expire(1.5)
    assert {t.voted()[0] for t in closed} == {"1234BCD", "9999XYZ"}
    assert tracker.tracks == []


def test_a_different_plate_in_the_same_place_is_a_new_track() -> None:
    tracker = PlateTracker("cam", timeout=1.0)
    [a] = tracker.update([_obs(0.0, "1234BCD", (100, 400, 120, 26))])
    [b] = tracker.update([_obs(0.2, "5678FGH", (100, 402, 120, 26))])
    assert a is not b


def test_direction_of_travel() -> None:
    tracker = PlateTracker("cam", timeout=1.0)
    [coming] = tracker.update([_obs(0.0, "1234BCD", (600, 200, 60, 13))])
    tracker.update([_obs(0.5, "1234BCD", (590, 400, 110, 24))])
    assert coming.direction() == "approaching"
    [going] = tracker.update([_obs(0.0, "5678FGH", (100, 600, 120, 26))])
    tracker.update([_obs(0.5, "5678FGH", (110, 300, 70, 15))])
    assert going.direction() == "receding"
    [still] = tracker.update([_obs(0.0, "1111BBB", (900, 300, 100, 22))])
    assert still.direction() == "unknown"


def test_the_tail_of_a_reported_pass_is_not_a_new_vehicle() -> None:
    """The plate seen again after a gap (leaving the picture) is marked duplicate, not a second pass."""
    tracker = PlateTracker("cam", timeout=0.4, dedupe_seconds=5.0)
    [first] = tracker.update([_obs(0.0, "1234BCD", (100, 400, 120, 26))])
    assert tracker.expire(0.5) == [first] and not first.duplicate
    [tail] = tracker.update([_obs(1.0, "1234BC", (100, 690, 150, 30))])
    assert tail is not first and tail.duplicate
    [other] = tracker.update([_obs(1.0, "5678FGH", (500, 300, 100, 22))])
    assert not other.duplicate
    tracker.expire(2.0)
    [later] = tracker.update([_obs(8.0, "1234BCD", (100, 400, 120, 26))])
    assert not later.duplicate  # long after: the same car coming back


def test_a_clear_near_frame_outvotes_blurred_distant_ones_agreeing_on_a_misread() -> None:
    """Approaching: three small, unsure frames read the Y as L; two larger, sure frames read it right."""
    observations = [
        _obs(0.0, "1542PLC", (100, 100, 28, 7), conf=0.72),
        _obs(0.1, "1542PLC", (100, 104, 30, 7), conf=0.75),
        _obs(0.2, "1542PLC", (100, 108, 32, 8), conf=0.8),
        _obs(0.3, "1542PYC", (100, 112, 36, 8), conf=0.95),
        _obs(0.4, "1542PYC", (100, 116, 38, 9), conf=0.93),
    ]
    assert vote_characters(observations)[0] == "1542PYC"
    assert vote_characters(observations[:3])[0] == "1542PLC"  # alone, they would win


def test_garbled_reads_of_a_small_plate_where_the_track_just_was_stay_in_its_pass() -> None:
    tracker = PlateTracker("cam", timeout=1.0)
    [track] = tracker.update([_obs(0.0, "1542PYC", (100, 100, 30, 7), conf=0.7)])
    # four characters differ (a distant plate), but the box is where the plate was, a frame later
    assert tracker.update([_obs(0.125, "1541FLC", (101, 104, 31, 7), conf=0.6)]) == [track]
    # the same garbling far away, or long after, is not this vehicle
    [other] = tracker.update([_obs(0.25, "1541FLC", (600, 300, 31, 7), conf=0.6)])
    assert other is not track
    [later] = tracker.update([_obs(0.9, "9941FLX", (101, 108, 31, 7), conf=0.6)])
    assert later is not track
