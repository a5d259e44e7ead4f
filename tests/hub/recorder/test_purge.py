"""Retention: default keep_days, per-domain limits, the purge service and the nightly purge."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.clock import FakeClock
from hub.core import Hub
from hub.recorder import PurgeResult, Recorder, async_setup_recorder
from hub.recorder.models import EventData, StateAttributes

from .conftest import RecorderFactory

DAY = 86_400.0


def _days_ago(hub: Hub, days: float) -> float:
    return hub.clock.time() - days * DAY


async def _recorded(recorder: Recorder, entity_ids: list[str]) -> dict[str, list[str]]:
    history = await recorder.async_get_history(entity_ids, 0, include_start_state=False)
    return {entity_id: [s.state for s in states] for entity_id, states in history.items()}


async def test_purge_honours_per_domain_retention(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder(purge_keep_days=30, purge_keep_days_by_domain={"anpr": 7})
    set_state = hub.states.async_set
    set_state("sensor.temp", "old", {"unit": "C", "n": 1}, timestamp=_days_ago(hub, 40))
    set_state("sensor.temp", "recent", {"unit": "C"}, timestamp=_days_ago(hub, 10))
    set_state("anpr.border_1", "1234ABC", {"lane": 1}, timestamp=_days_ago(hub, 10))
    set_state("anpr.border_1", "5678DEF", {"lane": 1}, timestamp=_days_ago(hub, 1))
    hub.bus.async_fire("anpr_plate_read", {"plate": "1234ABC"}, time_fired=_days_ago(hub, 10))
    hub.bus.async_fire("anpr_plate_read", {"plate": "5678DEF"}, time_fired=_days_ago(hub, 1))
    hub.bus.async_fire("door_opened", {"door": "d1"}, time_fired=_days_ago(hub, 10))
    hub.bus.async_fire("door_opened", {"door": "d0"}, time_fired=_days_ago(hub, 40))

    response = await hub.services.async_call("recorder", "purge", {}, return_response=True)
    assert response == {"states": 2, "events": 2, "by_domain": {"anpr": 2}}
    assert await _recorded(recorder, ["sensor.temp", "anpr.border_1"]) == {
        "sensor.temp": ["recent"], "anpr.border_1": ["5678DEF"],
    }
    events = await recorder.async_get_events(["anpr_plate_read", "door_opened"])
    assert [e["data"] for e in events] == [{"door": "d1"}, {"plate": "5678DEF"}]

    def _documents(session: Session) -> tuple[list[str], list[str]]:
        attrs = list(session.execute(select(StateAttributes.shared_attrs)).scalars())
        data = list(session.execute(select(EventData.shared_data)).scalars())
        return sorted(attrs), sorted(data)

    attrs, data = await recorder.async_db_job(_documents)
    assert '{"n":1,"unit":"C"}' not in attrs  # orphaned documents went with their rows
    assert len(attrs) == 2
    assert not any("1234ABC" in doc or '"d0"' in doc for doc in data)


async def test_purge_service_keep_days_cannot_extend_a_domain_limit(hub: Hub,
                                                                    setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder(purge_keep_days_by_domain={"anpr": 7})
    hub.states.async_set("sensor.temp", "9d", timestamp=_days_ago(hub, 9))
    hub.states.async_set("anpr.border_1", "8d", timestamp=_days_ago(hub, 8))
    hub.states.async_set("sensor.temp", "1d", timestamp=_days_ago(hub, 1))
    await hub.services.async_call("recorder", "purge", {"keep_days": 5})
    assert await _recorded(recorder, ["sensor.temp", "anpr.border_1"]) == {
        "sensor.temp": ["1d"], "anpr.border_1": [],
    }
    await hub.services.async_call("recorder", "purge", {"keep_days": 30})
    assert await _recorded(recorder, ["sensor.temp"]) == {"sensor.temp": ["1d"]}


async def test_purge_in_batches_deletes_everything_expired(hub: Hub, setup_recorder: RecorderFactory,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import hub.recorder.core as recorder_core

    batches: list[int] = []
    real = recorder_core.purge_batch

    def _small_batches(session: Session, now_ts: float, keep_days: int, by_domain: Mapping[str, int],
                       result: PurgeResult) -> bool:
        batches.append(1)
        return real(session, now_ts, keep_days, by_domain, result, batch=7)

    monkeypatch.setattr(recorder_core, "purge_batch", _small_batches)
    recorder = await setup_recorder()
    for i in range(40):
        hub.states.async_set(f"sensor.s{i % 4}", str(i), {"i": i}, timestamp=_days_ago(hub, 60) + i)
    hub.states.async_set("sensor.s0", "fresh")
    result = await recorder.async_purge()
    assert result.states == 40
    assert len(batches) >= 40 // 7
    assert await _recorded(recorder, ["sensor.s0", "sensor.s1"]) == {"sensor.s0": ["fresh"], "sensor.s1": []}
    assert await recorder.async_db_job(
        lambda s: s.execute(select(func.count()).select_from(StateAttributes)).scalar_one()
    ) == 0


async def test_nightly_auto_purge_runs_at_night(config_dir: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    hub = Hub(config_dir, clock=clock)
    await hub.async_start()
    recorder = await async_setup_recorder(hub, {"commit_interval": 3600, "purge_keep_days": 30})
    try:
        hub.states.async_set("sensor.temp", "ancient", timestamp=clock.time() - 31 * DAY)
        hub.states.async_set("sensor.temp", "now", timestamp=clock.time())
        assert await _recorded(recorder, ["sensor.temp"]) == {"sensor.temp": ["ancient", "now"]}
        await clock.async_advance_to(datetime(2026, 3, 2, 4, 11, tzinfo=UTC))
        await hub.async_block_till_done()
        assert await _recorded(recorder, ["sensor.temp"]) == {"sensor.temp": ["ancient", "now"]}
        await clock.async_advance(120)
        await hub.async_block_till_done()
        assert await _recorded(recorder, ["sensor.temp"]) == {"sensor.temp": ["now"]}
    finally:
        await hub.async_stop()


async def test_auto_purge_can_be_disabled(fake_hub: Hub, fake_clock: FakeClock) -> None:
    recorder = await async_setup_recorder(fake_hub, {"auto_purge": False, "purge_keep_days": 1})
    fake_hub.states.async_set("sensor.temp", "old", timestamp=fake_clock.time() - 3 * DAY)
    await fake_clock.async_advance(2 * DAY)
    await fake_hub.async_block_till_done()
    assert await _recorded(recorder, ["sensor.temp"]) == {"sensor.temp": ["old"]}
