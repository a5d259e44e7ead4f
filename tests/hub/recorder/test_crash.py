"""A hub killed with SIGKILL keeps every row committed before it died, and the next run notices the crash."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import select

from hub.core import Hub
from hub.recorder import async_setup_recorder
from hub.recorder.models import RecorderRuns

ROOT = Path(__file__).resolve().parents[3]

HUB_SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from hub.core import Hub
    from hub.recorder import async_setup_recorder

    async def main():
        hub = Hub(sys.argv[1])
        await hub.async_start()
        await async_setup_recorder(hub, {"commit_interval": 0.2})
        for i in range(100):
            hub.states.async_set(f"sensor.s{i % 5}", str(i))
        print("written", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
""")


def _state_rows(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM states").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet
            return 0


def test_sigkill_keeps_committed_rows(config_dir: Path) -> None:
    db = config_dir / "hacho.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", HUB_SCRIPT, str(config_dir)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "written"
        deadline = time.monotonic() + 30
        while _state_rows(db) < 100 and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for the 0.2 s interval commit, no flush, no stop
        assert _state_rows(db) == 100
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    async def _restart() -> list[RecorderRuns]:
        hub = Hub(config_dir)
        await hub.async_start()
        recorder = await async_setup_recorder(hub, {})
        try:
            history = await recorder.async_get_history([f"sensor.s{i}" for i in range(5)], 0)
            assert sum(len(states) for states in history.values()) == 100
            runs: list[RecorderRuns] = await recorder.async_db_job(
                lambda s: list(s.execute(select(RecorderRuns).order_by(RecorderRuns.run_id)).scalars())
            )
            return runs
        finally:
            await hub.async_stop()

    crashed, current = asyncio.run(_restart())
    assert crashed.closed_incorrect is True and crashed.end_ts is not None
    assert current.closed_incorrect is False
