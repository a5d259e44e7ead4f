"""Encode the simulated cameras' clips of a site ahead of time (the hub does it on first start otherwise).

    python tools/make_camera_clips.py config/ceuta                     # into the site's clip_dir
    python tools/make_camera_clips.py config/ceuta --face-reference reference.jpg

Patterns come from ffmpeg's test sources; scenes (`scene: face`, `scene: plates`) are rendered by
integrations/simulator/scene_clips.py: the face is the public-domain portrait in integrations/simulator/data, never
an image of the measurement set. `--face-reference` writes that person's photograph, as a case file would hold
it, for a watchlist in a demonstration.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub.config.yaml_loader import load_yaml
from integrations.simulator.camera_clips import ensure_clip
from integrations.simulator.cameras import CAMERAS_SCHEMA, clip_specs
from integrations.simulator.scene_clips import face_reference_jpeg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path, help="the site's config folder (with configuration.yaml)")
    parser.add_argument("--face-reference", type=Path, help="also write the known face's reference photograph here")
    args = parser.parse_args(argv)
    raw = load_yaml(args.site / "configuration.yaml")
    config = CAMERAS_SCHEMA(raw.get("simulator", {}).get("cameras", {}))
    clip_dir = Path(config["clip_dir"])
    clip_dir = clip_dir if clip_dir.is_absolute() else args.site / clip_dir
    for spec in clip_specs(config):
        print(ensure_clip(clip_dir, spec))
    if args.face_reference:
        args.face_reference.write_bytes(face_reference_jpeg())
        print(args.face_reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
