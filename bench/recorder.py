"""Recorder benchmark: state rows/s from the first write to the last commit, and the worst loop stall."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hub.core import Context, Hub
from hub.recorder import async_setup_recorder
from hub.recorder.models import States

__all__ = ["async_measure_recorder", "measure_recorder"]

DEFAULT_SQLITE = "sqlite"  # a fresh file in a temporary directory
ENTITIES = 200
CHUNK = 100  # state writes per loop iteration, then the loop gets control back


@asynccontextmanager
async def _database(db_url: str, tmp: str) -> AsyncIterator[str]:
    """A fresh database for one run: a temp SQLite file, or a throw-away PostgreSQL schema."""
    if db_url == DEFAULT_SQLITE:
        yield f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        return
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        yield db_url
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url.set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


async def async_measure_recorder(db_url: str = DEFAULT_SQLITE, n: int = 20_000,
                                 commit_interval: float = 1.0) -> dict[str, Any]:
    """Write `n` state changes through a real hub and recorder; report rows/s and the loop's worst stall.

    rows/s (`rate`) counts from the first `async_set` to the commit of the last row
    (`async_flush`), after a 1,000-row warm-up. The stall is measured by a sentinel task asking
    to wake every 1 ms: its lateness is the time the loop was busy or blocked (the producer's
    own chunks of 100 writes included); the longest garbage-collector pass is reported beside it.
    """
    with tempfile.TemporaryDirectory(prefix="hacho-bench-") as tmp:
        async with _database(db_url, tmp) as url:
            hub = Hub(tmp)
            await hub.async_start()
            recorder = await async_setup_recorder(
                hub, {"db_url": url, "commit_interval": commit_interval, "auto_purge": False}
            )
            if not recorder.connected:
                await hub.async_stop()
                raise RuntimeError(f"recorder could not connect to {db_url}")
            entity_ids = [f"sensor.bench_{i}" for i in range(ENTITIES)]
            attributes = [{"unit_of_measurement": "°C", "friendly_name": f"Bench {i}"}
                          for i in range(ENTITIES)]
            context = Context(user_id="bench", centre="bench")
            set_state = hub.states.async_set
            sequence = 0

            async def burst(count: int) -> float:
                nonlocal sequence
                for base in range(0, count, CHUNK):
                    for _ in range(min(CHUNK, count - base)):
                        slot = sequence % ENTITIES
                        set_state(entity_ids[slot], str(sequence), attributes[slot], context=context)
                        sequence += 1
                    await asyncio.sleep(0)
                return time.perf_counter()

            await burst(1000)
            await recorder.async_flush()
            gc.collect()
            gc_pauses: list[float] = []
            gc_started = 0.0

            def _gc_probe(phase: str, _info: dict[str, Any]) -> None:
                nonlocal gc_started
                if phase == "start":
                    gc_started = time.perf_counter()
                else:
                    gc_pauses.append(time.perf_counter() - gc_started)

            gc.callbacks.append(_gc_probe)
            stalls: list[float] = []
            running = True

            async def _sentinel() -> None:
                clock = time.perf_counter
                while running:
                    start = clock()
                    await asyncio.sleep(0.001)
                    stalls.append(clock() - start - 0.001)

            sentinel = asyncio.create_task(_sentinel())
            await asyncio.sleep(0.01)
            stalls.clear()
            started = time.perf_counter()
            cpu_started = time.process_time()
            produced = await burst(n)
            await recorder.async_flush()
            committed = time.perf_counter()
            cpu = time.process_time() - cpu_started
            running = False
            await sentinel
            gc.callbacks.remove(_gc_probe)
            rows = await recorder.async_db_job(
                lambda session: session.execute(select(func.count()).select_from(States)).scalar_one()
            )
            dropped = recorder.dropped_events
            await hub.async_stop()
    elapsed = committed - started
    ordered = sorted(stalls)
    return {
        "db": make_url(url).get_backend_name(),
        "n": n,
        "rate": round(n / elapsed, 1),
        "seconds": round(elapsed, 4),
        "produce_s": round(produced - started, 4),
        # CPU seconds of this process (loop + recorder thread) for the run: steadier than wall
        # time on a shared machine
        "cpu_s": round(cpu, 4),
        "rows_per_cpu_s": round(n / cpu, 1) if cpu else 0.0,
        "commit_interval_s": commit_interval,
        "max_loop_stall_ms": round(max(ordered, default=0.0) * 1000, 3),
        "p99_loop_stall_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 3) if ordered else 0.0,
        "gc_max_pause_ms": round(max(gc_pauses, default=0.0) * 1000, 3),
        "rows_in_db": rows,
        "dropped": dropped,
    }


def measure_recorder(db_url: str = DEFAULT_SQLITE, n: int = 20_000, commit_interval: float = 1.0) -> dict[str, Any]:
    """Synchronous wrapper: runs `async_measure_recorder` in a fresh event loop (not from inside a loop)."""
    return asyncio.run(async_measure_recorder(db_url, n, commit_interval))


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.recorder [--db-url URL] [--n N] [--commit-interval S]`: prints one JSON object.

    --db-url defaults to a fresh SQLite file; a PostgreSQL URL gets a throw-away schema.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--db-url", default=DEFAULT_SQLITE)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--commit-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = measure_recorder(args.db_url, args.n, args.commit_interval)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
