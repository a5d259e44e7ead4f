"""The hub process imports heavy libraries only where they run: importing every integration (what the hub does
at setup) loads neither OpenCV, onnxruntime nor scipy; the worker processes and the simulators load them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("cv2", "onnxruntime", "scipy")


def test_importing_the_hub_and_every_integration_loads_no_heavy_library() -> None:
    integrations = sorted(p.parent.name for p in (ROOT / "integrations").glob("*/manifest.json"))
    evidence = [name for name in integrations if (ROOT / "integrations" / name / "evidence.py").is_file()]
    code = (
        "import importlib, json, sys\n"
        "import hub.bootstrap, automations, frontend\n"
        f"for name in {integrations!r}:\n"
        "    importlib.import_module(f'integrations.{name}')\n"
        f"for name in {evidence!r}:\n"  # the hub imports every evidence platform at setup (alarm providers)
        "    importlib.import_module(f'integrations.{name}.evidence')\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(integrations) > 5 and "face" in evidence
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
