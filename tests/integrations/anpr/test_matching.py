"""Fuzzy matching tolerant to OCR confusions, and the index that finds candidates quickly."""

from __future__ import annotations

import random

import pytest

from integrations.anpr.matching import PlateIndex, canonical, confusion_distance


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("1234BCD", "1234BCD", 0.0),
        ("1234BCD", "I234BCD", 0.25),  # 1/I
        ("1234BCD", "1234BC0", 0.25),  # D/0
        ("1234BCD", "1234BCQ", 0.25),  # D/Q
        ("1234BCD", "1234BCO", 0.25),  # D/O
        ("8234BCD", "B234BCD", 0.25),  # 8/B
        ("5234BCD", "S234BCD", 0.25),  # 5/S
        ("2234BCD", "Z234BCD", 0.25),  # 2/Z
        ("1234BCD", "1234BCF", 1.0),  # not a confusion
        ("1234BCD", "234BCD", 1.0),  # a character lost
        ("1234BCD", "I234BC0", 0.5),
    ],
)
def test_confusion_distance(a: str, b: str, distance: float) -> None:
    assert confusion_distance(a, b) == pytest.approx(distance)
    assert confusion_distance(b, a) == pytest.approx(distance)


def test_confusion_cost_is_configurable() -> None:
    assert confusion_distance("1234BCD", "I234BC0", confusion_cost=0.0) == 0.0
    assert confusion_distance("1234BCD", "I234BC0", confusion_cost=1.0) == 2.0


def test_canonical_merges_confusion_groups() -> None:
    assert canonical("OD0Q") == "0000"
    assert canonical("I1B8S5Z2") == "11885522"


def test_index_search_respects_the_distance() -> None:
    index = PlateIndex(depth=1)
    index.update(["1234BCD", "9876XYZ", "CE1234AB"])
    assert [m.key for m in index.search("I234BC0", 0.5)] == ["1234BCD"]
    assert index.search("1234BCF", 0.5) == []
    assert [m.key for m in index.search("1234BCF", 1.0)] == ["1234BCD"]
    assert [m.key for m in index.search("CE1234A", 1.0)] == ["CE1234AB"]
    index.discard("1234BCD")
    assert index.search("1234BCD", 1.0) == []


def test_index_finds_what_brute_force_finds() -> None:
    rng = random.Random(7)
    alphabet = "0123456789BCDFGHJKLMNPRSTVWXYZOIQ"
    keys = ["".join(rng.choice(alphabet) for _ in range(7)) for _ in range(800)]
    index = PlateIndex(depth=1)
    index.update(keys)
    for _ in range(40):
        base = rng.choice(keys)
        query = list(base)
        query[rng.randrange(7)] = rng.choice(alphabet)
        text = "".join(query)
        expected = sorted(k for k in set(keys) if confusion_distance(text, k) <= 1.0)
        assert sorted(m.key for m in index.search(text, 1.0)) == expected
