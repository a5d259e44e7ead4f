"""Retention: closed alarms go with their timelines after `keep_closed_days`; open ones never do."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from hub.clock import FakeClock
from integrations.alarm.retention import FIRST_PURGE_DELAY, async_purge_closed_alarms

from .conftest import ALARM_CONFIG, OP_L, start_site

DAY = 86400


def _count(db_url: str, table: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


async def test_closed_alarms_are_purged_after_their_retention(config_dir: Path, db_url: str,
                                                              fake_clock: FakeClock) -> None:
    site = await start_site(config_dir, db_url, fake_clock, {**ALARM_CONFIG, "keep_closed_days": 30})
    try:
        old = await site.call("raise", {"type": "door_open", "centre": "local_police"})
        still_open = await site.call("raise", {"type": "intrusion", "centre": "local_police"})
        for service in ("acknowledge", "resolve", "close"):
            await site.call(service, {"alarm_id": old["alarm_id"]}, OP_L)
        await fake_clock.async_advance(20 * DAY)
        recent = await site.call("raise", {"type": "door_open", "centre": "local_police", "dedup_key": "b"})
        for service in ("acknowledge", "resolve", "close"):
            await site.call(service, {"alarm_id": recent["alarm_id"]}, OP_L)

        await fake_clock.async_advance(11 * DAY)  # the first is 31 days closed, the second 11
        await site.hub.async_block_till_done()
        assert await site.manager.async_get(old["alarm_id"]) is None
        assert await site.manager.async_get(recent["alarm_id"]) is not None
        assert await site.manager.async_get(still_open["alarm_id"]) is not None  # 31 days old, but open

        # nothing more to purge: a second run deletes nothing
        assert await async_purge_closed_alarms(site.hub, site.manager.store, 30) == 0  # type: ignore[arg-type]
    finally:
        await site.hub.async_stop()
    assert _count(db_url, "alarms") == 2
    assert _count(db_url, f"alarm_timeline WHERE alarm_id = '{old['alarm_id']}'") == 0
    assert _count(db_url, f"alarm_timeline WHERE alarm_id = '{recent['alarm_id']}'") == 4


async def test_purge_goes_in_batches(config_dir: Path, db_url: str, fake_clock: FakeClock) -> None:
    site = await start_site(config_dir, db_url, fake_clock, {**ALARM_CONFIG, "keep_closed_days": 0})
    try:
        for n in range(7):
            raised = await site.call("raise", {"type": "door_open", "centre": "local_police", "dedup_key": str(n)})
            for service in ("acknowledge", "resolve", "close"):
                await site.call(service, {"alarm_id": raised["alarm_id"]}, OP_L)
        await fake_clock.async_advance(FIRST_PURGE_DELAY + 1)
        await site.hub.async_block_till_done()
        store = site.manager.store
        assert store is not None
        assert _count(db_url, "alarms") == 7  # keep_closed_days: 0 keeps them for ever (no timer)
        assert await store.async_purge_closed(fake_clock.time(), batch=3) == 7
    finally:
        await site.hub.async_stop()
    assert _count(db_url, "alarms") == 0 and _count(db_url, "alarm_timeline") == 0
