"""Durable acknowledgements: alarm.raise calls per second when each answers only after its commit.

    python -m bench.durable                  # 1000 raises, 32 concurrent callers, SQLite, in this process
    python -m bench.durable --raises 3000 --callers 64

Each call goes through the service registry (permission hook, audit barrier, the alarm service) and returns
once the alarm's row is committed; many callers share one commit (group commit). Prints JSON at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from hub.core import Context, Hub
from hub.recorder import async_setup_recorder
from hub.setup import async_get_setup_manager

__all__ = ["async_measure"]


async def async_measure(raises: int, callers: int) -> dict[str, float]:
    """Raise `raises` alarms from `callers` concurrent callers on a fresh SQLite site; the rate and the count stored."""
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp))
        await async_setup_recorder(hub, {"commit_interval": 1.0})
        await async_get_setup_manager(hub).async_setup_all({"alarm": {"types": [{"id": "intrusion"}]}})
        await hub.async_start()
        left = list(range(raises))

        async def caller() -> None:
            while left:
                left.pop()
                await hub.services.async_call("alarm", "raise", {"type": "intrusion"}, context=Context(),
                                              return_response=True)

        start = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(callers)))
        elapsed = time.perf_counter() - start
        await hub.async_stop()
    return {"raises": raises, "callers": callers, "seconds": round(elapsed, 3),
            "acknowledged_per_s": round(raises / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raises", type=int, default=1000)
    parser.add_argument("--callers", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(async_measure(args.raises, args.callers))))


if __name__ == "__main__":
    main()
