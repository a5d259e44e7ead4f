"""A copy of the bundled Ceuta site for tests that run it whole (two sites on one broker, the API fuzzed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SITE", "copy_ceuta"]

SITE = Path(__file__).resolve().parents[1] / "config" / "ceuta"


def _without_blocks(text: str, keys: Iterable[str]) -> str:
    """`text` of a YAML file without the top-level `key:` blocks named (up to the next top-level key)."""
    wanted = tuple(f"{key}:" for key in keys)
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = line.startswith(wanted)
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def copy_ceuta(dest: Path, *, site: str | None = None, seed: int | None = None,
               sections_left_out: Iterable[str] = (), anpr_cameras: bool = True) -> Path:
    """Copy config/ceuta to `dest` (nothing the running site wrote) and adjust it.

    `site` replaces the site id, `seed` the simulator's seed (and the simulator then removes what it
    retained on the broker when it stops), `sections_left_out` drops sections of configuration.yaml,
    and `anpr_cameras=False` keeps the ANPR lists and API without the cameras and their workers.
    """
    shutil.copytree(SITE, dest, ignore=shutil.ignore_patterns("secrets.yaml", ".storage", "storage", "*.db*", "media",
                                                        "*.log"))
    configuration = dest / "configuration.yaml"
    text = _without_blocks(configuration.read_text(encoding="utf-8"), sections_left_out)
    if site is not None:
        text = text.replace("  site: ceuta\n", f"  site: {site}\n")
    configuration.write_text(text, encoding="utf-8")
    if seed is not None:
        simulator = dest / "devices" / "simulator.yaml"
        text = simulator.read_text(encoding="utf-8").replace("seed: 2026", f"seed: {seed}\nremove_on_stop: true")
        simulator.write_text(text, encoding="utf-8")
    if not anpr_cameras:
        anpr = dest / "anpr.yaml"
        anpr.write_text(_without_blocks(anpr.read_text(encoding="utf-8"), ("cameras", "journeys")), encoding="utf-8")
    return dest
