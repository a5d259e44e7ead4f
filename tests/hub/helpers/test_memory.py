"""The allocator limits apply to the hub process (mallopt) and leave the processes it starts alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_CHILD = """
import json, os, subprocess, sys
from hub.helpers.memory import limit_malloc_arenas

applied = limit_malloc_arenas()
# a worker process starts the way multiprocessing's spawn starts one: a new interpreter with os.environ
probe = ("import json, os; "
         "print(json.dumps({k: os.environ.get(k) for k in ('MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_')}))")
worker = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
print(json.dumps({"applied": applied, "worker": json.loads(worker.stdout)}))
"""


def _run(env_extra: dict[str, str]) -> dict[str, dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_extra, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=120,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_limits_apply_here_and_reach_spawned_workers() -> None:
    result = _run({})
    if sys.platform == "linux" and os.path.exists("/lib/x86_64-linux-gnu/libc.so.6"):
        assert result["applied"] == {"MALLOC_ARENA_MAX": 2, "MALLOC_MMAP_THRESHOLD_": 262144}
    # the workers are left as they are (the fixed threshold slows their frame work down)
    assert result["worker"] == {"MALLOC_ARENA_MAX": None, "MALLOC_MMAP_THRESHOLD_": None}


def test_an_operator_setting_wins() -> None:
    result = _run({"MALLOC_ARENA_MAX": "4"})
    if result["applied"]:
        assert result["applied"]["MALLOC_ARENA_MAX"] == 4
    assert result["worker"]["MALLOC_ARENA_MAX"] == "4"  # the operator's environment, passed on untouched
