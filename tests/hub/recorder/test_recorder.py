"""Recording: states and events land with their Context, filters, flush on stop, drops, database outages."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from hub.core import Context, EventOrigin, Hub
from hub.exceptions import ConfigError, HubError
from hub.recorder import get_recorder
from hub.recorder.models import EventData, Events, RecorderRuns, StateAttributes, States, StatesMeta
from tests.conftest import free_port

from .conftest import RecorderFactory


def _count(session: Session, model: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


async def test_states_and_events_land_with_context(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder()
    assert get_recorder(hub) is recorder
    assert recorder.connected
    operator = Context(user_id="op_17", centre="ccs_central")
    attrs = {"friendly_name": "Bollard 7", "position": [35.889, -5.316]}
    hub.states.async_set("bollard.b7", "lowered", attrs, context=operator)
    raised = operator.child()
    hub.states.async_set("bollard.b7", "raised", attrs, context=raised)
    hub.states.async_set("sensor.temp", "21.5")
    hub.bus.async_fire("bollard_command", {"bollard": "b7", "command": "raise"}, context=operator)
    hub.bus.async_fire("bollard_command", {"bollard": "b7", "command": "raise"}, origin=EventOrigin.remote)
    assert await recorder.async_flush() is True

    def _read(session: Session) -> dict[str, Any]:
        states = session.execute(
            select(StatesMeta.entity_id, States.state, States.context_id, States.context_user_id,
                   States.context_parent_id, States.context_centre, States.attributes_id)
            .join(StatesMeta, States.metadata_id == StatesMeta.metadata_id)
            .order_by(States.state_id)
        ).all()
        events = session.execute(
            select(Events.event_type, Events.context_id, Events.context_user_id, Events.context_centre,
                   Events.origin_idx, EventData.shared_data)
            .join(EventData, Events.data_id == EventData.data_id)
            .where(Events.event_type == "bollard_command").order_by(Events.event_id)
        ).all()
        return {"states": states, "events": events, "attrs": _count(session, StateAttributes),
                "data": _count(session, EventData)}

    rows = await recorder.async_db_job(_read)
    states = rows["states"]
    assert [(s.entity_id, s.state) for s in states] == [
        ("bollard.b7", "lowered"), ("bollard.b7", "raised"), ("sensor.temp", "21.5")
    ]
    first, second, temp = states
    who = (operator.id, "op_17", "ccs_central")
    assert (first.context_id, first.context_user_id, first.context_centre) == who
    assert first.context_parent_id is None
    assert (second.context_id, second.context_parent_id) == (raised.id, operator.id)
    # identical attributes are stored once; a state without attributes references none
    assert first.attributes_id == second.attributes_id is not None
    assert temp.attributes_id is None
    assert rows["attrs"] == 1
    local, remote = rows["events"]
    assert (local.context_id, local.context_user_id, local.context_centre) == who
    assert (local.origin_idx, remote.origin_idx) == (0, 1)
    assert '"command":"raise"' in local.shared_data
    # identical event data is stored once
    assert rows["data"] >= 1
    assert await recorder.async_db_job(
        lambda s: s.execute(select(func.count(func.distinct(Events.data_id)))
                            .where(Events.event_type == "bollard_command")).scalar_one()
    ) == 1


async def test_state_changes_are_not_duplicated_into_events(hub: Hub,
                                                            setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder()
    hub.states.async_set("light.pier", "on")
    await recorder.async_flush()
    assert await recorder.async_db_job(
        lambda s: s.execute(select(func.count()).select_from(Events)
                            .where(Events.event_type == "state_changed")).scalar_one()
    ) == 0


async def test_exclude_and_include_rules(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder(
        include={"entities": ["sensor.keep"]},
        exclude={"domains": ["sensor"], "entity_globs": ["light.test_*"], "event_types": ["noisy_event"]},
    )
    for entity_id in ("sensor.keep", "sensor.drop", "light.test_lamp", "light.street_1"):
        hub.states.async_set(entity_id, "1")
    hub.bus.async_fire("noisy_event")
    hub.bus.async_fire("anpr_plate_read", {"camera": "border_1"})
    await recorder.async_flush()
    recorded = await recorder.async_db_job(
        lambda s: set(s.execute(select(StatesMeta.entity_id)).scalars())
    )
    assert recorded == {"sensor.keep", "light.street_1"}
    types = {e["event_type"] for e in await recorder.async_get_events()}
    assert "anpr_plate_read" in types
    assert "noisy_event" not in types


async def test_include_only_records_only_matches(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder(
        include={"domains": ["bollard"], "entity_globs": ["sensor.gate_*"],
                 "event_types": ["anpr_plate_read"]},
    )
    for entity_id in ("bollard.b1", "sensor.gate_2", "sensor.temp", "light.a"):
        hub.states.async_set(entity_id, "1")
    hub.bus.async_fire("anpr_plate_read", {"camera": "border_1"})
    hub.bus.async_fire("thermal_fire_detected")
    await recorder.async_flush()
    recorded = await recorder.async_db_job(lambda s: set(s.execute(select(StatesMeta.entity_id)).scalars()))
    assert recorded == {"bollard.b1", "sensor.gate_2"}
    assert [e["event_type"] for e in await recorder.async_get_events()] == ["anpr_plate_read"]


async def test_excluding_state_changed_records_no_states(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder(exclude={"event_types": ["state_changed"]})
    hub.states.async_set("light.a", "on")
    hub.bus.async_fire("panel_message_set", {"panel": "p1"})
    await recorder.async_flush()
    assert await recorder.async_db_job(lambda s: _count(s, States)) == 0
    assert [e["event_type"] for e in await recorder.async_get_events()] == ["panel_message_set"]


async def test_stop_flushes_everything_and_closes_the_run(hub: Hub, setup_recorder: RecorderFactory,
                                                          db_url: str) -> None:
    recorder = await setup_recorder()  # 1 h commit interval: only the stop writes these
    for i in range(250):
        hub.states.async_set(f"sensor.s{i % 10}", str(i))
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho"})
    await hub.async_stop()
    assert not recorder.is_running
    with pytest.raises(HubError):
        await recorder.async_flush()

    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            assert _count(session, States) == 250
            types = set(session.execute(select(Events.event_type)).scalars())
            assert {"thermal_fire_detected", "hub_stop"} <= types
            runs = session.execute(select(RecorderRuns)).scalars().all()
            assert len(runs) == 1
            assert runs[0].end_ts is not None
            assert runs[0].closed_incorrect is False
    finally:
        engine.dispose()


async def test_commits_on_the_interval_without_a_flush(hub: Hub, setup_recorder: RecorderFactory,
                                                       db_url: str) -> None:
    await setup_recorder(commit_interval=0.05)
    hub.states.async_set("sensor.gate_1", "open")
    engine = create_engine(db_url)
    try:
        deadline = hub.loop.time() + 10
        count = 0
        while hub.loop.time() < deadline:
            with engine.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM states")).scalar_one()
            if count:
                break
            await hub.async_add_executor_job(lambda: None)  # let the loop turn without a fixed sleep
        assert count == 1
    finally:
        engine.dispose()


async def test_db_job_commits_and_rolls_back(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder()
    hub.states.async_set("light.a", "on")

    def _sees_pending_state(session: Session) -> int:
        return _count(session, States)

    assert await recorder.async_db_job(_sees_pending_state) == 1  # queued rows are written first

    def _fails(session: Session) -> None:
        session.add(StatesMeta(entity_id="sensor.ghost"))
        session.flush()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await recorder.async_db_job(_fails)
    ghosts = await recorder.async_db_job(
        lambda s: s.execute(select(StatesMeta).where(StatesMeta.entity_id == "sensor.ghost")).all()
    )
    assert ghosts == []
    hub.states.async_set("light.a", "off")  # the recorder keeps working after a failed job
    await recorder.async_flush()
    assert await recorder.async_db_job(_sees_pending_state) == 2


async def test_a_row_the_database_refuses_costs_only_that_row(hub: Hub, setup_recorder: RecorderFactory,
                                                              db_url: str) -> None:
    recorder = await setup_recorder()
    for i in range(20):
        hub.states.async_set("sensor.count", str(i))
    hub.states.async_set("panel.p1", "FIRE\x00EXIT")  # PostgreSQL text cannot hold NUL; SQLite can
    hub.bus.async_fire("panel_message_set", {"panel": "p1"})
    assert await recorder.async_flush() is True
    history = await recorder.async_get_history(["sensor.count", "panel.p1"], 0)
    assert [s.state for s in history["sensor.count"]] == [str(i) for i in range(20)]
    assert [e["data"] for e in await recorder.async_get_events(["panel_message_set"])] == [{"panel": "p1"}]
    if db_url.startswith("postgresql"):
        assert history["panel.p1"] == []
        assert recorder.dropped_events == 1
    else:
        assert [s.state for s in history["panel.p1"]] == ["FIRE\x00EXIT"]
    hub.states.async_set("panel.p1", "EXIT")  # and recording goes on
    assert await recorder.async_flush() is True
    assert [s.state for s in (await recorder.async_get_history(["panel.p1"], 0))["panel.p1"]][-1] == "EXIT"


async def test_full_queue_drops_and_logs_once(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    from hub.recorder import async_setup_recorder

    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    with caplog.at_level(logging.WARNING, logger="hub.recorder"):
        recorder = await async_setup_recorder(hub, {"db_url": url, "max_queue": 100})
        for i in range(1000):  # one burst: the loop never yields, the thread cannot take more than 2 x 100
            hub.states.async_set("sensor.flood", str(i))
    assert recorder.dropped_events >= 800
    assert sum("queue is full" in r.getMessage() for r in caplog.records) == 1
    assert recorder.queue_size <= 200


async def test_unreachable_database_does_not_stop_the_hub(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    from hub.recorder import async_setup_recorder

    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{free_port()}/test"
    recorder = await async_setup_recorder(hub, {"db_url": url})
    assert recorder.is_running
    assert not recorder.connected
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("cannot use database" in message for message in errors)
    assert not any("secret" in message for message in errors)  # the password stays out of the log
    hub.states.async_set("light.a", "on")  # the loop is unaffected
    assert hub.states.get("light.a").state == "on"  # type: ignore[union-attr]
    assert await recorder.async_flush() is False
    with pytest.raises(HubError, match="not available"):
        await recorder.async_get_history(["light.a"], 0)
    await hub.async_stop()
    assert not recorder.is_running


async def test_rows_survive_a_connection_killed_mid_write(hub: Hub, pg_schema_url: str) -> None:
    """The recorder's connection dies while it waits to insert: the rows are kept, it reconnects,
    and the next flush writes them."""
    from hub.recorder import async_setup_recorder

    recorder = await async_setup_recorder(hub, {"db_url": pg_schema_url, "commit_interval": 3600})
    admin = create_engine(pg_schema_url)
    locker = admin.connect()
    try:
        hub.states.async_set("light.a", "on")
        assert await recorder.async_flush()
        pid = await recorder.async_db_job(lambda s: s.execute(text("SELECT pg_backend_pid()")).scalar_one())
        await hub.async_add_executor_job(
            lambda: locker.execute(text("LOCK TABLE states IN ACCESS EXCLUSIVE MODE"))
        )
        hub.states.async_set("light.a", "off")
        flush = hub.async_create_task(recorder.async_flush())

        def _kill_when_waiting() -> bool:
            with admin.connect() as conn:
                for _ in range(500):
                    waiting = conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock'"
                    ), {"pid": pid}).scalar_one()
                    if waiting:
                        killed = conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                        return bool(killed.scalar())
                    conn.rollback()
                    time.sleep(0.01)
            return False

        assert await hub.async_add_executor_job(_kill_when_waiting)
        await hub.async_add_executor_job(locker.rollback)
        assert await flush is False
        assert not recorder.connected
        assert await recorder.async_flush() is True  # reconnected; the kept row is written
        history = await recorder.async_get_history(["light.a"], 0)
        assert [s.state for s in history["light.a"]] == ["on", "off"]
    finally:
        locker.close()
        admin.dispose()
        await hub.async_stop()  # before the schema is dropped


async def test_invalid_config_names_the_key(hub: Hub) -> None:
    from hub.recorder import async_setup_recorder

    with pytest.raises(ConfigError, match="commit_interval"):
        await async_setup_recorder(hub, {"commit_interval": "soon"})
    with pytest.raises(ConfigError, match="db_url"):
        await async_setup_recorder(hub, {"db_url": "hacho.db"})


async def test_default_database_is_sqlite_in_the_config_dir(hub: Hub) -> None:
    from hub.recorder import async_setup_recorder

    recorder = await async_setup_recorder(hub, None)
    assert recorder.db_url == f"sqlite:///{hub.path('hacho.db')}"
    assert recorder.commit_interval == 1.0
    assert recorder.connected

    def _pragmas(session: Session) -> tuple[str, int]:
        mode = session.execute(text("PRAGMA journal_mode")).scalar_one()
        sync = session.execute(text("PRAGMA synchronous")).scalar_one()
        return mode, sync

    assert await recorder.async_db_job(_pragmas) == ("wal", 1)  # 1 = NORMAL
    assert hub.path("hacho.db").exists()
