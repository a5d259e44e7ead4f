"""Fuzzy plate matching that forgives OCR confusions (0/O/D/Q, 1/I, 8/B, 5/S, 2/Z) with a configurable
distance, and an index that finds candidates among many entries without comparing against each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

__all__ = ["CONFUSION_GROUPS", "PlateIndex", "canonical", "confusion_distance"]

CONFUSION_GROUPS = ("0ODQ", "1I", "8B", "5S", "2Z")
_CANON = {char: group[0] for group in CONFUSION_GROUPS for char in group}


def canonical(text: str) -> str:
    """The plate with every confusable character replaced by its group's first member."""
    return "".join(_CANON.get(c, c) for c in text)


def confusion_distance(a: str, b: str, confusion_cost: float = 0.25) -> float:
    """Edit distance where swapping confusable characters costs `confusion_cost` and any other
    substitution, insertion or deletion costs 1."""
    if a == b:
        return 0.0
    previous = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        current = [float(i)]
        for j, cb in enumerate(b, 1):
            if ca == cb:
                sub = 0.0
            elif _CANON.get(ca, ca) == _CANON.get(cb, cb):
                sub = confusion_cost
            else:
                sub = 1.0
            current.append(min(previous[j] + 1.0, current[j - 1] + 1.0, previous[j - 1] + sub))
        previous = current
    return previous[-1]


def _deletions(text: str, depth: int) -> set[str]:
    out = {text}
    for n in range(1, min(depth, len(text) - 1) + 1):
        for drop in combinations(range(len(text)), n):
            out.add("".join(c for i, c in enumerate(text) if i not in drop))
    return out


@dataclass(frozen=True, slots=True)
class IndexMatch:
    """An indexed key close to a read, and how close."""

    key: str
    distance: float


class PlateIndex:
    """Keys (normalised plates) indexed by the deletion neighbourhood of their canonical form, so a
    lookup costs a few dictionary probes whatever the number of keys (symmetric-delete search)."""

    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self._keys: set[str] = set()
        self._by_variant: dict[str, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        if key in self._keys:
            return
        self._keys.add(key)
        for variant in _deletions(canonical(key), self.depth):
            self._by_variant[variant].add(key)

    def discard(self, key: str) -> None:
        if key not in self._keys:
            return
        self._keys.discard(key)
        for variant in _deletions(canonical(key), self.depth):
            keys = self._by_variant.get(variant)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_variant[variant]

    def update(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.add(key)

    def search(self, text: str, max_distance: float, confusion_cost: float = 0.25) -> list[IndexMatch]:
        """Keys within `max_distance` of `text`, closest first."""
        depth = min(self.depth, int(max_distance))
        candidates: set[str] = set()
        for variant in _deletions(canonical(text), depth):
            candidates.update(self._by_variant.get(variant, ()))
        matches = []
        for key in candidates:
            distance = confusion_distance(text, key, confusion_cost)
            if distance <= max_distance + 1e-9:
                matches.append(IndexMatch(key, distance))
        matches.sort(key=lambda m: (m.distance, m.key))
        return matches
