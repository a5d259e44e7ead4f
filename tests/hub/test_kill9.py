"""Acknowledged means durable, and no worker outlives the hub: a real hub killed with SIGKILL, five times.

Each run starts `hacho run` on a temporary site (SQLite, one thermal tower), raises alarms, sends agency
alerts and reads the audit log as fast as it can over the REST API (every alarm.raise and every read of
the audit log is also an audit entry), and kills the hub with SIGKILL right after the last answer. Then,
with the hub dead, the database must hold every alarm, every audit entry and every outbox row that was
acknowledged, and no process the hub started (the tower's worker, the resource tracker) may still run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import free_port
from tests.hub.test_bootstrap import hacho, wait_for, wait_running, write_site
from tests.processes import descendants, survivors

ROOT = Path(__file__).resolve().parents[2]
RUNS = 5
RAISES = 40
NOTIFIES = 10
VIEWS = 10  # GET /api/audit, itself audited (view_sensitive)
CONCURRENCY = 16

SITE = """\
alarm:
  types:
    - id: intrusion
      name: Intrusion
      severity: major
agencies:
  agencies:
    - id: fire_brigade
      name: Bomberos
      url: http://127.0.0.1:{agency_port}/nobody-listens
      formats: [json]
      secret: kill9-test-secret
      max_attempts: 50
      backoff_base: 600
thermal_fire:
  towers:
    - id: hacho
      name: Monte Hacho
      lat: 35.8966
      lon: -5.2930
      height_m: 30
      camera: {{source: simulator, width: 64, height: 48, queue_size: 2}}
      presets: [{{name: west, pan: 262, tilt: -2, dwell_s: 3}}]
  simulator: {{terrain_arcsec: 10, seed: 3, vehicles: 0, ships: 0}}
"""


async def _burst(port: int, token: str, run: int) -> tuple[list[str], list[str], list[str]]:
    """Raise alarms and notify the agency concurrently; returns acknowledged alarm ids, audit markers and
    outbox message ids."""
    url = f"http://127.0.0.1:{port}/api/services"
    headers = {"Authorization": f"Bearer {token}"}
    alarms: list[str] = []
    markers: list[str] = []
    messages: list[str] = []
    jobs = [("alarm", "raise", {"type": "intrusion", "message": f"kill9-{run}-{i}"}) for i in range(RAISES)]
    jobs += [("agency", "notify", {"agency_id": "fire_brigade", "event": f"kill9-{run}-n{i}",
                                   "headline": "test"}) for i in range(NOTIFIES)]
    jobs += [("audit", "view", {"action": f"kill9-{run}-v{i}"}) for i in range(VIEWS)]
    jobs.sort(key=lambda job: hash(json.dumps(job[2])))  # interleave the two kinds
    queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async with aiohttp.ClientSession(headers=headers) as session:
        async def _client() -> None:
            while not queue.empty():
                domain, service, data = queue.get_nowait()
                if domain == "audit":
                    async with session.get(f"http://127.0.0.1:{port}/api/audit", params=data) as resp:
                        assert resp.status == 200, await resp.text()
                    markers.append(data["action"])
                    continue
                async with session.post(f"{url}/{domain}/{service}?return_response", json=data) as resp:
                    assert resp.status == 200, await resp.text()
                    body = await resp.json()
                response = body.get("service_response", body)
                if domain == "alarm":
                    alarms.append(response["alarm_id"])
                    markers.append(data["message"])
                else:
                    messages.extend(m["message_id"] for m in response["messages"])

        await asyncio.gather(*(_client() for _ in range(CONCURRENCY)))
    return alarms, markers, messages


def _found(db: Path, alarms: list[str], markers: list[str], messages: list[str]) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        stored_alarms = {row[0] for row in conn.execute("SELECT alarm_id FROM alarms")}
        audit_data = [row[0] for row in conn.execute("SELECT data FROM audit_log")]
        stored_messages = {row[0] for row in conn.execute("SELECT id FROM outbox")}
    audited = "\n".join(audit_data)
    return (sum(1 for a in alarms if a in stored_alarms),
            sum(1 for m in markers if f'"{m}"' in audited),
            sum(1 for m in messages if m in stored_messages))


@pytest.mark.timeout(120)
def test_kill9_loses_nothing_acknowledged_and_leaves_no_process(tmp_path: Path) -> None:
    port = free_port()
    site = write_site(tmp_path / "site", port, SITE.format(agency_port=free_port()))
    added = subprocess.run([sys.executable, "-m", "hacho", "user", "add", "chief", "--role", "admin",
                            "--centre", "main", "--password-stdin",
                            "-c", str(site)], cwd=ROOT, input="a-long-test-password\n", capture_output=True, text=True,
                           timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    created = hacho("token", "create", "-c", str(site), "--name", "ops", "--user", "chief")
    token = created.stdout.strip().splitlines()[-1]
    db = site / "hacho.db"
    totals = {"alarms": [0, 0], "audit": [0, 0], "outbox": [0, 0]}
    leftovers: list[int] = []
    workers = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for run in range(RUNS):
        proc = subprocess.Popen([sys.executable, "-m", "hacho", "run", "-c", str(site)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(f"http://127.0.0.1:{port}/api/", proc, timeout=60)
            assert wait_running(f"http://127.0.0.1:{port}/api/", timeout=60)[1]["state"] == "RUNNING"
            alarms, markers, messages = asyncio.run(_burst(port, token, run))
            children = descendants(proc.pid)
            proc.send_signal(signal.SIGKILL)  # right after the last answer
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        workers += len(children)
        leftovers += survivors(children)
        found = _found(db, alarms, markers, messages)
        for key, acknowledged, stored in zip(totals, (alarms, markers, messages), found, strict=True):
            totals[key][0] += len(acknowledged)
            totals[key][1] += stored
    print(f"kill -9 x{RUNS}: acknowledged/found {totals}; worker processes {workers}, left over {len(leftovers)}")
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    assert all(acknowledged == stored for acknowledged, stored in totals.values()), totals
    assert totals["alarms"][0] == RUNS * RAISES and totals["outbox"][0] > 0
    assert workers >= RUNS  # a tower worker at least (and the resource tracker) ran each time
    assert leftovers == []
